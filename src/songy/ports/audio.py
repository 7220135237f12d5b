"""The audio generator port: a prompt and parameters in, a stream of encoded audio bytes out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from songy.domain.formats import OutputFormat


@dataclass(frozen=True)
class AudioSpec:
    """What to render."""

    prompt: str
    length_ms: int
    output_format: OutputFormat
    model_id: str
    seed: int | None = None


class AudioGenerator(Protocol):
    def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        """Yield the encoded audio in chunks.

        Raises :class:`songy.domain.errors.TransientGenerationError` or
        :class:`~songy.domain.errors.PermanentGenerationError`, possibly after some chunks.
        """
        ...


class Transcoder(Protocol):
    async def transcode(self, data: bytes, source: OutputFormat, target: OutputFormat) -> bytes:
        """Re-encode ``data`` from ``source`` to ``target`` (resampling as needed)."""
        ...
