"""``songy worker``: consume ``generate-music`` jobs from Redis until SIGTERM/SIGINT, then finish in-flight ones."""

from __future__ import annotations

import asyncio
import logging
import signal

from songy.container import Container
from songy.entrypoints.runtime import Runtime

log = logging.getLogger(__name__)
STOP_MARGIN_S = 15.0


async def run_worker(container: Container) -> None:
    """Run until a termination signal; unacknowledged jobs of a killed worker are redelivered by Redis."""
    runtime = Runtime(container, consume_jobs=True, metrics=container.settings().metrics_port is not None)
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
        deadline = container.settings().worker_shutdown_grace_s + STOP_MARGIN_S
        try:
            await asyncio.wait_for(runtime.stop(), deadline)
        except TimeoutError:
            # never hang on SIGTERM: unfinished jobs stay unacknowledged and are redelivered elsewhere
            stuck = [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            log.error("worker did not stop within %.0fs; exiting anyway (tasks: %s)", deadline, stuck)
            raise SystemExit(1) from None
