"""PostgreSQL NOTIFY wakes the relay: a committed outbox row nudges a listener in another process's place."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from songy.adapters.sql.engine import build_engine
from songy.adapters.sql.notifications import OutboxNotifications, libpq_url
from tests.integration.test_sql_unit_of_work import Harness

pytestmark = pytest.mark.integration


class Nudges:
    def __init__(self) -> None:
        self.count = 0
        self.event = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    async def next(self) -> None:
        await asyncio.wait_for(self.event.wait(), 5.0)
        self.event.clear()


async def test_a_committed_outbox_row_nudges_the_listener_and_a_lost_connection_recovers(postgres_url: str) -> None:
    engine = build_engine(postgres_url)
    nudges = Nudges()
    notifications = OutboxNotifications(postgres_url, nudges)
    notifications.start()
    try:
        await asyncio.wait_for(notifications.listening.wait(), 5)
        await nudges.next()  # one nudge on connecting: anything written while away is relayed
        harness = Harness(engine)
        user = await harness.seed_user()  # no outbox row: no notification
        await harness.new_music(user)  # the requested event lands in the outbox
        await nudges.next()
        # notifications arrive in commit order: had the user's insert notified, its nudge would be counted already
        assert nudges.count == 2  # the one on connecting, and the outbox row's
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN songy_outbox'")
        await nudges.next()  # reconnected: nudged again
        await asyncio.wait_for(notifications.listening.wait(), 5)
        await harness.new_music(user, "m2")
        await nudges.next()
    finally:
        await notifications.stop()
        await engine.dispose()
