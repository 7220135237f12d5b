"""Start and stop what runs behind an entrypoint: migrations, broker, job consumer and background loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from taskiq import InMemoryBroker
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver

from songy.adapters.sql.database_check import SchemaOutOfDate
from songy.adapters.sql.engine import is_sqlite
from songy.adapters.sql.migrate import upgrade
from songy.adapters.taskiq.broker import register_generation_task
from songy.container import Container
from songy.domain.backoff import reason

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
        self._hurry = asyncio.Event()

    async def start(self) -> None:
        settings = self.container.settings()
        if settings.resolved_auto_migrate:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(upgrade, settings.resolved_database_url)
        await self._check_schema()
        await self.container.event_bus().start()
        broker = self.container.broker()
        register_generation_task(broker, self.container.held_generation())
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
            await self._recover(in_memory_queue=self.consume_jobs and isinstance(broker, InMemoryBroker))
            self.container.background().start()
            if not is_sqlite(settings.resolved_database_url):
                self.container.outbox_notifications().start()
        if self.metrics:
            self.container.metrics_sampler().start()
            self.container.metrics_port_server().start()
        log.info("songy runtime started (consume_jobs=%s)", self.consume_jobs)

    async def _check_schema(self) -> None:
        """Say at start-up when the database is not at this code's schema (readiness then answers 503 saying the
        same); an unreachable database is the background loops' to report, with their back-off."""
        try:
            await self.container.database_check().check()
        except SchemaOutOfDate as exc:
            log.error("%s; until then /health/ready answers 503 and requests that write fail", exc)
        except Exception:
            pass

    async def _recover(self, *, in_memory_queue: bool) -> None:
        """What a killed predecessor left: its partial uploads, and (when the queue lived in its memory, as on the
        embedded default) the jobs it had queued but not started. Started attempts are reaped once their lease
        runs out. A failure here is logged; the housekeeping passes try again."""
        try:
            removed = await self.container.blob_store().remove_abandoned_uploads()
            if removed:
                log.warning("removed %d partial uploads left by a previous process", removed)
            if in_memory_queue:
                await self.container.reap_stale().requeue_lost_queue()
        except Exception as exc:
            log.error("recovery at start-up failed (%s); the housekeeping passes will try again", reason(exc))

    def close_streams(self) -> None:
        """End every SSE and WebSocket stream of this process now (and refuse new ones): called as soon as a
        stop signal arrives, because the server waits for open connections before it runs :meth:`stop`."""
        self.container.event_bus().close_subscriptions()

    def hurry(self) -> None:
        """Stop waiting for running jobs (a second stop signal): :meth:`stop` cancels them and finishes."""
        self._hurry.set()

    async def stop(self) -> None:
        self.close_streams()
        if self.metrics:
            self.container.metrics_port_server().stop()
            await self.container.metrics_sampler().stop()
        if self.run_background:
            await self.container.outbox_notifications().stop()
            await self.container.background().stop()
            await self.container.deliver_webhooks().stop()
        broker = self.container.broker()
        grace = self.container.settings().worker_shutdown_grace_s
        if self._receiver is not None:
            # stop taking jobs, let running ones finish within the grace period; the rest stay unacknowledged
            # and Redis hands them to another worker
            self._finish.set()
            if not await self._within(self._receiver, grace + 5):
                await _cancel(self._receiver)
        if isinstance(broker, InMemoryBroker):
            waiting = asyncio.ensure_future(broker.wait_all())
            if not await self._within(waiting, grace):
                await _cancel(waiting)
                # a cancelled render stays GENERATING and is picked up again after the restart
                for job in list(getattr(broker, "_running_tasks", ())):
                    await _cancel(job)
        await broker.shutdown()
        await self.container.event_bus().stop()
        await self.container.engine().dispose()
        log.info("songy runtime stopped")

    async def _within(self, task: asyncio.Future[None], seconds: float) -> bool:
        """Wait for ``task`` up to ``seconds`` or until :meth:`hurry`; whether it finished."""
        hurried = asyncio.ensure_future(self._hurry.wait())
        try:
            await asyncio.wait({task, hurried}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hurried.cancel()
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s ended with an error while stopping", task, exc_info=error)
        return task.done()


async def _cancel(task: asyncio.Future[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
