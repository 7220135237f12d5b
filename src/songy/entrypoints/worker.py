"""``songy worker``: consume ``generate-music`` jobs from Redis until SIGTERM/SIGINT, then finish in-flight ones."""

from __future__ import annotations

import asyncio
import logging
import signal

from songy.container import Container
from songy.entrypoints.runtime import Runtime

log = logging.getLogger(__name__)


async def run_worker(container: Container) -> None:
    """Run until a termination signal; unacknowledged jobs of a killed worker are redelivered by Redis."""
    runtime = Runtime(container, consume_jobs=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    log.info("worker consuming queue music-generation")
    try:
        await stop.wait()
    finally:
        log.info("worker stopping")
        await runtime.stop()
