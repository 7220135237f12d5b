"""A `songy worker` whose generator answers instantly, so bench/worker.py measures everything but generation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from dependency_injector import providers

from songy.adapters.memory.audio_generator import silence
from songy.container import build_container
from songy.entrypoints.logging_setup import configure_logging
from songy.entrypoints.worker import run_worker
from songy.ports.audio import EXACT, AudioSpec


class InstantGenerator:
    """Silence of the asked length and format, encoded once per (format, length), so it passes the output check."""

    tolerance = EXACT

    def describe(self, spec: object) -> None:
        return None

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        yield silence(spec.output_format, spec.length_ms)


def main() -> None:
    configure_logging(json=False, level="WARNING")
    container = build_container()
    container.audio_generator.override(providers.Object(InstantGenerator()))
    asyncio.run(run_worker(container))


if __name__ == "__main__":
    main()
