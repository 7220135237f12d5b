"""Credits are reserved at request time and released when a track will never be delivered; idempotency
keys replay the original result."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from songy.domain.errors import IdempotencyKeyReused, InsufficientCredits, PermanentGenerationError, UserNotFound
from songy.domain.generation_request import GenerationRequest
from songy.domain.idempotency import IdempotencyKey
from songy.domain.use_cases.manage_music import CancelMusic, DeleteMusic

from .fakes import ALICE, World


def balance(world: World, clerk_id: str = ALICE.subject) -> int:
    return world.db.users[clerk_id].credits


def request(length_ms: int = 30000) -> GenerationRequest:
    return GenerationRequest.create(name="n", prompt="p", length_ms=length_ms)


async def test_credits_are_reserved_by_length_and_kept_on_completion() -> None:
    world = World(initial_credits=100)
    await world.request(length_ms=30500)
    assert balance(world) == 100 - 31
    await world.drain()
    assert balance(world) == 69


async def test_short_balance_is_402_and_creates_nothing() -> None:
    world = World(initial_credits=10)
    await world.request(length_ms=3000)
    with pytest.raises(InsufficientCredits):
        await world.request(length_ms=30000)
    assert len(world.db.music) == 1 and balance(world) == 7


async def test_failure_refunds_the_reservation() -> None:
    world = World(initial_credits=100, script=[PermanentGenerationError("bad_prompt")])
    await world.request(length_ms=30000)
    await world.drain()
    assert balance(world) == 100


async def test_cancel_and_delete_before_completion_refund() -> None:
    world = World(initial_credits=100)
    first = await world.request(length_ms=30000)
    second = await world.request(length_ms=20000)
    assert balance(world) == 50
    resolve = world.status._resolve_user
    await CancelMusic(world.uow, resolve, world.clock)(ALICE, first)
    assert balance(world) == 80
    await DeleteMusic(world.uow, resolve, world.blobs)(ALICE, second)
    assert balance(world) == 100


async def test_deleting_a_completed_track_does_not_refund() -> None:
    world = World(initial_credits=100)
    music_id = await world.request(length_ms=30000)
    await world.drain()
    await DeleteMusic(world.uow, world.status._resolve_user, world.blobs)(ALICE, music_id)
    assert balance(world) == 70


async def test_batch_is_all_or_nothing_on_credits() -> None:
    world = World(initial_credits=100)
    await world.request(length_ms=10000)
    with pytest.raises(InsufficientCredits):
        await world.generate(ALICE, [request(30000)] * 4)
    assert len(world.db.music) == 1 and balance(world) == 90
    generated = await world.generate(ALICE, [request(30000)] * 3)
    assert len(generated.music) == 3 and balance(world) == 0


async def test_same_key_and_body_replays_without_creating_or_charging() -> None:
    world = World(initial_credits=100)
    key = IdempotencyKey.create("key-1", "fingerprint-a")
    first = await world.generate(ALICE, request(), key)
    again = await world.generate(ALICE, request(), key)
    assert again.replayed and [m.id for m in again.music] == [m.id for m in first.music]
    assert len(world.db.music) == 1 and balance(world) == 70


async def test_same_key_with_another_body_is_refused() -> None:
    world = World()
    await world.generate(ALICE, request(), IdempotencyKey.create("key-1", "fingerprint-a"))
    with pytest.raises(IdempotencyKeyReused):
        await world.generate(ALICE, request(), IdempotencyKey.create("key-1", "fingerprint-b"))


async def test_key_expires_after_a_day() -> None:
    world = World()
    key = IdempotencyKey.create("key-1", "fingerprint-a")
    await world.generate(ALICE, request(), key)
    world.clock.advance(timedelta(hours=24))
    assert not (await world.generate(ALICE, request(), key)).replayed
    assert len(world.db.music) == 2


def test_key_must_be_printable_ascii() -> None:
    from songy.domain.errors import ValidationError

    for bad in ["", "x" * 256, "clé", "a\nb"]:
        with pytest.raises(ValidationError):
            IdempotencyKey.create(bad, "f")


async def test_a_user_deleted_after_a_request_cannot_generate_again() -> None:
    world = World(initial_credits=100)
    await world.request(length_ms=3000)  # the user is now known to GenerateMusic
    alice = world.db.users[ALICE.subject]
    world.db.users[ALICE.subject] = replace(alice, deleted_at=world.clock.now())
    with pytest.raises(UserNotFound):
        await world.request(length_ms=3000)
    assert len(world.db.music) == 1 and world.db.users[ALICE.subject].credits == 97


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(3000, 60_000), min_size=1, max_size=12), initial=st.integers(0, 200))
async def test_the_balance_is_always_what_the_created_tracks_cost(lengths: list[int], initial: int) -> None:
    world = World(initial_credits=initial)
    for length_ms in lengths:
        with contextlib.suppress(InsufficientCredits):
            await world.request(length_ms=length_ms)
    balance, accepted = initial, []  # the model: a second costs a credit, any part of one a whole credit
    for length_ms in lengths:
        cost = (length_ms + 999) // 1000
        if cost <= balance:
            balance -= cost
            accepted.append(length_ms)
    user = world.db.users.get(ALICE.subject)  # a first request refused for credits provisions nobody
    assert (user.credits if user else initial) == balance
    assert sorted(m.length_ms for m in world.db.music.values()) == sorted(accepted)
    assert sum(m.credits_reserved for m in world.db.music.values()) == initial - balance
