"""Sequences of Clerk ``user.*`` events for one user, and the state the newest of them must leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from songy.domain.user import User, UserProfileChange

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    kind: str
    at_ms: int
    email: str

    def change(self, clerk_id: str, message_id: str) -> UserProfileChange:
        email = None if self.kind == "user.deleted" else self.email
        return UserProfileChange(
            message_id, self.kind, clerk_id, email, "Alice", EPOCH + timedelta(milliseconds=self.at_ms)
        )


def events(size: int) -> st.SearchStrategy[list[Event]]:
    """``size`` events with unique emails, at times from a narrow range (so some share a millisecond), in the
    order they are delivered (any order)."""
    kinds = st.sampled_from(["user.created", "user.updated", "user.deleted"])
    event = st.tuples(kinds, st.integers(0, size))
    return st.lists(event, min_size=size, max_size=size).map(
        lambda drawn: [Event(kind, at, f"e{i}@example.com") for i, (kind, at) in enumerate(drawn)]
    )


def assert_newest_wins(user: User | None, delivered: list[Event]) -> None:
    """Whatever the delivery order: the user is deleted exactly when a deletion is among the newest events (a
    deletion wins a tie); otherwise its email is one of the newest events' (a tie of two profiles keeps the first
    applied), and the newest time is recorded."""
    newest = max(e.at_ms for e in delivered)
    latest = [e for e in delivered if e.at_ms == newest]
    assert user is not None
    assert user.profile_event_at == EPOCH + timedelta(milliseconds=newest)
    if any(e.kind == "user.deleted" for e in latest):
        assert user.is_deleted, f"deleted at {newest} ms, yet live after {delivered}"
    else:
        assert not user.is_deleted, f"live at {newest} ms, yet deleted after {delivered}"
        assert user.email in {e.email for e in latest}, f"{user.email} is not the newest profile of {delivered}"
