"""The Music aggregate and its lifecycle: GENERATING -> COMPLETED | FAILED | CANCELED; FAILED -> GENERATING on retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

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

    def begin_attempt(self, attempt: int, object_key: str, now: datetime) -> None:
        """Mark ``attempt`` as started and fix the object key once, so redeliveries overwrite, not duplicate."""
        self._require(MusicStatus.GENERATING, "start an attempt")
        self.attempts = max(self.attempts, attempt)
        if self.object_key is None:
            self.object_key = object_key
        self.updated_at = now

    def complete(self, audio_url: str, now: datetime) -> None:
        """GENERATING -> COMPLETED with the stored audio's URL."""
        self._require(MusicStatus.GENERATING, "complete")
        self.status = MusicStatus.COMPLETED
        self.audio_url = audio_url
        self.failure_reason = None
        self.updated_at = now
        self.events.append(MusicGenerationCompleted(self.id, self.user_id, audio_url=audio_url))

    def fail(self, reason: str, now: datetime) -> None:
        """GENERATING -> FAILED, keeping the reason a user can read."""
        self._require(MusicStatus.GENERATING, "fail")
        self.status = MusicStatus.FAILED
        self.failure_reason = _clip(reason)
        self.updated_at = now
        self.events.append(MusicGenerationFailed(self.id, self.user_id, reason=self.failure_reason))

    def schedule_retry(self, reason: str, delay: timedelta, now: datetime) -> None:
        """Stay GENERATING and ask for the next attempt after ``delay``."""
        self._require(MusicStatus.GENERATING, "schedule a retry")
        self.failure_reason = _clip(reason)
        self.updated_at = now
        self.events.append(
            MusicGenerationRequested(self.id, self.user_id, attempt=self.attempts + 1, not_before=now + delay)
        )

    def cancel(self, now: datetime) -> None:
        """GENERATING -> CANCELED: the worker discards whatever it was rendering."""
        self._require(MusicStatus.GENERATING, "cancel")
        self.status = MusicStatus.CANCELED
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
        self.updated_at = now
        self.events.append(MusicGenerationRequested(self.id, self.user_id, attempt=1))

    def _require(self, expected: MusicStatus, action: str) -> None:
        if self.status is not expected:
            raise InvalidTransition(f"cannot {action} music {self.id} in status {self.status.value}")


def _clip(reason: str) -> str:
    reason = reason.strip() or "unknown error"
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"
