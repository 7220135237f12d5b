"""Persistence ports: repositories, the outbox, and the unit of work that commits them together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from songy.domain.events import DomainEvent
from songy.domain.idempotency import IdempotencyRecord
from songy.domain.music import Music, MusicStatus
from songy.domain.playlist import Playlist
from songy.domain.user import ProfileSave, User
from songy.domain.webhooks import WebhookDelivery, WebhookEndpoint


class MusicRepository(Protocol):
    async def add(self, music: Music) -> None: ...

    async def get(self, music_id: str) -> Music | None:
        """The record, for the worker (no ownership check), locked until the unit of work ends."""
        ...

    async def get_owned(self, music_id: str, user_id: str, *, for_update: bool = False) -> Music | None:
        """The record only if ``user_id`` owns it; with ``for_update``, locked until the unit of work ends, so a
        change is decided on the latest committed state (concurrent changers queue)."""
        ...

    async def get_owned_by_clerk_id(self, music_id: str, clerk_id: str) -> Music | None:
        """The record only if it belongs to the live (not deleted) user with this clerkId: one lookup for reads."""
        ...

    async def save(self, music: Music) -> None:
        """Persist changes to a record loaded in this unit of work, only if nobody changed it since it was read
        (its ``version``); raises :class:`songy.domain.errors.Conflict` otherwise, and then nothing is written."""
        ...

    async def renew_lease(self, music_id: str, attempt: int, until: datetime) -> bool:
        """Extend the lease of the running ``attempt`` to ``until``; ``False`` when the record no longer belongs
        to that attempt (canceled, deleted, finished, or reaped after the lease ran out)."""
        ...

    async def list_for_user(
        self, user_id: str, *, status: MusicStatus | None, limit: int, before: tuple[datetime, str] | None
    ) -> list[Music]:
        """The user's records, newest first (by createdAt, then id), strictly after the ``before`` cursor."""
        ...

    async def delete(self, music_id: str) -> None: ...

    async def list_failed_before(self, updated_before: datetime, limit: int) -> list[Music]:
        """FAILED records last changed before ``updated_before``, oldest first; locked, skipping rows others hold
        (an operator's purge)."""
        ...

    async def list_expirable(self, completed_before: datetime, limit: int) -> list[Music]:
        """COMPLETED records with audio, finished before ``completed_before``, oldest first."""
        ...

    async def count_by_status(self) -> dict[MusicStatus, int]: ...

    async def list_recent(self, status: MusicStatus, limit: int) -> list[Music]:
        """Any user's records in ``status``, most recently updated first (operators' view)."""
        ...

    async def list_stale_generating(self, updated_before: datetime, now: datetime, limit: int) -> list[Music]:
        """GENERATING records whose attempt is dead (its lease ran out before ``now``), or whose job was lost: not
        started, untouched since ``updated_before``, handed to the queue before then (not one still waiting in the
        outbox: workers down, relay behind, a retry not yet due). Locked, skipping rows others hold. For the reaper."""
        ...


class PlaylistRepository(Protocol):
    async def add(self, playlist: Playlist) -> None: ...

    async def get_owned(self, playlist_id: str, user_id: str, *, for_update: bool = False) -> Playlist | None:
        """With ``for_update``, locked until the unit of work ends."""
        ...

    async def list_for_user(self, user_id: str) -> list[Playlist]: ...

    async def save(self, playlist: Playlist) -> None:
        """Only if unchanged since it was read (its ``version``); raises ``Conflict`` otherwise."""
        ...

    async def delete(self, playlist_id: str) -> None: ...


class WebhookRepository(Protocol):
    async def add_endpoint(self, endpoint: WebhookEndpoint, *, limit: int) -> bool:
        """Add the endpoint unless its owner already has ``limit``; the count holds under concurrent registrations
        (taken under a lock of the owner). Whether it was added."""
        ...

    async def list_endpoints(self, user_id: str) -> list[WebhookEndpoint]: ...

    async def delete_endpoint(self, endpoint_id: str) -> bool:
        """Whether this call removed it (``False``: already gone)."""
        ...

    async def add_delivery(self, delivery: WebhookDelivery) -> None: ...

    async def due_deliveries(
        self, now: datetime, limit: int, busy_endpoints: frozenset[str] = frozenset()
    ) -> list[WebhookDelivery]:
        """Pending deliveries due now, the oldest of each endpoint (none of ``busy_endpoints``), oldest first,
        locked for this unit of work where the database can."""
        ...

    async def save_delivery(self, delivery: WebhookDelivery) -> None: ...

    async def list_deliveries(self, user_id: str, endpoint_id: str, limit: int) -> list[WebhookDelivery]: ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None: ...

    async def add_if_absent(self, user: User) -> bool:
        """Insert ``user`` unless one with its clerkId exists (a concurrent first request made it): whether it
        was inserted. Never fails on that race, so the transaction stays usable."""
        ...

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        """The user with this clerkId, deleted or not."""
        ...

    async def save(self, user: User) -> None: ...

    async def save_profile_event(self, user: User) -> ProfileSave:
        """Apply ``user`` as the profile event at ``user.profile_event_at``, decided by the database in one
        conditional write (see :func:`songy.domain.user.supersedes`): insert it when its clerkId is unknown;
        else overwrite the stored email, name and ``deleted_at`` (a deletion, ``deleted_at`` set, keeps the stored
        email, name and first deletion time) only if the stored event is older; else change nothing (``STALE``).
        Concurrent calls for one clerkId never apply an older event over a newer one."""
        ...

    async def reserve_credits(self, user_id: str, amount: int) -> bool:
        """Take ``amount`` credits from a live (not deleted) user if the balance covers them, atomically;
        ``False`` (nothing taken) if not."""
        ...

    async def add_credits(self, user_id: str, amount: int) -> None: ...


class IdempotencyKeys(Protocol):
    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None: ...

    async def add(self, record: IdempotencyRecord) -> None:
        """Raises :class:`songy.domain.errors.Conflict` when the key is taken (a concurrent request)."""
        ...

    async def delete(self, user_id: str, key: str) -> None: ...

    async def prune(self, created_before: datetime) -> int: ...


class ProcessedMessages(Protocol):
    """Ids of inbound messages (webhooks) already applied, so a redelivery is not applied twice."""

    async def add_if_new(self, message_id: str, source: str, now: datetime) -> bool:
        """Record the id; ``False`` when it was already there."""
        ...


@dataclass(frozen=True)
class OutboxMessage:
    """An event waiting in the outbox to be published."""

    id: int
    event: DomainEvent
    available_at: datetime
    attempts: int
    request_id: str | None = None


class Outbox(Protocol):
    async def add(self, event: DomainEvent, available_at: datetime) -> None: ...

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Due, unpublished messages, locked for this unit of work where the database can."""
        ...

    async def mark_published(self, message_ids: list[int], now: datetime) -> None:
        """Mark these messages published, in one statement."""
        ...

    async def postpone(self, message_id: int, until: datetime, error: str) -> None: ...

    async def pending_count(self) -> int: ...

    async def oldest_pending(self) -> datetime | None:
        """When the oldest unpublished message became due (the relay's lag is now minus this)."""
        ...

    async def scheduled_retries(self, limit: int) -> list[OutboxMessage]:
        """Unpublished generation requests for a second or later attempt, soonest first."""
        ...

    async def prune_published(self, published_before: datetime) -> int:
        """Delete messages published before the given time; return how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction. On commit, events raised by the aggregates it saw go to the outbox atomically."""

    music: MusicRepository
    playlists: PlaylistRepository
    webhooks: WebhookRepository
    users: UserRepository
    outbox: Outbox
    inbox: ProcessedMessages
    idempotency: IdempotencyKeys

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
