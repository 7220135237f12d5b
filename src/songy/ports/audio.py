"""The audio ports: a generator (a prompt and parameters in, encoded audio bytes out), the check of what was
stored before a track completes, and the transcoder of downloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from songy.domain.errors import GenerationError
from songy.domain.formats import OutputFormat


@dataclass(frozen=True)
class AudioSpec:
    """What to render."""

    prompt: str
    length_ms: int
    output_format: OutputFormat
    model_id: str
    seed: int | None = None


@dataclass(frozen=True)
class OutputTolerance:
    """What a generator promises about its output, for the check of the stored object.

    ``length``: how far the decoded length may stray from the asked one, beyond what the codec itself allows
    (zero: exact). ``deterministic``: the same spec gives the same bytes, so a failed check would fail again and
    is permanent; otherwise a truncated, undecodable or wrong-length stream is worth another attempt.
    ``gapless``: its MP3s carry their encoder delay and padding (a LAME/Xing header, as Songy's own encoder writes
    them), so they decode to the exact length; without it a decoder may return up to a frame more.
    """

    length: timedelta = timedelta(0)
    deterministic: bool = True
    gapless: bool = False


EXACT = OutputTolerance(gapless=True)


class AudioGenerator(Protocol):
    @property
    def tolerance(self) -> OutputTolerance:
        """How closely the output matches the spec (see :class:`OutputTolerance`)."""
        ...

    def describe(self, spec: AudioSpec) -> dict[str, Any] | None:
        """What the generator can tell of the track it makes from ``spec`` as JSON-ready data (the status
        ``metadata``: for the synthesizer, its reading of the prompt), or ``None``."""
        ...

    def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        """Yield the encoded audio in chunks.

        Raises :class:`songy.domain.errors.TransientGenerationError` or
        :class:`~songy.domain.errors.PermanentGenerationError`, possibly after some chunks.
        """
        ...


class AudioCheckFailed(GenerationError):
    """The stored object is not what was asked; ``check`` names the check it failed (``decode``, ``empty``,
    ``format``, ``sample rate``, ``bitrate``, ``length``)."""

    def __init__(self, check: str, detail: str, *, transient: bool) -> None:
        super().__init__(f"stored audio failed the {check} check: {detail}")
        self.check = check
        self.transient = transient


class StoredAudioVerifier(Protocol):
    async def verify(self, key: str, spec: AudioSpec, tolerance: OutputTolerance) -> None:
        """Decode the object stored under ``key`` and raise :class:`AudioCheckFailed` unless it is non-empty
        audio of ``spec``'s format (container and codec, sample rate, MP3 bitrate) and length, within what the
        codec and ``tolerance`` allow. Storage faults raise the blob store's :class:`GenerationError`."""
        ...


class Transcoder(Protocol):
    async def transcode(self, data: bytes, source: OutputFormat, target: OutputFormat) -> bytes:
        """Re-encode ``data`` from ``source`` to ``target`` (resampling as needed)."""
        ...
