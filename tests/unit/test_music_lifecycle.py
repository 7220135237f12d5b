"""The Music state machine, explored by hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from songy.domain.errors import InvalidTransition
from songy.domain.events import (
    MusicGenerationCanceled,
    MusicGenerationCompleted,
    MusicGenerationFailed,
    MusicGenerationRequested,
)
from songy.domain.generation_request import GenerationRequest
from songy.domain.music import Music, MusicStatus

T0 = datetime(2024, 9, 1, tzinfo=UTC)


def new_music() -> Music:
    return Music.request(music_id="m1", user_id="u1", request=GenerationRequest.create(name="n", prompt="p"), now=T0)


class MusicLifecycle(RuleBasedStateMachine):
    """Random sequences of every lifecycle method; illegal ones must raise and change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.music = new_music()
        self.now = T0
        self.model = MusicStatus.GENERATING
        self.leased = False  # an attempt is running (or died running): no other may start

    def _attempt(self, action, legal_from: MusicStatus, to: MusicStatus) -> None:  # type: ignore[no-untyped-def]
        self.now += timedelta(seconds=1)
        before = (self.music.status, self.music.audio_url, len(self.music.events))
        if self.model is legal_from:
            action()
            self.model = to
            self.leased = False
            assert self.music.updated_at == self.now
        else:
            with pytest.raises(InvalidTransition):
                action()
            assert (self.music.status, self.music.audio_url, len(self.music.events)) == before

    @rule(url=st.text(min_size=1, max_size=20))
    def complete(self, url: str) -> None:
        self._attempt(lambda: self.music.complete(url, self.now), MusicStatus.GENERATING, MusicStatus.COMPLETED)

    @rule(reason=st.text(max_size=20))
    def fail(self, reason: str) -> None:
        self._attempt(lambda: self.music.fail(reason, self.now), MusicStatus.GENERATING, MusicStatus.FAILED)

    @rule()
    def cancel(self) -> None:
        self._attempt(lambda: self.music.cancel(self.now), MusicStatus.GENERATING, MusicStatus.CANCELED)

    @rule()
    def retry(self) -> None:
        self._attempt(lambda: self.music.retry(self.now), MusicStatus.FAILED, MusicStatus.GENERATING)

    @rule()
    def schedule_retry(self) -> None:
        self._attempt(
            lambda: self.music.schedule_retry("busy", timedelta(seconds=30), self.now),
            MusicStatus.GENERATING,
            MusicStatus.GENERATING,
        )

    @precondition(lambda self: self.model is MusicStatus.GENERATING)
    @rule(attempt=st.integers(1, 5))
    def begin_attempt(self, attempt: int) -> None:
        key_before, current = self.music.object_key, self.music.attempts
        self.now += timedelta(seconds=1)
        if not self.leased and attempt >= current:
            self.music.begin_attempt(attempt, f"music/k{attempt}.mp3", self.now, self.now + timedelta(seconds=30))
            self.leased = True
            assert self.music.attempts == attempt
        else:  # a stale attempt, or a second one beside a running one, never starts
            with pytest.raises(InvalidTransition):
                self.music.begin_attempt(attempt, f"music/k{attempt}.mp3", self.now, self.now + timedelta(seconds=30))
            assert self.music.attempts == current
        assert key_before is None or self.music.object_key == key_before

    @invariant()
    def lease_held_only_by_a_running_attempt(self) -> None:
        assert (self.music.lease_expires_at is not None) == self.leased
        assert not self.leased or self.music.status is MusicStatus.GENERATING

    @invariant()
    def status_matches_model(self) -> None:
        assert self.music.status is self.model

    @invariant()
    def audio_url_only_when_completed(self) -> None:
        assert (self.music.audio_url is not None) == (self.music.status is MusicStatus.COMPLETED)

    @invariant()
    def failed_has_a_reason(self) -> None:
        if self.music.status is MusicStatus.FAILED:
            assert self.music.failure_reason

    @invariant()
    def last_event_matches_status(self) -> None:
        last = self.music.events[-1]
        expected = {
            MusicStatus.GENERATING: MusicGenerationRequested,
            MusicStatus.COMPLETED: MusicGenerationCompleted,
            MusicStatus.FAILED: MusicGenerationFailed,
            MusicStatus.CANCELED: MusicGenerationCanceled,
        }[self.music.status]
        assert isinstance(last, expected)


TestMusicLifecycle = MusicLifecycle.TestCase


def test_completed_never_goes_back_to_generating() -> None:
    music = new_music()
    music.complete("u", T0)
    with pytest.raises(InvalidTransition):
        music.retry(T0)
    assert music.status is MusicStatus.COMPLETED


def test_long_failure_reasons_are_clipped() -> None:
    music = new_music()
    music.fail("x" * 5000, T0)
    assert music.failure_reason is not None and len(music.failure_reason) == 1000
