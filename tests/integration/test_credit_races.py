"""Concurrency on PostgreSQL: no two requests spend the same credits; one idempotency key, one job."""

from __future__ import annotations

import asyncio

import pytest

from songy.adapters.memory.system import FixedClock
from songy.adapters.sql.engine import build_engine
from songy.adapters.sql.unit_of_work import SqlUnitOfWork
from songy.adapters.system import Cuid2Ids
from songy.domain.errors import InsufficientCredits
from songy.domain.generation_request import GenerationRequest
from songy.domain.idempotency import IdempotencyKey
from songy.domain.use_cases.generate_music import GenerateMusic
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity

pytestmark = pytest.mark.integration

ALICE = Identity("user_alice")


async def world(url: str, initial_credits: int) -> tuple[GenerateMusic, SqlUnitOfWork, object]:
    engine = build_engine(url, pool_size=20)
    clock = FixedClock()

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock.now, lambda: None)

    resolve = ResolveUser(Cuid2Ids(), clock, provision_unknown=True, initial_credits=initial_credits)
    generate = GenerateMusic(uow, resolve, Cuid2Ids(), clock)
    async with uow() as unit:  # the user exists before the race starts
        await resolve(unit, ALICE)
        await unit.commit()
    return generate, uow(), engine


async def test_concurrent_requests_never_overspend(postgres_url: str) -> None:
    generate, _, engine = await world(postgres_url, initial_credits=100)
    request = GenerationRequest.create(name="n", prompt="p", length_ms=30000)  # 30 credits each

    async def attempt() -> bool:
        try:
            await generate(ALICE, request)
        except InsufficientCredits:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(12)))
    assert sum(results) == 3
    async with SqlUnitOfWork(engine, FixedClock().now, lambda: None) as uow:  # type: ignore[arg-type]
        user = await uow.users.get_by_clerk_id("user_alice")
        assert user is not None and user.credits == 10
        assert await uow.outbox.pending_count() == 3
    await engine.dispose()  # type: ignore[attr-defined]


async def test_concurrent_same_idempotency_key_creates_one_record(postgres_url: str) -> None:
    generate, _, engine = await world(postgres_url, initial_credits=1000)
    request = GenerationRequest.create(name="n", prompt="p", length_ms=3000)
    key = IdempotencyKey.create("same", "fingerprint")
    results = await asyncio.gather(*(generate(ALICE, request, key) for _ in range(10)))
    assert len({r.music[0].id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    async with SqlUnitOfWork(engine, FixedClock().now, lambda: None) as uow:  # type: ignore[arg-type]
        user = await uow.users.get_by_clerk_id("user_alice")
        assert user is not None and user.credits == 997
    await engine.dispose()  # type: ignore[attr-defined]


async def test_concurrent_first_requests_of_a_new_user_provision_it_once(postgres_url: str) -> None:
    generate, _, engine = await world(postgres_url, initial_credits=1000)
    newcomer = Identity("user_newcomer")
    request = GenerationRequest.create(name="n", prompt="p", length_ms=10000)
    results = await asyncio.gather(*(generate(newcomer, request) for _ in range(10)))  # none may fail
    assert len({r.music[0].id for r in results}) == 10
    async with SqlUnitOfWork(engine, FixedClock().now, lambda: None) as uow:  # type: ignore[arg-type]
        user = await uow.users.get_by_clerk_id("user_newcomer")
        assert user is not None and user.credits == 1000 - 10 * 10
        assert {r.music[0].user_id for r in results} == {user.id}
    await engine.dispose()  # type: ignore[attr-defined]
