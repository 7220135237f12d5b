"""Output formats, named as the ElevenLabs API names them (``mp3_44100_128``, ``pcm_16000``, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Codec(StrEnum):
    MP3 = "mp3"
    PCM = "pcm"
    ULAW = "ulaw"
    ALAW = "alaw"
    OPUS = "opus"
    WAV = "wav"


# Every combination ElevenLabs accepts, plus ``wav_<rate>`` as a convenience of Songy's own.
_SUPPORTED: dict[Codec, set[tuple[int, int | None]]] = {
    Codec.MP3: {(22050, 32), (24000, 48), (44100, 32), (44100, 64), (44100, 96), (44100, 128), (44100, 192)},
    Codec.PCM: {(r, None) for r in (8000, 16000, 22050, 24000, 32000, 44100, 48000)},
    Codec.ULAW: {(8000, None)},
    Codec.ALAW: {(8000, None)},
    Codec.OPUS: {(48000, k) for k in (32, 64, 96, 128, 192)},
    Codec.WAV: {(r, None) for r in (8000, 16000, 22050, 24000, 32000, 44100, 48000)},
}

_CONTENT_TYPES: dict[Codec, str] = {
    Codec.MP3: "audio/mpeg",
    Codec.PCM: "audio/L16",
    Codec.ULAW: "audio/basic",
    Codec.ALAW: "audio/x-alaw-basic",
    Codec.OPUS: "audio/ogg",
    Codec.WAV: "audio/wav",
}

_PATTERN = re.compile(r"(?P<codec>[a-z0-9]+)_(?P<rate>[0-9]+)(?:_(?P<kbps>[0-9]+))?")  # ASCII digits, whole name


@dataclass(frozen=True, order=True)
class OutputFormat:
    """A parsed output format: codec, sample rate and (for lossy codecs) bitrate in kbps."""

    codec: Codec
    sample_rate: int
    bitrate_kbps: int | None = None

    @classmethod
    def parse(cls, name: str) -> OutputFormat:
        """Parse a format name; raises ``ValueError`` naming the problem when it is not supported."""
        match = _PATTERN.fullmatch(name)
        if match is None:
            raise ValueError(f"unknown output format {name!r}")
        try:
            codec = Codec(match["codec"])
        except ValueError:
            raise ValueError(f"unknown codec in output format {name!r}") from None
        rate = int(match["rate"])
        kbps = int(match["kbps"]) if match["kbps"] else None
        if (rate, kbps) not in _SUPPORTED[codec]:
            raise ValueError(f"unsupported output format {name!r}")
        parsed = cls(codec, rate, kbps)
        if parsed.name != name:  # only the exact name: no leading zeros, no lookalike digits, nothing around it
            raise ValueError(f"unknown output format {name!r}; did you mean {parsed.name!r}?")
        return parsed

    @property
    def name(self) -> str:
        suffix = f"_{self.bitrate_kbps}" if self.bitrate_kbps is not None else ""
        return f"{self.codec.value}_{self.sample_rate}{suffix}"

    @property
    def extension(self) -> str:
        return self.codec.value

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self.codec]

    def __str__(self) -> str:
        return self.name


def supported_format_names() -> list[str]:
    """All format names the service accepts, sorted."""
    return sorted(OutputFormat(codec, rate, kbps).name for codec, combos in _SUPPORTED.items() for rate, kbps in combos)


DEFAULT_OUTPUT_FORMAT = OutputFormat(Codec.MP3, 44100, 128)
