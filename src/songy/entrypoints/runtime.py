"""Start and stop what runs behind an entrypoint: migrations, broker, job consumer and background loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from taskiq import InMemoryBroker
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver

from songy.adapters.sql.engine import is_sqlite
from songy.adapters.sql.migrate import upgrade
from songy.adapters.taskiq.broker import register_generation_task
from songy.container import Container

log = logging.getLogger(__name__)


class Runtime:
    """``consume_jobs``: this process also runs generation jobs (the embedded default does; an API process
    in production does not, its ``songy worker`` processes do)."""

    def __init__(
        self, container: Container, *, consume_jobs: bool, run_background: bool = True, metrics: bool = True
    ) -> None:
        self.container = container
        self.consume_jobs = consume_jobs
        self.run_background = run_background
        self.metrics = metrics  # sample the gauges and serve SONGY_METRICS_PORT if set (the API always does)
        self._receiver: asyncio.Task[None] | None = None
        self._finish = asyncio.Event()

    async def start(self) -> None:
        settings = self.container.settings()
        if settings.resolved_auto_migrate:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(upgrade, settings.resolved_database_url)
        await self.container.event_bus().start()
        broker = self.container.broker()
        register_generation_task(broker, self.container.process_generation())
        if self.consume_jobs and not isinstance(broker, InMemoryBroker):
            broker.is_worker_process = True
        await broker.startup()
        if self.consume_jobs and not isinstance(broker, InMemoryBroker):
            receiver = Receiver(
                broker,
                max_async_tasks=settings.worker_concurrency,
                run_startup=False,
                ack_type=AcknowledgeType.WHEN_EXECUTED,
                wait_tasks_timeout=settings.worker_shutdown_grace_s,
                propagate_exceptions=False,
            )
            self._receiver = asyncio.create_task(receiver.listen(self._finish), name="songy-job-receiver")
        if self.run_background:
            self.container.background().start()
            if not is_sqlite(settings.resolved_database_url):
                self.container.outbox_notifications().start()
        if self.metrics:
            self.container.metrics_sampler().start()
            self.container.metrics_port_server().start()
        log.info("songy runtime started (consume_jobs=%s)", self.consume_jobs)

    async def stop(self) -> None:
        if self.metrics:
            self.container.metrics_port_server().stop()
            await self.container.metrics_sampler().stop()
        if self.run_background:
            await self.container.outbox_notifications().stop()
            await self.container.background().stop()
        broker = self.container.broker()
        if self._receiver is not None:
            # stop taking jobs, let running ones finish within the grace period; the rest stay unacknowledged
            # and Redis hands them to another worker
            self._finish.set()
            try:
                await asyncio.wait_for(self._receiver, timeout=self.container.settings().worker_shutdown_grace_s + 5)
            except (TimeoutError, asyncio.CancelledError):
                self._receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._receiver
        if isinstance(broker, InMemoryBroker):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(broker.wait_all(), timeout=30)
        await broker.shutdown()
        await self.container.event_bus().stop()
        await self.container.engine().dispose()
        log.info("songy runtime stopped")
