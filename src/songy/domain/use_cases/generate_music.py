"""GenerateMusic: record one or more requests and their jobs in one transaction, answer at once."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Generated:
    music: list[Music]
    replayed: bool = False


class GenerateMusic:
    """Create GENERATING records (all or none); each ``music.generation.requested`` event lands in the
    outbox with its row. Credits are reserved in the same transaction; an idempotency key replays."""

    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, ids: IdGenerator, clock: Clock) -> None:
        self._uow = uow
        self._resolve_user = resolve_user
        self._ids = ids
        self._clock = clock

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
        async with self._uow() as uow:
            # the common case in one statement: a known user with enough credits and no key to replay
            user_id = None if idempotency else await uow.users.reserve_credits_by_clerk_id(identity.subject, cost)
            if user_id is None:
                user = await self._resolve_user(uow, identity)  # USER_NOT_FOUND, or a first-time dev user
                user_id = user.id
                if idempotency is not None:
                    replay = await self._replay(uow, user_id, idempotency)
                    if replay is not None:
                        await uow.commit()
                        return replay
                if not await uow.users.reserve_credits(user_id, cost):
                    raise InsufficientCredits(f"this needs {cost} credits (one per second of audio)")
            created = []
            for request in batch:
                music = Music.request(music_id=self._ids.new_id(), user_id=user_id, request=request, now=now)
                music.credits_reserved = cost_of(request.length_ms)
                await uow.music.add(music)
                created.append(music)
            if idempotency is not None:
                record = IdempotencyRecord(
                    user_id, idempotency.key, idempotency.fingerprint, tuple(m.id for m in created), now
                )
                await uow.idempotency.add(record)
            await uow.commit()
        return Generated(created)

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
