"""The SQL unit of work: one connection, one transaction; the repositories (``repositories/``) work inside it, and
commit writes the events of the aggregates it saw to the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from songy.adapters.sql.repositories.idempotency import SqlIdempotencyKeys
from songy.adapters.sql.repositories.inbox import SqlProcessedMessages
from songy.adapters.sql.repositories.music import SqlMusicRepository
from songy.adapters.sql.repositories.outbox import SqlOutbox
from songy.adapters.sql.repositories.playlists import SqlPlaylistRepository
from songy.adapters.sql.repositories.users import SqlUserRepository
from songy.adapters.sql.repositories.webhooks import SqlWebhookRepository
from songy.domain.errors import Conflict, DatabaseUnavailable, InvalidInput
from songy.domain.music import Music

# SQLSTATEs of a transaction the database aborted to resolve contention: nothing was changed, try again
_LOST_RACE = {"40001", "40P01"}  # serialization_failure, deadlock_detected


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

    def track(self, music: Music) -> Music:
        """Remember ``music`` so that commit writes its events to the outbox; returns it."""
        if music not in self.seen:
            self.seen.append(music)
        return music

    def forget(self, music_id: str) -> None:
        self.seen = [m for m in self.seen if m.id != music_id]

    async def commit(self) -> None:
        for music in self.seen:
            for event in music.events:
                not_before = getattr(event, "not_before", None)
                await self.outbox.add(event, not_before or self.now())
            music.events.clear()
        try:
            await self.connection.commit()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in _LOST_RACE:
                raise Conflict() from exc
            if isinstance(exc, OperationalError | InterfaceError):
                raise DatabaseUnavailable() from exc
            raise
        self.seen = []
        if self.wrote_events:
            self.wrote_events = False
            self._on_commit()

    async def execute(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        """Run a statement in this transaction. A violated unique or foreign key, or a transaction the database
        aborted to break a deadlock, becomes :class:`Conflict`; a value the database cannot hold,
        :class:`InvalidInput`; a lost connection, :class:`DatabaseUnavailable`."""
        while True:
            try:
                result = await self.connection.execute(statement, parameters)
            except IntegrityError as exc:
                raise Conflict(str(exc.orig).splitlines()[0]) from exc
            except DataError as exc:
                raise InvalidInput(f"a value cannot be stored: {str(exc.orig).splitlines()[0]}") from exc
            except DBAPIError as exc:
                if exc.connection_invalidated and self._fresh:
                    self._fresh = False  # replaced once: a stale pooled connection, nothing was done on it yet
                    await self.connection.close()
                    self.connection = await self._connect()
                    continue
                if getattr(exc.orig, "sqlstate", None) in _LOST_RACE:
                    raise Conflict() from exc
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
