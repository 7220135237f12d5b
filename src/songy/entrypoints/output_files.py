"""Files the CLI writes (``songy demo -o``, ``songy synth -o``): the format follows the file name, a mismatch is
refused, and the path is checked before any work starts."""

from __future__ import annotations

import os
from pathlib import Path

from songy.domain.formats import Codec, OutputFormat

# file extension -> the codec written into it, and the format used when none is asked
EXTENSIONS: dict[str, tuple[Codec, str]] = {
    "mp3": (Codec.MP3, "mp3_44100_128"),
    "wav": (Codec.WAV, "wav_44100"),
    "opus": (Codec.OPUS, "opus_48000_128"),
    "ogg": (Codec.OPUS, "opus_48000_128"),
    "pcm": (Codec.PCM, "pcm_44100"),
    "raw": (Codec.PCM, "pcm_44100"),
    "ulaw": (Codec.ULAW, "ulaw_8000"),
    "alaw": (Codec.ALAW, "alaw_8000"),
}
DEFAULT_FORMAT = "mp3_44100_128"


def output_format(out: Path, asked: str | None) -> OutputFormat:
    """The format to write into ``out``: ``asked`` if given, else the one its extension names (MP3 without one).
    Raises ``ValueError`` saying what to do when the name and the format disagree, or the extension is not
    one Songy writes."""
    extension = out.suffix.lstrip(".").lower()
    known = EXTENSIONS.get(extension)
    if extension and known is None:
        choices = ", ".join(f".{e}" for e in EXTENSIONS)
        raise ValueError(f"cannot write {out.name}: .{extension} is not a format Songy writes (use {choices})")
    fmt = OutputFormat.parse(asked or (known[1] if known else DEFAULT_FORMAT))
    if known and known[0] is not fmt.codec:
        raise ValueError(
            f"{out.name} names a .{extension} file but --format {fmt.name} writes {fmt.codec.value.upper()}: "
            f"use -o {out.stem}.{fmt.extension}, or --format {known[1]}"
        )
    return fmt


def check_writable(out: Path) -> None:
    """Raise ``ValueError`` when ``out`` cannot be written (no such directory, not writable, a directory)."""
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ValueError(f"cannot write {out}: it is a directory")
    if not parent.is_dir():
        raise ValueError(f"cannot write {out}: no directory {parent}")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ValueError(f"cannot write {out}: permission denied")
