"""The Music aggregate and its lifecycle: GENERATING -> COMPLETED | FAILED | CANCELED; FAILED -> GENERATING on retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from songy.domain.errors import InvalidTransition
from songy.domain.events import (
    DomainEvent,
    MusicGenerationCanceled,
    MusicGenerationCompleted,
    MusicGenerationFailed,
    MusicGenerationRequested,
)
from songy.domain.formats import OutputFormat
from songy.domain.generation_request import GenerationRequest

MAX_REASON_CHARS = 1000


class MusicStatus(StrEnum):
    GENERATING = "GENERATING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def is_terminal(self) -> bool:
        return self is not MusicStatus.GENERATING


@dataclass(eq=False)
class Music:
    """One requested track. Methods enforce the lifecycle and record the events they cause."""

    id: str
    user_id: str
    name: str
    prompt: str
    length_ms: int
    output_format: OutputFormat
    model_id: str
    status: MusicStatus
    created_at: datetime
    updated_at: datetime
    audio_url: str | None = None
    object_key: str | None = None
    failure_reason: str | None = None
    attempts: int = 0
    credits_reserved: int = 0
    expired_at: datetime | None = None
    lease_expires_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    @classmethod
    def request(cls, *, music_id: str, user_id: str, request: GenerationRequest, now: datetime) -> Music:
        """A new record in GENERATING, with the event that asks for its first attempt."""
        music = cls(
            id=music_id,
            user_id=user_id,
            name=request.name,
            prompt=request.prompt,
            length_ms=request.length_ms,
            output_format=request.output_format,
            model_id=request.model_id,
            status=MusicStatus.GENERATING,
            created_at=now,
            updated_at=now,
        )
        music.events.append(MusicGenerationRequested(music.id, user_id, attempt=1))
        return music

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Music) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def can_start(self, attempt: int) -> bool:
        """Whether a job for ``attempt`` may run now: the track is GENERATING, ``attempt`` is the current one (not a
        stale redelivery of an earlier one), and no attempt holds the lease (one running, or one that died running:
        the reaper's business). So each attempt runs at most once, and never beside another."""
        return self.status is MusicStatus.GENERATING and attempt >= self.attempts and self.lease_expires_at is None

    def begin_attempt(self, attempt: int, object_key: str, now: datetime, lease_until: datetime) -> None:
        """Start ``attempt``: it holds the lease until ``lease_until`` (renewed while it runs), and the object key
        is fixed once, so every attempt writes to the same key instead of leaving another object."""
        self._require(MusicStatus.GENERATING, "start an attempt")
        if not self.can_start(attempt):
            raise InvalidTransition(f"attempt {attempt} of music {self.id} cannot start now")
        self.attempts = attempt
        self.lease_expires_at = lease_until
        if self.object_key is None:
            self.object_key = object_key
        self.updated_at = now

    def lease_expired(self, now: datetime) -> bool:
        """A started attempt that stopped renewing its lease: its worker died."""
        return self.lease_expires_at is not None and self.lease_expires_at <= now

    def complete(self, audio_url: str, now: datetime, metadata: dict[str, Any] | None = None) -> None:
        """GENERATING -> COMPLETED with the stored audio's URL and what the generator told of it."""
        self._require(MusicStatus.GENERATING, "complete")
        self.status = MusicStatus.COMPLETED
        self.audio_url = audio_url
        self.metadata = metadata
        self.failure_reason = None
        self.lease_expires_at = None
        self.updated_at = now
        self.events.append(MusicGenerationCompleted(self.id, self.user_id, audio_url=audio_url))

    def fail(self, reason: str, now: datetime) -> None:
        """GENERATING -> FAILED, keeping the reason a user can read."""
        self._require(MusicStatus.GENERATING, "fail")
        self.status = MusicStatus.FAILED
        self.failure_reason = _clip(reason)
        self.lease_expires_at = None
        self.updated_at = now
        self.events.append(MusicGenerationFailed(self.id, self.user_id, reason=self.failure_reason))

    def schedule_retry(self, reason: str, delay: timedelta, now: datetime) -> None:
        """Stay GENERATING and ask for the next attempt after ``delay``. The next attempt becomes the current one at
        once, so a late redelivery of the one that just ended is stale and skipped."""
        self._require(MusicStatus.GENERATING, "schedule a retry")
        self.failure_reason = _clip(reason)
        self.attempts = max(self.attempts, 1) + 1
        self.lease_expires_at = None
        self.updated_at = now
        self.events.append(
            MusicGenerationRequested(self.id, self.user_id, attempt=self.attempts, not_before=now + delay)
        )

    def request_again(self, now: datetime) -> None:
        """Ask again for the current attempt, which was handed to a queue that is known to be lost (an in-process
        queue after a restart) and never started: no attempt is spent, and a surviving copy of the job is harmless
        (whichever starts first holds the lease; the other is skipped)."""
        self._require(MusicStatus.GENERATING, "request again")
        if self.lease_expires_at is not None:
            raise InvalidTransition(f"attempt {self.attempts} of music {self.id} has started")
        self.events.append(MusicGenerationRequested(self.id, self.user_id, attempt=max(self.attempts, 1)))

    def cancel(self, now: datetime) -> None:
        """GENERATING -> CANCELED: the worker discards whatever it was rendering."""
        self._require(MusicStatus.GENERATING, "cancel")
        self.status = MusicStatus.CANCELED
        self.lease_expires_at = None
        self.updated_at = now
        self.events.append(MusicGenerationCanceled(self.id, self.user_id))

    def expire(self, now: datetime) -> str | None:
        """Retention: the audio goes, the record stays (COMPLETED, no ``audioUrl``). Returns the object key."""
        self._require(MusicStatus.COMPLETED, "expire the audio of")
        key = self.object_key
        self.audio_url = None
        self.expired_at = now
        self.updated_at = now
        return key

    def retry(self, now: datetime) -> None:
        """The explicit way out of FAILED: back to GENERATING with a fresh attempt budget."""
        self._require(MusicStatus.FAILED, "retry")
        self.status = MusicStatus.GENERATING
        self.failure_reason = None
        self.attempts = 0
        self.object_key = None
        self.lease_expires_at = None
        self.updated_at = now
        self.events.append(MusicGenerationRequested(self.id, self.user_id, attempt=1))

    def _require(self, expected: MusicStatus, action: str) -> None:
        if self.status is not expected:
            raise InvalidTransition(f"cannot {action} music {self.id} in status {self.status.value}")


def _clip(reason: str) -> str:
    reason = reason.strip() or "unknown error"
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"
