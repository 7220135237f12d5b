"""An audio generator that plays a script: chunks to yield, or errors to raise, one call after another."""

from __future__ import annotations

from collections.abc import AsyncIterator

from songy.ports.audio import AudioSpec


class ScriptedAudioGenerator:
    """Each call takes the next step of ``script``: an exception to raise (after ``chunks_before_error``
    chunks) or ``None`` for success. Past the script's end every call succeeds."""

    def __init__(
        self, script: list[Exception | None] | None = None, chunk: bytes = b"\xff\xfb" * 512, chunks: int = 4
    ) -> None:
        self.script = list(script or [])
        self.chunk = chunk
        self.chunks = chunks
        self.chunks_before_error = 1
        self.calls: list[AudioSpec] = []

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        self.calls.append(spec)
        step = self.script.pop(0) if self.script else None
        if step is not None:
            for _ in range(self.chunks_before_error):
                yield self.chunk
            raise step
        for _ in range(self.chunks):
            yield self.chunk
