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
from sqlalchemy import select

from songy.adapters.sql import tables
from songy.domain.music import MusicStatus
from songy.domain.webhooks import MAX_ENDPOINTS_PER_USER
from tests.integration.concurrency_world import ADMIN, ConcurrencyWorld

pytestmark = pytest.mark.integration

WAYS = 16
TRACK_OPS = (
    "cancel",
    "delete",
    "complete",
    "fail",
    "transient",
    "playlist_add",
    "playlist_remove",
    "admin_retry",
    "admin_cancel",
    "held",
)
GLOBAL_OPS = ("reap", "expire", "generate", "grant", "endpoint", "playlist_add_other", "purge", "pause", "resume")
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
            await world.new_track(self.user, failed=True),
        ]
        self.foreign = await world.new_track(self.stranger, completed=True)
        self.playlist = (await world.playlists.create(self.user, "mix")).id
        await world.playlists.add_track(self.user, self.playlist, self.tracks[3], None)

    async def fire(self, ops: list[tuple[str, int]], attempt: int | None = None) -> list[str]:
        """Run ``(operation, track index)`` pairs all at once; then relay what they left in the outbox."""
        before = await self.world.snapshot()
        tasks = [
            asyncio.ensure_future(
                self.world.run(op, self.user, self.tracks[index], self.playlist, self.foreign, attempt)
            )
            for op, index in ops
        ]
        await asyncio.gather(*(t for t, (op, _) in zip(tasks, ops, strict=True) if op != "held"))
        await self.world.control.set_paused(False)  # whatever the mix left paused: held jobs go on
        answers = await asyncio.gather(*tasks)
        await self.world.settle()
        await self.world.check_invariants(before)
        self._one_success_per_transition(ops, answers)
        return answers

    def _one_success_per_transition(self, ops: list[tuple[str, int]], answers: list[str]) -> None:
        ended, deleted, retried = Counter[int](), Counter[int](), Counter[int]()
        for (op, index), answer in zip(ops, answers, strict=True):
            if (op in ("cancel", "admin_cancel") and answer == "ok") or answer in ("completed", "failed"):
                ended[index] += 1
            if op == "delete" and answer == "ok":
                deleted[index] += 1
            if op == "admin_retry" and answer == "ok":
                retried[index] += 1
        for index, ends in ended.items():  # once per life: an admin retry starts another
            assert ends <= 1 + retried[index], f"a track ended more than once: {ops} -> {answers}"
        assert max(deleted.values(), default=0) <= 1, f"a track was deleted more than once: {ops} -> {answers}"


@pytest.mark.parametrize("op", ALL_OPS)
def test_each_operation_fired_16_way_keeps_every_invariant(
    op: str, world: ConcurrencyWorld, loop: asyncio.AbstractEventLoop
) -> None:
    round_ = Round(world)
    loop.run_until_complete(round_.prepare())
    target = {
        "cancel": 1,
        "delete": 1,
        "playlist_add": 2,
        "playlist_remove": 3,
        "admin_retry": 4,
        "admin_cancel": 1,
    }.get(op, 0)
    # worker operations are 16 deliveries of the same job, the first attempt's
    answers = loop.run_until_complete(round_.fire([(op, target)] * WAYS, attempt=1))
    successes = Counter(answers)
    if op in ("cancel", "delete", "admin_retry", "admin_cancel"):  # one changes the track; the rest are too late
        assert successes["ok"] == 1, answers
        assert set(successes) <= {"ok", "INVALID_TRANSITION", "MUSIC_NOT_FOUND"}, answers
    elif op == "purge":  # the one old failure is deleted once, whoever purges
        assert sum(int(a.split()[1]) for a in answers) == 1, answers
    elif op in ("pause", "resume"):
        assert successes["ok"] == WAYS, answers
    elif op in ("complete", "fail", "held"):  # one job runs the attempt; its 15 twins skip it before any provider call
        assert successes["failed" if op == "fail" else "completed"] == 1 and successes["skipped"] == 15, answers
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


def test_a_paused_queue_holds_every_delivery_until_resumed(
    world: ConcurrencyWorld, loop: asyncio.AbstractEventLoop
) -> None:
    """While paused, no delivery of a job begins its attempt (the lease stays free, no provider call); on resume
    exactly one runs it and its 15 twins skip it."""

    async def scenario() -> list[str]:
        round_ = Round(world)
        await round_.prepare()
        track = round_.tracks[0]
        await world.pause(ADMIN, paused=True)
        before = await world.snapshot()
        held = [
            asyncio.ensure_future(world.run("held", round_.user, track, round_.playlist, "", 1)) for _ in range(WAYS)
        ]
        for _ in range(1000):  # the positive signal: every delivery is waiting at the pause
            if world.held.waiting == WAYS:
                break
            await asyncio.sleep(0.01)
        assert world.held.waiting == WAYS
        async with world.uow() as uow:
            row = (await uow.execute(select(tables.music).where(tables.music.c.id == track))).one()
        assert row.lease_expires_at is None and row.status == "GENERATING"  # no attempt began
        await world.pause(ADMIN, paused=False)
        answers = await asyncio.gather(*held)
        await world.settle()
        await world.check_invariants(before)
        return answers

    answers = loop.run_until_complete(scenario())
    assert Counter(answers) == {"completed": 1, "skipped": WAYS - 1}, answers


def test_admin_retry_racing_purge_and_a_worker_ends_one_way(
    world: ConcurrencyWorld, loop: asyncio.AbstractEventLoop
) -> None:
    """A FAILED track is either purged (the retry then finds nothing) or retried (and not purged), never both;
    a worker's job runs the retried attempt at most once; credits stay conserved."""

    async def trials() -> Counter[str]:
        user = await world.new_user()
        seen = Counter[str]()
        for _ in range(20):
            music_id = await world.new_track(user, failed=True)
            before = await world.snapshot()
            retry, purge, work = await asyncio.gather(
                world.run("admin_retry", user, music_id, "", ""),
                world.run("purge", user, music_id, "", ""),
                world.run("complete", user, music_id, "", "", 1),
            )
            await world.settle()
            await world.check_invariants(before)
            status = (await world.snapshot()).get(music_id)
            purged = purge == "purged 1"
            assert (retry == "ok") != purged, (retry, purge, work)
            assert (status is None) == purged
            assert work in ("completed", "skipped") and (work == "completed") <= (retry == "ok")
            seen["purged" if purged else f"retried, then {status}"] += 1
        return seen

    seen = loop.run_until_complete(trials())
    assert sum(seen.values()) == 20


operations = st.tuples(st.sampled_from(ALL_OPS), st.integers(min_value=0, max_value=4))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=st.lists(operations, min_size=WAYS, max_size=WAYS))
def test_any_mix_of_16_concurrent_operations_keeps_every_invariant(
    mix: list[tuple[str, int]], world: ConcurrencyWorld, loop: asyncio.AbstractEventLoop
) -> None:
    round_ = Round(world)
    loop.run_until_complete(round_.prepare())
    loop.run_until_complete(round_.fire(mix))
