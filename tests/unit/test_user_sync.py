"""SyncUser applies the identity provider's user events in the order of their own time, whatever the order of
delivery; a stale one is acknowledged and changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import given

from songy.adapters.memory.system import FixedClock, SequentialIds
from songy.adapters.memory.unit_of_work import MemoryDatabase, MemoryUnitOfWork
from songy.domain.errors import ValidationError
from songy.domain.use_cases.sync_user import SyncResult, SyncUser
from songy.domain.user import UserProfileChange, supersedes
from tests.support.user_events import Event, assert_newest_wins, events


def world() -> tuple[SyncUser, MemoryDatabase]:
    db = MemoryDatabase()
    clock = FixedClock()
    return SyncUser(lambda: MemoryUnitOfWork(db, clock.now, lambda: None), SequentialIds("u"), clock), db


@given(events(8))
def test_any_delivery_order_leaves_the_newest_events_state(delivered: list[Event]) -> None:
    sync, db = world()

    async def deliver_all() -> list[SyncResult]:
        return [await sync(e.change("user_1", f"msg_{i}")) for i, e in enumerate(delivered)]

    results = asyncio.run(deliver_all())
    assert_newest_wins(db.users.get("user_1"), delivered)
    for i, (event, result) in enumerate(zip(delivered, results, strict=True)):
        if any(earlier.at_ms > event.at_ms for earlier in delivered[:i]):
            assert result == SyncResult.STALE, f"{event} after a newer event was {result}"
        elif i == 0:
            assert result == (SyncResult.DELETED if event.kind == "user.deleted" else SyncResult.CREATED)


async def test_a_stale_event_changes_nothing_and_says_so() -> None:
    sync, db = world()
    t = datetime(2026, 1, 1, tzinfo=UTC)
    t_later = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert await sync(UserProfileChange("m1", "user.deleted", "user_1", occurred_at=t_later)) == SyncResult.DELETED
    stale = UserProfileChange("m2", "user.created", "user_1", "a@example.com", "A", occurred_at=t)
    assert await sync(stale) == SyncResult.STALE
    user = db.users["user_1"]
    assert user.is_deleted and user.email is None and user.profile_event_at == t_later


async def test_a_user_event_needs_its_time() -> None:
    sync, db = world()
    with pytest.raises(ValidationError):
        await sync(UserProfileChange("m1", "user.created", "user_1", "a@example.com"))
    assert db.users == {}
    assert await sync(UserProfileChange("m2", "session.created", "sess_1")) == SyncResult.IGNORED


def test_the_ordering_rule() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    t1 = datetime(2026, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
    assert supersedes(t0, deletes=False, applied_at=None, deleted=False)
    assert supersedes(t1, deletes=False, applied_at=t0, deleted=True)
    assert not supersedes(t0, deletes=False, applied_at=t1, deleted=False)
    assert not supersedes(t0, deletes=True, applied_at=t1, deleted=False)
    assert not supersedes(t0, deletes=False, applied_at=t0, deleted=False)  # a tie: the first profile stays
    assert supersedes(t0, deletes=True, applied_at=t0, deleted=False)  # a deletion wins a tie ...
    assert not supersedes(t0, deletes=True, applied_at=t0, deleted=True)  # ... once
