"""GenerateMusic: record the request and its job in one transaction, answer at once."""

from __future__ import annotations

from songy.domain.generation_request import GenerationRequest
from songy.domain.music import Music
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock, IdGenerator


class GenerateMusic:
    """Create a GENERATING record; the ``music.generation.requested`` event lands in the outbox with it."""

    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, ids: IdGenerator, clock: Clock) -> None:
        self._uow = uow
        self._resolve_user = resolve_user
        self._ids = ids
        self._clock = clock

    async def __call__(self, identity: Identity, request: GenerationRequest) -> Music:
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            music = Music.request(music_id=self._ids.new_id(), user_id=user.id, request=request, now=self._clock.now())
            await uow.music.add(music)
            await uow.commit()
        return music
