"""The SQL unit of work: repositories over one connection and one transaction, outbox included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from songy.adapters.sql import tables
from songy.domain.errors import Conflict, DatabaseUnavailable
from songy.domain.events import DomainEvent, MusicGenerationRequested, event_from_payload
from songy.domain.formats import OutputFormat
from songy.domain.idempotency import IdempotencyRecord
from songy.domain.music import Music, MusicStatus
from songy.domain.playlist import Playlist
from songy.domain.user import ProfileSave, User
from songy.domain.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from songy.ports.repositories import OutboxMessage


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in the domain is aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _music_from_row(row: Any) -> Music:
    return Music(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prompt=row.prompt,
        length_ms=row.length_ms,
        output_format=OutputFormat.parse(row.output_format),
        model_id=row.model_id,
        status=MusicStatus(row.status),
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        audio_url=row.audio_url,
        object_key=row.object_key,
        failure_reason=row.failure_reason,
        attempts=row.attempts,
        credits_reserved=row.credits_reserved,
        expired_at=_utc(row.expired_at) if row.expired_at is not None else None,
    )


def _music_values(music: Music) -> dict[str, Any]:
    return {
        "user_id": music.user_id,
        "name": music.name,
        "prompt": music.prompt,
        "length_ms": music.length_ms,
        "output_format": music.output_format.name,
        "model_id": music.model_id,
        "status": music.status.value,
        "audio_url": music.audio_url,
        "object_key": music.object_key,
        "failure_reason": music.failure_reason,
        "attempts": music.attempts,
        "credits_reserved": music.credits_reserved,
        "expired_at": music.expired_at,
        "created_at": music.created_at,
        "updated_at": music.updated_at,
    }


# Statements of the hot paths, built once: values go in as parameters, so SQLAlchemy neither rebuilds the
# expression nor recomputes a cache key over every value on each request.
_INSERT_MUSIC = insert(tables.music)
_UPDATE_MUSIC = update(tables.music).where(tables.music.c.id == bindparam("music_id"))
_INSERT_OUTBOX = insert(tables.outbox)
_GET_MUSIC_FOR_UPDATE = select(tables.music).where(tables.music.c.id == bindparam("music_id")).with_for_update()
_RESERVE_CREDITS = (
    update(tables.users)
    .where(
        tables.users.c.id == bindparam("b_user_id"),
        tables.users.c.deleted_at.is_(None),
        tables.users.c.credits >= bindparam("amount"),
    )
    .values(credits=tables.users.c.credits - bindparam("amount"))
    .returning(tables.users.c.id)
)
_OWNED_BY_CLERK_ID = (
    select(tables.music)
    .join(tables.users, tables.users.c.id == tables.music.c.user_id)
    .where(
        tables.music.c.id == bindparam("music_id"),
        tables.users.c.clerk_id == bindparam("b_clerk_id"),
        tables.users.c.deleted_at.is_(None),
    )
)


class SqlMusicRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, music: Music) -> None:
        await self._uow.execute(_INSERT_MUSIC, {"id": music.id, **_music_values(music)})
        self._uow.seen.append(music)

    async def get(self, music_id: str) -> Music | None:
        row = (await self._uow.execute(_GET_MUSIC_FOR_UPDATE, {"music_id": music_id})).first()
        return self._track(_music_from_row(row)) if row else None

    async def get_owned(self, music_id: str, user_id: str) -> Music | None:
        query = select(tables.music).where(tables.music.c.id == music_id, tables.music.c.user_id == user_id)
        row = (await self._uow.execute(query)).first()
        return self._track(_music_from_row(row)) if row else None

    async def get_owned_by_clerk_id(self, music_id: str, clerk_id: str) -> Music | None:
        row = (await self._uow.execute(_OWNED_BY_CLERK_ID, {"music_id": music_id, "b_clerk_id": clerk_id})).first()
        return self._track(_music_from_row(row)) if row else None

    async def save(self, music: Music) -> None:
        await self._uow.execute(_UPDATE_MUSIC, {"music_id": music.id, **_music_values(music)})
        if music not in self._uow.seen:
            self._uow.seen.append(music)

    async def list_for_user(
        self, user_id: str, *, status: MusicStatus | None, limit: int, before: tuple[datetime, str] | None
    ) -> list[Music]:
        m = tables.music
        query = select(m).where(m.c.user_id == user_id)
        if status is not None:
            query = query.where(m.c.status == status.value)
        if before is not None:
            created, music_id = before
            query = query.where(or_(m.c.created_at < created, and_(m.c.created_at == created, m.c.id < music_id)))
        query = query.order_by(m.c.created_at.desc(), m.c.id.desc()).limit(limit)
        return [_music_from_row(row) for row in (await self._uow.execute(query)).all()]

    async def list_expirable(self, completed_before: datetime, limit: int) -> list[Music]:
        m = tables.music
        query = (
            select(m)
            .where(
                m.c.status == MusicStatus.COMPLETED.value, m.c.expired_at.is_(None), m.c.updated_at < completed_before
            )
            .order_by(m.c.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._track(_music_from_row(row)) for row in (await self._uow.execute(query)).all()]

    async def delete(self, music_id: str) -> None:
        await self._uow.execute(delete(tables.music).where(tables.music.c.id == music_id))
        self._uow.seen = [m for m in self._uow.seen if m.id != music_id]

    async def count_by_status(self) -> dict[MusicStatus, int]:
        m = tables.music
        rows = (await self._uow.execute(select(m.c.status, func.count()).group_by(m.c.status))).all()
        counts = dict.fromkeys(MusicStatus, 0)
        counts.update({MusicStatus(status): int(n) for status, n in rows})
        return counts

    async def list_recent(self, status: MusicStatus, limit: int) -> list[Music]:
        m = tables.music
        query = select(m).where(m.c.status == status.value).order_by(m.c.updated_at.desc()).limit(limit)
        return [_music_from_row(row) for row in (await self._uow.execute(query)).all()]

    async def list_stale_generating(self, updated_before: datetime, limit: int) -> list[Music]:
        m, o = tables.music, tables.outbox
        handoff_pending_or_recent = (
            select(o.c.id)
            .where(
                o.c.music_id == m.c.id,
                o.c.topic == MusicGenerationRequested.name,
                or_(o.c.published_at.is_(None), o.c.published_at >= updated_before),
            )
            .exists()
        )
        query = (
            select(m)
            .where(m.c.status == MusicStatus.GENERATING.value, m.c.updated_at < updated_before)
            .where(~handoff_pending_or_recent)
            .order_by(m.c.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self._uow.execute(query)).all()
        return [self._track(_music_from_row(row)) for row in rows]

    def _track(self, music: Music) -> Music:
        self._uow.seen.append(music)
        return music


class SqlPlaylistRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, playlist: Playlist) -> None:
        values = {k: getattr(playlist, k) for k in ("id", "user_id", "name", "created_at", "updated_at")}
        await self._uow.execute(insert(tables.playlists).values(**values))
        await self._write_tracks(playlist)

    async def get_owned(self, playlist_id: str, user_id: str) -> Playlist | None:
        p = tables.playlists
        row = (await self._uow.execute(select(p).where(p.c.id == playlist_id, p.c.user_id == user_id))).first()
        return (await self._with_tracks([row]))[0] if row else None

    async def list_for_user(self, user_id: str) -> list[Playlist]:
        p = tables.playlists
        query = select(p).where(p.c.user_id == user_id).order_by(p.c.created_at.desc(), p.c.id.desc())
        return await self._with_tracks((await self._uow.execute(query)).all())

    async def save(self, playlist: Playlist) -> None:
        p = tables.playlists
        values = {"name": playlist.name, "updated_at": playlist.updated_at}
        await self._uow.execute(update(p).where(p.c.id == playlist.id).values(**values))
        await self._write_tracks(playlist)

    async def delete(self, playlist_id: str) -> None:
        t, p = tables.playlist_tracks, tables.playlists
        await self._uow.execute(delete(t).where(t.c.playlist_id == playlist_id))
        await self._uow.execute(delete(p).where(p.c.id == playlist_id))

    async def _write_tracks(self, playlist: Playlist) -> None:
        t = tables.playlist_tracks
        await self._uow.execute(delete(t).where(t.c.playlist_id == playlist.id))
        if playlist.track_ids:
            rows = [
                {"playlist_id": playlist.id, "music_id": music_id, "position": index}
                for index, music_id in enumerate(playlist.track_ids)
            ]
            await self._uow.execute(insert(t).values(rows))

    async def _with_tracks(self, rows: Any) -> list[Playlist]:
        if not rows:
            return []
        t = tables.playlist_tracks
        ids = [row.id for row in rows]
        query = select(t).where(t.c.playlist_id.in_(ids)).order_by(t.c.playlist_id, t.c.position)
        tracks: dict[str, list[str]] = {i: [] for i in ids}
        for track in (await self._uow.execute(query)).all():
            tracks[track.playlist_id].append(track.music_id)
        return [
            Playlist(row.id, row.user_id, row.name, _utc(row.created_at), _utc(row.updated_at), tracks[row.id])
            for row in rows
        ]


class SqlWebhookRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        values = {k: getattr(endpoint, k) for k in ("id", "user_id", "url", "events", "secret", "created_at")}
        await self._uow.execute(insert(tables.webhook_endpoints).values(**values))

    async def list_endpoints(self, user_id: str) -> list[WebhookEndpoint]:
        e = tables.webhook_endpoints
        rows = (await self._uow.execute(select(e).where(e.c.user_id == user_id).order_by(e.c.created_at))).all()
        return [WebhookEndpoint(r.id, r.user_id, r.url, list(r.events), r.secret, _utc(r.created_at)) for r in rows]

    async def delete_endpoint(self, endpoint_id: str) -> None:
        e = tables.webhook_endpoints
        await self._uow.execute(delete(e).where(e.c.id == endpoint_id))

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        await self._uow.execute(insert(tables.webhook_deliveries).values(**_delivery_values(delivery)))

    async def due_deliveries(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        d = tables.webhook_deliveries
        query = (
            select(d)
            .where(d.c.status == DeliveryStatus.PENDING.value, d.c.next_attempt_at <= now)
            .order_by(d.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_delivery_from_row(r) for r in (await self._uow.execute(query)).all()]

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        d = tables.webhook_deliveries
        await self._uow.execute(update(d).where(d.c.id == delivery.id).values(**_delivery_values(delivery)))

    async def list_deliveries(self, user_id: str, endpoint_id: str, limit: int) -> list[WebhookDelivery]:
        d = tables.webhook_deliveries
        query = (
            select(d)
            .where(d.c.endpoint_id == endpoint_id, d.c.user_id == user_id)
            .order_by(d.c.created_at.desc())
            .limit(limit)
        )
        return [_delivery_from_row(r) for r in (await self._uow.execute(query)).all()]


def _delivery_values(delivery: WebhookDelivery) -> dict[str, Any]:
    values = dict(delivery.__dict__)
    values["status"] = delivery.status.value
    return values


def _delivery_from_row(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        user_id=row.user_id,
        event_name=row.event_name,
        payload=row.payload,
        created_at=_utc(row.created_at),
        next_attempt_at=_utc(row.next_attempt_at),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=_utc(row.delivered_at) if row.delivered_at is not None else None,
    )


class SqlUserRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, user: User) -> None:
        values = _user_values(user) | {"id": user.id, "credits": user.credits}
        await self._uow.execute(insert(tables.users).values(**values))

    async def add_if_absent(self, user: User) -> bool:
        statement = (
            self._uow.upsert_insert(tables.users)
            .values(**_user_values(user), id=user.id, credits=user.credits)
            .on_conflict_do_nothing(index_elements=["clerk_id"])
            .returning(tables.users.c.id)
        )
        return (await self._uow.execute(statement)).first() is not None

    async def save(self, user: User) -> None:
        statement = update(tables.users).where(tables.users.c.id == user.id).values(**_user_values(user))
        await self._uow.execute(statement)

    async def save_profile_event(self, user: User) -> ProfileSave:
        # the ordering rule of songy.domain.user.supersedes, as a condition the database checks at the write: a
        # concurrent delivery that committed first is seen (PostgreSQL re-checks the WHERE on the row it waited for)
        u, at = tables.users, user.profile_event_at
        if at is None:
            raise ValueError("a profile event needs its time")
        newer = or_(u.c.profile_event_at.is_(None), u.c.profile_event_at < at)
        values: dict[str, Any] = {"updated_at": user.updated_at, "profile_event_at": at}
        if user.is_deleted:
            newer = or_(newer, and_(u.c.profile_event_at == at, u.c.deleted_at.is_(None)))
            values["deleted_at"] = func.coalesce(u.c.deleted_at, user.deleted_at)
        else:
            values |= {"email": user.email, "name": user.name, "deleted_at": None}
        conditional = update(u).where(u.c.clerk_id == user.clerk_id, newer).values(**values)
        if (await self._uow.execute(conditional)).rowcount:
            return ProfileSave.UPDATED
        if await self.add_if_absent(user):  # INSERT ... ON CONFLICT DO NOTHING: the first event of a user races too
            return ProfileSave.INSERTED
        # the row exists: either a newer event is stored, or a concurrent first insert committed after our UPDATE
        if (await self._uow.execute(conditional)).rowcount:
            return ProfileSave.UPDATED
        return ProfileSave.STALE

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        query = select(tables.users).where(tables.users.c.clerk_id == clerk_id)
        row = (await self._uow.execute(query)).first()
        if row is None:
            return None
        deleted_at = _utc(row.deleted_at) if row.deleted_at is not None else None
        return User(
            row.id,
            row.clerk_id,
            row.email,
            row.name,
            _utc(row.created_at),
            _utc(row.updated_at),
            deleted_at,
            row.credits,
            _utc(row.profile_event_at) if row.profile_event_at is not None else None,
        )

    async def reserve_credits(self, user_id: str, amount: int) -> bool:
        parameters = {"b_user_id": user_id, "amount": amount}
        return (await self._uow.execute(_RESERVE_CREDITS, parameters)).first() is not None

    async def add_credits(self, user_id: str, amount: int) -> None:
        u = tables.users
        await self._uow.execute(update(u).where(u.c.id == user_id).values(credits=u.c.credits + amount))


def _user_values(user: User) -> dict[str, Any]:
    """Profile fields only: the balance changes through reserve/add_credits, never by overwriting it."""
    names = ("clerk_id", "email", "name", "created_at", "updated_at", "deleted_at", "profile_event_at")
    return {name: getattr(user, name) for name in names}


class SqlIdempotencyKeys:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        t = tables.idempotency_keys
        row = (await self._uow.execute(select(t).where(t.c.user_id == user_id, t.c.key == key))).first()
        if row is None:
            return None
        return IdempotencyRecord(row.user_id, row.key, row.fingerprint, tuple(row.music_ids), _utc(row.created_at))

    async def add(self, record: IdempotencyRecord) -> None:
        values = {
            "user_id": record.user_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "music_ids": list(record.music_ids),
            "created_at": record.created_at,
        }
        await self._uow.execute(insert(tables.idempotency_keys).values(**values))

    async def delete(self, user_id: str, key: str) -> None:
        t = tables.idempotency_keys
        await self._uow.execute(delete(t).where(t.c.user_id == user_id, t.c.key == key))

    async def prune(self, created_before: datetime) -> int:
        t = tables.idempotency_keys
        return int((await self._uow.execute(delete(t).where(t.c.created_at < created_before))).rowcount or 0)


class SqlProcessedMessages:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add_if_new(self, message_id: str, source: str, now: datetime) -> bool:
        statement = (
            self._uow.upsert_insert(tables.processed_messages)
            .values(source=source, message_id=message_id, processed_at=now)
            .on_conflict_do_nothing(index_elements=["source", "message_id"])
            .returning(tables.processed_messages.c.message_id)
        )
        result = await self._uow.execute(statement)
        return result.first() is not None


class SqlOutbox:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, event: DomainEvent, available_at: datetime) -> None:
        values = {
            "topic": event.name,
            "payload": event.payload(),
            "available_at": available_at,
            "created_at": self._uow.now(),
            "attempts": 0,
            "request_id": self._uow.request_id(),
            "music_id": event.music_id,
        }
        await self._uow.execute(_INSERT_OUTBOX, values)
        self._uow.wrote_events = True

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        t = tables.outbox
        query = (
            select(t)
            .where(t.c.published_at.is_(None), t.c.available_at <= now)
            .order_by(t.c.available_at, t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self._uow.execute(query)).all()
        return [
            OutboxMessage(
                row.id, event_from_payload(row.topic, row.payload), _utc(row.available_at), row.attempts, row.request_id
            )
            for row in rows
        ]

    async def mark_published(self, message_ids: list[int], now: datetime) -> None:
        if message_ids:
            t = tables.outbox
            await self._uow.execute(update(t).where(t.c.id.in_(message_ids)).values(published_at=now))

    async def postpone(self, message_id: int, until: datetime, error: str) -> None:
        t = tables.outbox
        statement = (
            update(t)
            .where(t.c.id == message_id)
            .values(available_at=until, attempts=t.c.attempts + 1, last_error=error[:2000])
        )
        await self._uow.execute(statement)

    async def pending_count(self) -> int:
        t = tables.outbox
        query = select(func.count()).select_from(t).where(t.c.published_at.is_(None))
        return int((await self._uow.execute(query)).scalar_one())

    async def oldest_pending(self) -> datetime | None:
        t = tables.outbox
        value = (await self._uow.execute(select(func.min(t.c.available_at)).where(t.c.published_at.is_(None)))).scalar()
        return _utc(value) if value is not None else None

    async def scheduled_retries(self, limit: int) -> list[OutboxMessage]:
        t = tables.outbox
        query = (
            select(t)
            .where(t.c.published_at.is_(None), t.c.topic == "music.generation.requested")
            .order_by(t.c.available_at)
            .limit(limit * 4)
        )
        rows = (await self._uow.execute(query)).all()
        messages = [
            OutboxMessage(row.id, event_from_payload(row.topic, row.payload), _utc(row.available_at), row.attempts)
            for row in rows
        ]
        return [m for m in messages if getattr(m.event, "attempt", 1) > 1][:limit]

    async def prune_published(self, published_before: datetime) -> int:
        t = tables.outbox
        statement = delete(t).where(t.c.published_at.is_not(None), t.c.published_at < published_before)
        return int((await self._uow.execute(statement)).rowcount or 0)


class SqlUnitOfWork:
    """A transaction on one pooled connection. Commit writes the seen aggregates' events to the outbox
    in the same transaction, then calls ``on_commit`` if any event was written.

    With ``read_only``, no transaction is opened: give it an engine in ``AUTOCOMMIT`` (see
    :func:`songy.adapters.sql.engine.reader_engine`) and each read is one round trip, without BEGIN and COMMIT.

    A pooled connection the server has dropped (a restart, an idle timeout) is replaced once, transparently, when
    it fails on the first statement, before anything was done on it; any other loss of the database raises
    :class:`DatabaseUnavailable`. This costs nothing per request, unlike a ping on every checkout.
    """

    connection: AsyncConnection

    def __init__(
        self,
        engine: AsyncEngine,
        now: Callable[[], datetime],
        on_commit: Callable[[], None],
        request_id: Callable[[], str | None] = lambda: None,
        *,
        read_only: bool = False,
    ) -> None:
        self._engine = engine
        self.now = now
        self.request_id = request_id
        self._on_commit = on_commit
        self._read_only = read_only
        self.music = SqlMusicRepository(self)
        self.playlists = SqlPlaylistRepository(self)
        self.webhooks = SqlWebhookRepository(self)
        self.users = SqlUserRepository(self)
        self.outbox = SqlOutbox(self)
        self.inbox = SqlProcessedMessages(self)
        self.idempotency = SqlIdempotencyKeys(self)
        self.seen: list[Music] = []
        self.wrote_events = False
        self._fresh = True

    async def __aenter__(self) -> Self:
        self.connection = await self._connect()
        self.seen = []
        self.wrote_events = False
        self._fresh = True
        return self

    async def _connect(self) -> AsyncConnection:
        try:
            connection = await self._engine.connect()
            if not self._read_only:
                await connection.begin()
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable() from exc
        return connection

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.rollback()
        except DBAPIError:  # the connection is gone: there is nothing left to roll back
            pass
        finally:
            await self.connection.close()

    async def commit(self) -> None:
        for music in self.seen:
            for event in music.events:
                not_before = getattr(event, "not_before", None)
                await self.outbox.add(event, not_before or self.now())
            music.events.clear()
        try:
            await self.connection.commit()
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable() from exc
        self.seen = []
        if self.wrote_events:
            self.wrote_events = False
            self._on_commit()

    async def execute(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        """Run a statement in this transaction; a violated unique or foreign key becomes :class:`Conflict`."""
        while True:
            try:
                result = await self.connection.execute(statement, parameters)
            except IntegrityError as exc:
                raise Conflict(str(exc.orig)) from exc
            except DBAPIError as exc:
                if exc.connection_invalidated and self._fresh:
                    self._fresh = False  # replaced once: a stale pooled connection, nothing was done on it yet
                    await self.connection.close()
                    self.connection = await self._connect()
                    continue
                if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
                    raise DatabaseUnavailable() from exc
                raise
            self._fresh = False
            return result

    def upsert_insert(self, table: Any) -> Any:
        """An ``INSERT`` for ``table`` in this database's dialect, which has ``on_conflict_do_nothing``."""
        return (postgresql_insert if self.connection.dialect.name == "postgresql" else sqlite_insert)(table)

    async def rollback(self) -> None:
        if self.connection.in_transaction():
            await self.connection.rollback()
