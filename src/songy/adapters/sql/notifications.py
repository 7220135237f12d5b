"""Wake the outbox relay from PostgreSQL's NOTIFY (sent by a trigger when outbox rows are committed, migration
0010), so a worker relays a new job at once even though the API process that wrote it does not relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from songy.domain.backoff import Backoff

log = logging.getLogger(__name__)

CHANNEL = "songy_outbox"


def libpq_url(url: str) -> str:
    """The libpq connection URI of a SQLAlchemy PostgreSQL URL (its query, e.g. ``options``, kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxNotifications:
    """LISTENs on its own connection and calls ``nudge`` for every notification. After each (re)connection it
    nudges once too, since notifications sent while it was away are lost; it reconnects with backoff (one log line
    per failed attempt, one when it is back)."""

    def __init__(self, url: str, nudge: Callable[[], None], *, max_backoff: float = 30.0) -> None:
        self._url = libpq_url(url)
        self._nudge = nudge
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="songy-outbox-notifications")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen_forever(self) -> None:
        backoff = Backoff("listening for outbox notifications", log, base_s=0.1, cap_s=self._max_backoff)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    backoff.succeeded()
                    self._nudge()
                    async for _ in connection.notifies():
                        self._nudge()
            except psycopg.Error as exc:
                self.listening.clear()
                await asyncio.sleep(backoff.failed(exc))
            else:  # the server ended the session without an error: reconnect, but never in a tight loop
                self.listening.clear()
                await asyncio.sleep(0.1)
