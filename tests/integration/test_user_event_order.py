"""Clerk user events on SQLite and PostgreSQL: applied in the order of their own time whatever the order (or the
concurrency) of delivery, decided by the database's conditional write."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songy.adapters.clerk.webhooks import ClerkWebhookVerifier
from songy.adapters.memory.system import FixedClock
from songy.adapters.sql.engine import build_engine
from songy.adapters.sql.unit_of_work import SqlUnitOfWork
from songy.adapters.system import Cuid2Ids
from songy.domain.use_cases.sync_user import SyncResult, SyncUser
from songy.domain.user import User
from tests.support.svix import SECRET, clerk_user_event, signed
from tests.support.user_events import EPOCH, Event, assert_newest_wins, events

pytestmark = pytest.mark.integration

CONCURRENT = 16
_users = itertools.count()
FIXTURES = [HealthCheck.function_scoped_fixture]  # each example works on a user of its own


async def deliver(url: str, clerk_id: str, delivered: list[Event], *, concurrently: bool) -> User | None:
    """Each event signed as Svix signs it, verified and applied; all at once when ``concurrently``."""
    engine = build_engine(url, pool_size=CONCURRENT + 4)
    clock = FixedClock()
    sync = SyncUser(lambda: SqlUnitOfWork(engine, clock.now, lambda: None), Cuid2Ids(), clock, initial_credits=60)
    verifier = ClerkWebhookVerifier(SECRET)
    epoch_ms = int(EPOCH.timestamp() * 1000)

    async def one(event: Event) -> SyncResult:
        payload = clerk_user_event(event.kind, clerk_id, email=event.email, at_ms=epoch_ms + event.at_ms)
        return await sync(verifier.verify(*signed(payload)))

    try:
        if concurrently:
            results = await asyncio.gather(*(one(e) for e in delivered))
        else:
            results = [await one(e) for e in delivered]
        assert all(isinstance(r, SyncResult) for r in results)
        async with SqlUnitOfWork(engine, clock.now, lambda: None) as uow:
            return await uow.users.get_by_clerk_id(clerk_id)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
@settings(max_examples=25, suppress_health_check=FIXTURES)
@given(delivered=events(6))
def test_any_delivery_order_leaves_the_newest_events_state(
    request: pytest.FixtureRequest, database: str, delivered: list[Event]
) -> None:
    url = request.getfixturevalue(f"{database}_url")
    user = asyncio.run(deliver(url, f"user_{next(_users)}", delivered, concurrently=False))
    assert_newest_wins(user, delivered)


@settings(max_examples=12, suppress_health_check=FIXTURES)
@given(delivered=events(CONCURRENT), seed=st.integers(0, 2**32))
def test_concurrent_deliveries_for_one_user_apply_in_event_order(
    postgres_url: str, delivered: list[Event], seed: int
) -> None:
    random.Random(seed).shuffle(delivered)
    user = asyncio.run(deliver(postgres_url, f"user_{next(_users)}", delivered, concurrently=True))
    assert_newest_wins(user, delivered)


def test_sixteen_concurrent_deliveries_with_distinct_times_end_at_the_newest(postgres_url: str) -> None:
    """The plain case the brief names: 16 events of one user, each at its own millisecond, shuffled and sent at
    once; the final state is exactly the newest event's (deleted, or live with its email)."""
    for newest_kind in ("user.updated", "user.deleted", "user.created"):
        kinds = ["user.created", "user.updated", "user.deleted"] * 5 + [newest_kind]
        delivered = [Event(kind, at, f"e{at}@example.com") for at, kind in enumerate(kinds)]
        random.Random(newest_kind).shuffle(delivered)
        user = asyncio.run(deliver(postgres_url, f"user_{next(_users)}", delivered, concurrently=True))
        assert user is not None and user.is_deleted == (newest_kind == "user.deleted")
        if newest_kind != "user.deleted":
            assert user.email == f"e{CONCURRENT - 1}@example.com"
