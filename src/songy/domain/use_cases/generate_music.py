"""GenerateMusic: record one or more requests and their jobs in one transaction, answer at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from songy.domain.credits import cost_of
from songy.domain.errors import Conflict, IdempotencyKeyReused, InsufficientCredits, MusicNotFound
from songy.domain.generation_request import GenerationRequest
from songy.domain.idempotency import IdempotencyKey, IdempotencyRecord
from songy.domain.music import Music
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity
from songy.ports.repositories import UnitOfWork, UnitOfWorkFactory
from songy.ports.system import Clock, IdGenerator

MAX_BATCH = 10
KNOWN_USERS_MAX = 100_000


@dataclass(frozen=True)
class Generated:
    music: list[Music]
    replayed: bool = False


class GenerateMusic:
    """Create GENERATING records (all or none); each ``music.generation.requested`` event lands in the
    outbox with its row. Credits are reserved in the same transaction; an idempotency key replays. Users seen
    before take a shorter path (no lookup; the balance row locked last)."""

    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, ids: IdGenerator, clock: Clock) -> None:
        self._uow = uow
        self._resolve_user = resolve_user
        self._ids = ids
        self._clock = clock
        self._known_users: dict[str, str] = {}  # clerkId -> user id: both are permanent once the user exists

    async def __call__(
        self,
        identity: Identity,
        requests: GenerationRequest | list[GenerationRequest],
        idempotency: IdempotencyKey | None = None,
    ) -> Generated:
        batch = [requests] if isinstance(requests, GenerationRequest) else list(requests)
        if not 1 <= len(batch) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} requests")
        try:
            return await self._create(identity, batch, idempotency)
        except Conflict:
            if idempotency is None:
                raise
            return await self._create(identity, batch, idempotency)  # a concurrent twin won: replay it

    async def _create(
        self, identity: Identity, batch: list[GenerationRequest], idempotency: IdempotencyKey | None
    ) -> Generated:
        now = self._clock.now()
        cost = sum(cost_of(r.length_ms) for r in batch)
        known = self._known_users.get(identity.subject) if idempotency is None else None
        if known is not None:
            created = await self._create_for_known_user(known, batch, cost, now)
            if created is not None:
                return Generated(created)
            self._known_users.pop(identity.subject, None)  # deleted, or short of credits: the full path says which
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            if idempotency is not None:
                replay = await self._replay(uow, user.id, idempotency)
                if replay is not None:
                    await uow.commit()
                    return replay
            if not await uow.users.reserve_credits(user.id, cost):
                raise InsufficientCredits(f"this needs {cost} credits (one per second of audio)")
            created = await self._add(uow, user.id, batch, now)
            if idempotency is not None:
                record = IdempotencyRecord(
                    user.id, idempotency.key, idempotency.fingerprint, tuple(m.id for m in created), now
                )
                await uow.idempotency.add(record)
            await uow.commit()
        self._remember(identity.subject, user.id)
        return Generated(created)

    async def _create_for_known_user(
        self, user_id: str, batch: list[GenerationRequest], cost: int, now: datetime
    ) -> list[Music] | None:
        """The common case: the records first and the credits last, so a user's balance row is locked only from
        the reservation to the commit (a user's concurrent requests queue on it). ``None``: nothing was written."""
        async with self._uow() as uow:
            try:
                created = await self._add(uow, user_id, batch, now)
            except Conflict:  # the user row is gone
                return None
            if not await uow.users.reserve_credits(user_id, cost):
                return None
            await uow.commit()
        return created

    async def _add(self, uow: UnitOfWork, user_id: str, batch: list[GenerationRequest], now: datetime) -> list[Music]:
        created = []
        for request in batch:
            music = Music.request(music_id=self._ids.new_id(), user_id=user_id, request=request, now=now)
            music.credits_reserved = cost_of(request.length_ms)
            await uow.music.add(music)
            created.append(music)
        return created

    def _remember(self, clerk_id: str, user_id: str) -> None:
        if len(self._known_users) >= KNOWN_USERS_MAX:
            self._known_users.clear()
        self._known_users[clerk_id] = user_id

    async def _replay(self, uow: UnitOfWork, user_id: str, idempotency: IdempotencyKey) -> Generated | None:
        record = await uow.idempotency.get(user_id, idempotency.key)
        if record is None:
            return None
        if record.expired(self._clock.now()):
            await uow.idempotency.delete(user_id, idempotency.key)
            return None
        if record.fingerprint != idempotency.fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
        found = [await uow.music.get_owned(music_id, user_id) for music_id in record.music_ids]
        if any(m is None for m in found):
            raise MusicNotFound("the music created with this Idempotency-Key was deleted")
        return Generated([m for m in found if m is not None], replayed=True)
