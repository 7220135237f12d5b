"""ListMusic, CancelMusic, DeleteMusic: what a user can do with their own tracks besides generating them."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime

from songy.domain.credits import release_credits
from songy.domain.errors import FieldError, InvalidTransition, MusicNotFound, ValidationError
from songy.domain.events import MusicDeleted
from songy.domain.ids import is_id
from songy.domain.music import Music, MusicStatus
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity
from songy.ports.blobs import BlobStore
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock

log = logging.getLogger(__name__)
MAX_PAGE = 100


@dataclass(frozen=True)
class Page:
    items: list[Music]
    next_cursor: str | None


def encode_cursor(music: Music) -> str:
    raw = f"{music.created_at.isoformat()}|{music.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, music_id = raw.split("|", 1)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not is_id(music_id):
            raise ValueError(cursor)
        return moment, music_id
    except (ValueError, UnicodeDecodeError):
        raise ValidationError([FieldError("cursor", "not a cursor this API returned")]) from None


class ListMusic:
    """A user's tracks, newest first, ``limit`` at a time; ``next_cursor`` continues after the last one."""

    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser) -> None:
        self._uow = uow
        self._resolve_user = resolve_user

    async def __call__(
        self, identity: Identity, *, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> Page:
        errors = []
        wanted = None
        if status is not None:
            try:
                wanted = MusicStatus(status)
            except ValueError:
                errors.append(FieldError("status", f"must be one of {[s.value for s in MusicStatus]}"))
        if not 1 <= limit <= MAX_PAGE:
            errors.append(FieldError("limit", f"must be between 1 and {MAX_PAGE}"))
        if errors:
            raise ValidationError(errors)
        before = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            rows = await uow.music.list_for_user(user.id, status=wanted, limit=limit + 1, before=before)
            await uow.commit()
        items = rows[:limit]
        return Page(items, encode_cursor(items[-1]) if len(rows) > limit else None)


class CancelMusic:
    """GENERATING -> CANCELED; a finished track answers 409 (``InvalidTransition``). The record is locked while the
    change is decided, so of concurrent cancels (and a worker finishing) exactly one changes it."""

    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, clock: Clock) -> None:
        self._uow = uow
        self._resolve_user = resolve_user
        self._clock = clock

    async def __call__(self, identity: Identity, music_id: str) -> Music:
        if not is_id(music_id):
            raise MusicNotFound()
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            music = await uow.music.get_owned(music_id, user.id, for_update=True)
            if music is None:
                raise MusicNotFound()
            if music.status is not MusicStatus.GENERATING:
                raise InvalidTransition(f"music {music_id} is already {music.status.value}")
            music.cancel(self._clock.now())
            await release_credits(uow, music)
            await uow.music.save(music)
            await uow.commit()
        return music


class DeleteMusic:
    """Remove the record, then its stored objects in every format. A running job finds no record and
    discards its upload; an object that fails to delete is logged, never resurrecting the record."""

    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, blobs: BlobStore) -> None:
        self._uow = uow
        self._resolve_user = resolve_user
        self._blobs = blobs

    async def __call__(self, identity: Identity, music_id: str) -> None:
        if not is_id(music_id):
            raise MusicNotFound()
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            music = await uow.music.get_owned(music_id, user.id, for_update=True)
            if music is None:
                raise MusicNotFound()
            if music.status is MusicStatus.GENERATING:
                await release_credits(uow, music)
            await uow.music.delete(music.id)
            await uow.outbox.add(MusicDeleted(music.id, music.user_id, object_key=music.object_key), music.updated_at)
            await uow.commit()
        if music.object_key:
            await delete_objects(self._blobs, music.object_key)


async def discard_objects(blobs: BlobStore, object_key: str) -> None:
    """Delete the original and its transcoded variants (``<stem>.<format>.<ext>``); raises on storage faults."""
    await blobs.delete(object_key)
    await blobs.delete_prefix(object_key.rsplit(".", 1)[0] + ".")


async def delete_objects(blobs: BlobStore, object_key: str) -> None:
    """:func:`discard_objects` at once, best effort: callers also leave a durable event the relay retries."""
    try:
        await discard_objects(blobs, object_key)
    except Exception:
        log.exception("could not delete the objects of %s now; the outbox retries", object_key)
