"""An audio generator that plays a script: real audio to yield, or errors to raise, one call after another."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

import numpy as np

from songy.adapters.codecs import encode
from songy.domain.formats import OutputFormat
from songy.ports.audio import EXACT, AudioSpec, OutputTolerance


@lru_cache(maxsize=32)
def silence(fmt: OutputFormat, length_ms: int) -> bytes:
    """``length_ms`` of silence encoded as ``fmt``: what a generator must store to pass the output check."""
    return b"".join(encode(np.zeros((round(length_ms * fmt.sample_rate / 1000), 2), np.float32), fmt))


class ScriptedAudioGenerator:
    """Each call takes the next step of ``script``: an exception to raise (after ``chunks_before_error``
    chunks) or ``None`` for success. Past the script's end every call succeeds. The audio is silence of the
    asked length and format, in ``chunks`` pieces."""

    tolerance: OutputTolerance = EXACT

    def __init__(self, script: list[Exception | None] | None = None, chunks: int = 4) -> None:
        self.script = list(script or [])
        self.chunks = chunks
        self.chunks_before_error = 1
        self.calls: list[AudioSpec] = []

    def describe(self, spec: AudioSpec) -> dict[str, Any] | None:
        return None

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        self.calls.append(spec)
        step = self.script.pop(0) if self.script else None
        audio = silence(spec.output_format, spec.length_ms)
        size = -(-len(audio) // self.chunks)
        pieces = [audio[i : i + size] for i in range(0, len(audio), size)]
        if step is not None:
            for piece in pieces[: self.chunks_before_error]:
                yield piece
            raise step
        for piece in pieces:
            yield piece
