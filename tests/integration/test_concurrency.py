"""Every state-changing operation fired 16-way at once on PostgreSQL, alone and mixed (hypothesis chooses the
mixes), with the invariants checked after each round: credits conserved exactly, no transition out of a terminal
state, exactly one success per transition, at most one terminal event per track, limits never exceeded."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songy.domain.music import MusicStatus
from songy.domain.webhooks import MAX_ENDPOINTS_PER_USER
from tests.integration.concurrency_world import ConcurrencyWorld

pytestmark = pytest.mark.integration

WAYS = 16
TRACK_OPS = ("cancel", "delete", "complete", "fail", "transient", "playlist_add", "playlist_remove")
GLOBAL_OPS = ("reap", "expire", "generate", "grant", "endpoint", "playlist_add_other")
PLAYLIST_OPS = ("playlist_reorder", "playlist_rename", "playlist_delete")
ALL_OPS = TRACK_OPS + GLOBAL_OPS + PLAYLIST_OPS


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def world(postgres_url: str, loop: asyncio.AbstractEventLoop) -> Iterator[ConcurrencyWorld]:
    world = ConcurrencyWorld(postgres_url)
    yield world
    loop.run_until_complete(world.close())


class Round:
    """One user's tracks in each state an operation can meet, and a playlist holding one of them."""

    def __init__(self, world: ConcurrencyWorld) -> None:
        self.world = world

    async def prepare(self) -> None:
        world = self.world
        self.user = await world.new_user()
        self.stranger = await world.new_user()
        self.tracks = [
            await world.new_track(self.user),  # GENERATING, its job not yet started
            await world.new_track(self.user, started=True),  # GENERATING, an attempt running
            await world.new_track(self.user, completed=True),
            await world.new_track(self.user, completed=True),
        ]
        self.foreign = await world.new_track(self.stranger, completed=True)
        self.playlist = (await world.playlists.create(self.user, "mix")).id
        await world.playlists.add_track(self.user, self.playlist, self.tracks[3], None)

    async def fire(self, ops: list[tuple[str, int]], attempt: int | None = None) -> list[str]:
        """Run ``(operation, track index)`` pairs all at once; then relay what they left in the outbox."""
        before = await self.world.snapshot()
        answers = await asyncio.gather(
            *(
                self.world.run(op, self.user, self.tracks[index], self.playlist, self.foreign, attempt)
                for op, index in ops
            )
        )
        await self.world.settle()
        await self.world.check_invariants(before)
        self._one_success_per_transition(ops, answers)
        return answers

    def _one_success_per_transition(self, ops: list[tuple[str, int]], answers: list[str]) -> None:
        ended, deleted = Counter[int](), Counter[int]()
        for (op, index), answer in zip(ops, answers, strict=True):
            if (op == "cancel" and answer == "ok") or answer in ("completed", "failed"):
                ended[index] += 1
            if op == "delete" and answer == "ok":
                deleted[index] += 1
        assert max(ended.values(), default=0) <= 1, f"a track ended more than once: {ops} -> {answers}"
        assert max(deleted.values(), default=0) <= 1, f"a track was deleted more than once: {ops} -> {answers}"


@pytest.mark.parametrize("op", ALL_OPS)
def test_each_operation_fired_16_way_keeps_every_invariant(
    op: str, world: ConcurrencyWorld, loop: asyncio.AbstractEventLoop
) -> None:
    round_ = Round(world)
    loop.run_until_complete(round_.prepare())
    target = {"cancel": 1, "delete": 1, "playlist_add": 2, "playlist_remove": 3}.get(op, 0)
    # worker operations are 16 deliveries of the same job, the first attempt's
    answers = loop.run_until_complete(round_.fire([(op, target)] * WAYS, attempt=1))
    successes = Counter(answers)
    if op in ("cancel", "delete"):  # one of them changes the track; every other one is told it is too late
        assert successes["ok"] == 1, answers
    elif op in ("complete", "fail"):  # one job runs the attempt; its 15 twins skip it before any provider call
        assert successes["completed" if op == "complete" else "failed"] == 1 and successes["skipped"] == 15, answers
    elif op == "transient":
        assert successes["retry_scheduled"] == 1 and successes["skipped"] == 15, answers
    elif op == "reap":  # the running attempt's lease has run out (the reaper looks an hour ahead): reaped once
        assert sum(int(a.split()[1]) for a in answers) >= 1
    elif op == "endpoint":
        assert successes["ok"] == MAX_ENDPOINTS_PER_USER, answers
    elif op in ("playlist_add", "playlist_delete"):
        assert successes["ok"] == 1, answers
    elif op == "playlist_add_other":  # another user's track is never found, whoever asks how often
        assert successes["MUSIC_NOT_FOUND"] == WAYS, answers
    elif op in ("generate", "grant", "playlist_rename", "playlist_reorder", "playlist_remove"):
        expected_ok = 1 if op == "playlist_remove" else WAYS
        assert successes["ok"] == expected_ok, answers


def test_cancel_racing_the_workers_completion_ends_one_way(
    world: ConcurrencyWorld, loop: asyncio.AbstractEventLoop
) -> None:
    async def trials() -> Counter[MusicStatus]:
        user = await world.new_user()
        endings = Counter[MusicStatus]()
        for _ in range(40):
            music_id = await world.new_track(user)
            before = await world.snapshot()
            answers = await asyncio.gather(
                world.run("cancel", user, music_id, "", ""), world.run("complete", user, music_id, "", "")
            )
            await world.settle()
            await world.check_invariants(before)
            status = (await world.snapshot())[music_id]
            assert (answers[0] == "ok") == (status is MusicStatus.CANCELED), answers
            assert (answers[1] == "completed") == (status is MusicStatus.COMPLETED), answers
            endings[status] += 1
        return endings

    endings = loop.run_until_complete(trials())
    assert set(endings) <= {MusicStatus.CANCELED, MusicStatus.COMPLETED} and sum(endings.values()) == 40


operations = st.tuples(st.sampled_from(ALL_OPS), st.integers(min_value=0, max_value=3))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=st.lists(operations, min_size=WAYS, max_size=WAYS))
def test_any_mix_of_16_concurrent_operations_keeps_every_invariant(
    mix: list[tuple[str, int]], world: ConcurrencyWorld, loop: asyncio.AbstractEventLoop
) -> None:
    round_ = Round(world)
    loop.run_until_complete(round_.prepare())
    loop.run_until_complete(round_.fire(mix))
