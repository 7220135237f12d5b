"""An in-memory unit of work with real transaction semantics: nothing is visible before commit."""

from __future__ import annotations

import asyncio
import copy
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

from songy.domain.errors import Conflict
from songy.domain.events import DomainEvent, MusicGenerationRequested
from songy.domain.idempotency import IdempotencyRecord
from songy.domain.music import Music, MusicStatus
from songy.domain.playlist import Playlist
from songy.domain.user import ProfileSave, User, supersedes
from songy.domain.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from songy.ports.repositories import OutboxMessage


@dataclass
class MemoryDatabase:
    """The committed state shared by every unit of work."""

    music: dict[str, Music] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    published: dict[int, datetime] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    processed: dict[tuple[str, str], datetime] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    playlists: dict[str, Playlist] = field(default_factory=dict)
    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    deliveries: dict[str, WebhookDelivery] = field(default_factory=dict)
    next_outbox_id: int = 1
    row_locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))


class MemoryMusicRepository:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def add(self, music: Music) -> None:
        self._uow.staged_music[music.id] = music
        self._uow.added_music.add(music.id)

    async def get(self, music_id: str) -> Music | None:
        await self._uow.lock(f"music:{music_id}")
        return self._load(music_id)

    def _load(self, music_id: str) -> Music | None:
        if music_id in self._uow.staged_music:
            return self._uow.staged_music[music_id]
        stored = self._uow.db.music.get(music_id)
        if stored is None:
            return None
        music = copy.deepcopy(stored)
        self._uow.staged_music[music_id] = music
        return music

    async def get_owned(self, music_id: str, user_id: str, *, for_update: bool = False) -> Music | None:
        if for_update:
            await self._uow.lock(f"music:{music_id}")
        music = self._load(music_id)
        return music if music is not None and music.user_id == user_id else None

    async def get_owned_by_clerk_id(self, music_id: str, clerk_id: str) -> Music | None:
        user = await self._uow.users.get_by_clerk_id(clerk_id)
        return await self.get_owned(music_id, user.id) if user is not None and not user.is_deleted else None

    async def save(self, music: Music) -> None:
        self._uow.staged_music[music.id] = music
        self._uow.saved_music.add(music.id)

    async def renew_lease(self, music_id: str, attempt: int, until: datetime) -> bool:
        stored = self._uow.db.music.get(music_id)
        if (
            stored is None
            or stored.status is not MusicStatus.GENERATING
            or stored.attempts != attempt
            or stored.lease_expires_at is None
        ):
            return False
        self._uow.staged_music[music_id] = replace(copy.deepcopy(stored), lease_expires_at=until)
        self._uow.saved_music.add(music_id)
        return True

    async def list_for_user(
        self, user_id: str, *, status: MusicStatus | None, limit: int, before: tuple[datetime, str] | None
    ) -> list[Music]:
        rows = [
            m
            for m in self._uow.db.music.values()
            if m.user_id == user_id
            and (status is None or m.status is status)
            and (before is None or (m.created_at, m.id) < before)
        ]
        rows.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return [copy.deepcopy(m) for m in rows[:limit]]

    async def list_expirable(self, completed_before: datetime, limit: int) -> list[Music]:
        ids = [
            m.id
            for m in sorted(self._uow.db.music.values(), key=lambda m: m.updated_at)
            if m.status is MusicStatus.COMPLETED and m.expired_at is None and m.updated_at < completed_before
        ][:limit]
        return [m for i in ids if (m := await self.get(i)) is not None]

    async def list_failed_before(self, updated_before: datetime, limit: int) -> list[Music]:
        ids = [
            m.id
            for m in sorted(self._uow.db.music.values(), key=lambda m: m.updated_at)
            if m.status is MusicStatus.FAILED and m.updated_at < updated_before
        ][:limit]
        return [m for i in ids if (m := await self.get(i)) is not None and m.status is MusicStatus.FAILED]

    async def delete(self, music_id: str) -> None:
        self._uow.staged_deletes.add(music_id)
        self._uow.staged_music.pop(music_id, None)

    async def count_by_status(self) -> dict[MusicStatus, int]:
        counts = dict.fromkeys(MusicStatus, 0)
        for music in self._uow.db.music.values():
            counts[music.status] += 1
        return counts

    async def list_recent(self, status: MusicStatus, limit: int) -> list[Music]:
        rows = sorted(
            (m for m in self._uow.db.music.values() if m.status is status), key=lambda m: m.updated_at, reverse=True
        )
        return [copy.deepcopy(m) for m in rows[:limit]]

    async def list_stale_generating(self, updated_before: datetime, now: datetime, limit: int) -> list[Music]:
        ids = [
            m.id
            for m in sorted(self._uow.db.music.values(), key=lambda m: m.updated_at)
            if m.status is MusicStatus.GENERATING
            and (
                m.lease_expired(now)
                or (
                    m.lease_expires_at is None
                    and m.updated_at < updated_before
                    and not self._handoff_pending_or_since(m.id, updated_before)
                )
            )
        ][:limit]
        return [m for i in ids if (m := await self.get(i)) is not None]

    def _handoff_pending_or_since(self, music_id: str, since: datetime) -> bool:
        db = self._uow.db
        return any(
            isinstance(message.event, MusicGenerationRequested)
            and message.event.music_id == music_id
            and (db.published.get(message_id) is None or db.published[message_id] >= since)
            for message_id, message in db.outbox.items()
        )


class MemoryPlaylistRepository:
    """Writes apply at once (tests use it single-threaded); a deleted track drops out of every playlist."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def _visible(self, playlist: Playlist) -> Playlist:
        copy_ = copy.deepcopy(playlist)
        copy_.track_ids = [t for t in copy_.track_ids if t in self._uow.db.music]
        return copy_

    async def add(self, playlist: Playlist) -> None:
        self._uow.staged_playlists[playlist.id] = playlist

    async def get_owned(self, playlist_id: str, user_id: str, *, for_update: bool = False) -> Playlist | None:
        if for_update:
            await self._uow.lock(f"playlist:{playlist_id}")
        found = self._uow.db.playlists.get(playlist_id)
        return self._visible(found) if found is not None and found.user_id == user_id else None

    async def list_for_user(self, user_id: str) -> list[Playlist]:
        mine = [p for p in self._uow.db.playlists.values() if p.user_id == user_id]
        return [self._visible(p) for p in sorted(mine, key=lambda p: (p.created_at, p.id), reverse=True)]

    async def save(self, playlist: Playlist) -> None:
        self._uow.staged_playlists[playlist.id] = playlist

    async def delete(self, playlist_id: str) -> None:
        self._uow.staged_playlists[playlist_id] = None


class MemoryWebhookRepository:
    """Writes apply at commit, like everything else here."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def add_endpoint(self, endpoint: WebhookEndpoint, *, limit: int) -> bool:
        await self._uow.lock(f"user:{endpoint.user_id}")  # as SQL does: the count holds until commit
        if len(await self.list_endpoints(endpoint.user_id)) >= limit:
            return False
        self._uow.staged_writes.append(lambda db: db.endpoints.__setitem__(endpoint.id, copy.deepcopy(endpoint)))
        return True

    async def list_endpoints(self, user_id: str) -> list[WebhookEndpoint]:
        mine = [e for e in self._uow.db.endpoints.values() if e.user_id == user_id]
        return [copy.deepcopy(e) for e in sorted(mine, key=lambda e: e.created_at)]

    async def delete_endpoint(self, endpoint_id: str) -> bool:
        await self._uow.lock(f"endpoint:{endpoint_id}")
        if endpoint_id not in self._uow.db.endpoints:
            return False
        self._uow.staged_writes.append(lambda db: db.endpoints.pop(endpoint_id, None))
        return True

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        await self.save_delivery(delivery)

    async def due_deliveries(
        self, now: datetime, limit: int, busy_endpoints: frozenset[str] = frozenset()
    ) -> list[WebhookDelivery]:
        due = sorted(
            (
                d
                for d in self._uow.db.deliveries.values()
                if d.status is DeliveryStatus.PENDING
                and d.next_attempt_at <= now
                and d.endpoint_id not in busy_endpoints
            ),
            key=lambda d: (d.next_attempt_at, d.id),
        )
        heads = list({d.endpoint_id: d for d in reversed(due)}.values())  # the oldest of each endpoint
        return [copy.deepcopy(d) for d in sorted(heads, key=lambda d: d.next_attempt_at)[:limit]]

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        self._uow.staged_writes.append(lambda db: db.deliveries.__setitem__(delivery.id, copy.deepcopy(delivery)))

    async def list_deliveries(self, user_id: str, endpoint_id: str, limit: int) -> list[WebhookDelivery]:
        mine = [d for d in self._uow.db.deliveries.values() if d.endpoint_id == endpoint_id and d.user_id == user_id]
        return [copy.deepcopy(d) for d in sorted(mine, key=lambda d: d.created_at, reverse=True)[:limit]]


class MemoryUserRepository:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def add(self, user: User) -> None:
        self._uow.staged_users[user.clerk_id] = user

    async def add_if_absent(self, user: User) -> bool:
        if await self.get_by_clerk_id(user.clerk_id) is not None:
            return False
        await self.add(user)
        return True

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        if clerk_id in self._uow.staged_users:
            return self._uow.staged_users[clerk_id]
        stored = self._uow.db.users.get(clerk_id)
        return copy.deepcopy(stored) if stored is not None else None

    async def save(self, user: User) -> None:
        self._uow.staged_users[user.clerk_id] = user

    async def save_profile_event(self, user: User) -> ProfileSave:
        if user.profile_event_at is None:
            raise ValueError("a profile event needs its time")
        stored = await self.get_by_clerk_id(user.clerk_id)
        if stored is None:
            await self.add(user)
            return ProfileSave.INSERTED
        if not supersedes(user.profile_event_at, user.is_deleted, stored.profile_event_at, stored.is_deleted):
            return ProfileSave.STALE
        if user.is_deleted:
            stored.deleted_at = stored.deleted_at or user.deleted_at
        else:
            stored.email, stored.name, stored.deleted_at = user.email, user.name, None
        stored.updated_at, stored.profile_event_at = user.updated_at, user.profile_event_at
        await self.save(stored)
        return ProfileSave.UPDATED

    def _committed(self, user_id: str) -> User | None:
        return next((u for u in self._uow.db.users.values() if u.id == user_id), None)

    async def reserve_credits(self, user_id: str, amount: int) -> bool:
        user = self._committed(user_id) or next(u for u in self._uow.staged_users.values() if u.id == user_id)
        if user.is_deleted or user.credits + self._uow.staged_credits.get(user_id, 0) < amount:
            return False
        self._uow.staged_credits[user_id] = self._uow.staged_credits.get(user_id, 0) - amount
        return True

    async def add_credits(self, user_id: str, amount: int) -> None:
        self._uow.staged_credits[user_id] = self._uow.staged_credits.get(user_id, 0) + amount


class MemoryIdempotencyKeys:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        return self._uow.staged_idempotency.get((user_id, key)) or self._uow.db.idempotency.get((user_id, key))

    async def add(self, record: IdempotencyRecord) -> None:
        if (record.user_id, record.key) in self._uow.db.idempotency:
            raise Conflict(f"idempotency key {record.key} taken")
        self._uow.staged_idempotency[(record.user_id, record.key)] = record

    async def delete(self, user_id: str, key: str) -> None:
        self._uow.db.idempotency.pop((user_id, key), None)

    async def prune(self, created_before: datetime) -> int:
        old = [k for k, r in self._uow.db.idempotency.items() if r.created_at < created_before]
        for key in old:
            del self._uow.db.idempotency[key]
        return len(old)


class MemoryProcessedMessages:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def add_if_new(self, message_id: str, source: str, now: datetime) -> bool:
        key = (source, message_id)
        if key in self._uow.db.processed or key in self._uow.staged_processed:
            return False
        self._uow.staged_processed[key] = now
        return True


class MemoryOutbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def add(self, event: DomainEvent, available_at: datetime) -> None:
        self._uow.staged_events.append((event, available_at))

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        db = self._uow.db
        due = [m for m in db.outbox.values() if m.id not in db.published and m.available_at <= now]
        return sorted(due, key=lambda m: (m.available_at, m.id))[:limit]

    async def mark_published(self, message_ids: list[int], now: datetime) -> None:
        for message_id in message_ids:
            self._uow.staged_published[message_id] = now

    async def postpone(self, message_id: int, until: datetime, error: str) -> None:
        self._uow.staged_postponed[message_id] = (until, error)

    async def pending_count(self) -> int:
        db = self._uow.db
        return sum(1 for i in db.outbox if i not in db.published)

    async def oldest_pending(self) -> datetime | None:
        db = self._uow.db
        pending = [m.available_at for i, m in db.outbox.items() if i not in db.published]
        return min(pending, default=None)

    async def scheduled_retries(self, limit: int) -> list[OutboxMessage]:
        db = self._uow.db
        retries = [
            m
            for i, m in db.outbox.items()
            if i not in db.published and m.event.name == "music.generation.requested" and m.event.attempt > 1  # type: ignore[attr-defined]
        ]
        return sorted(retries, key=lambda m: m.available_at)[:limit]

    async def prune_published(self, published_before: datetime) -> int:
        db = self._uow.db
        old = [i for i, at in db.published.items() if at < published_before]
        for message_id in old:
            db.outbox.pop(message_id, None)
            db.published.pop(message_id, None)
        return len(old)


class MemoryUnitOfWork:
    """Stages every change and applies it to :class:`MemoryDatabase` on :meth:`commit`. As in SQL, rows read for
    update are locked until commit or rollback, and a save of a record that changed since it was read (its
    ``version``) raises :class:`Conflict` at commit, with nothing applied."""

    def __init__(self, db: MemoryDatabase, clock: Callable[[], datetime], on_commit: Callable[[], None]) -> None:
        self.db = db
        self._clock = clock
        self._on_commit = on_commit
        self.music = MemoryMusicRepository(self)
        self.playlists = MemoryPlaylistRepository(self)
        self.webhooks = MemoryWebhookRepository(self)
        self.users = MemoryUserRepository(self)
        self.outbox = MemoryOutbox(self)
        self.inbox = MemoryProcessedMessages(self)
        self.idempotency = MemoryIdempotencyKeys(self)
        self.held: list[asyncio.Lock] = []
        self._held_keys: set[str] = set()
        self._reset()

    async def lock(self, key: str) -> None:
        """Hold the row lock ``key`` until this unit of work ends (re-entrant within it)."""
        if key in self._held_keys:
            return
        lock = self.db.row_locks[key]
        await lock.acquire()
        self.held.append(lock)
        self._held_keys.add(key)

    def _release(self) -> None:
        for lock in self.held:
            lock.release()
        self.held = []
        self._held_keys = set()

    def _reset(self) -> None:
        self.added_music: set[str] = set()
        self.saved_music: set[str] = set()
        self.staged_music: dict[str, Music] = {}
        self.staged_users: dict[str, User] = {}
        self.staged_events: list[tuple[DomainEvent, datetime]] = []
        self.staged_published: dict[int, datetime] = {}
        self.staged_postponed: dict[int, tuple[datetime, str]] = {}
        self.staged_processed: dict[tuple[str, str], datetime] = {}
        self.staged_deletes: set[str] = set()
        self.staged_credits: dict[str, int] = {}
        self.staged_playlists: dict[str, Playlist | None] = {}
        self.staged_writes: list[Callable[[MemoryDatabase], object]] = []
        self.staged_idempotency: dict[tuple[str, str], IdempotencyRecord] = {}

    async def __aenter__(self) -> Self:
        self._reset()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        try:
            self._apply()
        finally:
            self._release()

    def _apply(self) -> None:
        db = self.db
        taken = {m.object_key: m.id for m in db.music.values() if m.object_key}
        written = [m for m in self.staged_music.values() if m.id in self.added_music or m.id in self.saved_music]
        for music in written:
            if music.object_key and taken.get(music.object_key, music.id) != music.id:
                raise Conflict(f"object key {music.object_key} already taken")
            stored = db.music.get(music.id)
            if music.id in self.added_music:
                if stored is not None:
                    raise Conflict(f"music {music.id} already exists")
            elif stored is None or stored.version != music.version:
                raise Conflict(f"music {music.id} was changed or removed by a concurrent request; try again")
        for playlist_id, playlist in self.staged_playlists.items():
            stored_playlist = db.playlists.get(playlist_id)
            if playlist is not None and stored_playlist is not None and stored_playlist.version != playlist.version:
                raise Conflict(f"playlist {playlist_id} was changed by a concurrent request; try again")
        wrote_events = False
        for music in self.staged_music.values():
            for event in music.events:
                self.staged_events.append((event, _available_at(event, self._clock())))
            music.events.clear()
        for music in written:
            if music.id not in self.added_music:
                music.version += 1
            db.music[music.id] = copy.deepcopy(music)
        for music_id in self.staged_deletes:
            db.music.pop(music_id, None)
        for user in self.staged_users.values():
            existing = db.users.get(user.clerk_id)
            db.users[user.clerk_id] = replace(
                copy.deepcopy(user), credits=existing.credits if existing else user.credits
            )
        for user in db.users.values():
            user.credits += self.staged_credits.get(user.id, 0)
        db.idempotency.update(self.staged_idempotency)
        for write in self.staged_writes:
            write(db)
        for playlist_id, playlist in self.staged_playlists.items():
            if playlist is None:
                db.playlists.pop(playlist_id, None)
            else:
                if playlist_id in db.playlists:
                    playlist.version += 1
                db.playlists[playlist_id] = copy.deepcopy(playlist)
        for event, available_at in self.staged_events:
            message_id = db.next_outbox_id
            db.next_outbox_id += 1
            db.outbox[message_id] = OutboxMessage(message_id, event, available_at, attempts=0)
            wrote_events = True
        db.processed.update(self.staged_processed)
        db.published.update(self.staged_published)
        for message_id, (until, error) in self.staged_postponed.items():
            message = db.outbox[message_id]
            db.outbox[message_id] = replace(message, available_at=until, attempts=message.attempts + 1)
            db.errors[message_id] = error
        self._reset()
        if wrote_events:
            self._on_commit()

    async def rollback(self) -> None:
        self._reset()
        self._release()


def _available_at(event: DomainEvent, now: datetime) -> datetime:
    not_before = getattr(event, "not_before", None)
    return not_before if not_before is not None else now
