"""Domain events: facts about a Music record that other parts of the system react to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True)
class DomainEvent:
    """Base of all events; ``name`` is the stable topic, e.g. ``music.generation.requested``."""

    name: ClassVar[str] = "domain.event"
    music_id: str
    user_id: str

    def payload(self) -> dict[str, Any]:
        """A JSON-safe dict of the fields (datetimes as ISO strings)."""
        data = asdict(self)
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


@dataclass(frozen=True)
class MusicGenerationRequested(DomainEvent):
    """A generation attempt should run (first attempt or a scheduled retry), not before ``not_before``."""

    name: ClassVar[str] = "music.generation.requested"
    attempt: int = 1
    not_before: datetime | None = field(default=None)


@dataclass(frozen=True)
class MusicGenerationCompleted(DomainEvent):
    name: ClassVar[str] = "music.generation.completed"
    audio_url: str = ""


@dataclass(frozen=True)
class MusicGenerationFailed(DomainEvent):
    name: ClassVar[str] = "music.generation.failed"
    reason: str = ""


@dataclass(frozen=True)
class MusicGenerationCanceled(DomainEvent):
    name: ClassVar[str] = "music.generation.canceled"


@dataclass(frozen=True)
class MusicDeleted(DomainEvent):
    name: ClassVar[str] = "music.deleted"
    object_key: str | None = None


@dataclass(frozen=True)
class ObjectsDiscarded(DomainEvent):
    """Stored audio that no record will serve (an interrupted or superseded upload) is to be deleted."""

    name: ClassVar[str] = "music.objects.discarded"
    object_key: str = ""


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.name: cls
    for cls in (
        MusicGenerationRequested,
        MusicGenerationCompleted,
        MusicGenerationFailed,
        MusicGenerationCanceled,
        MusicDeleted,
        ObjectsDiscarded,
    )
}


def event_from_payload(name: str, payload: dict[str, Any]) -> DomainEvent:
    """Rebuild an event stored by name and :meth:`DomainEvent.payload`."""
    cls = EVENT_TYPES[name]
    data = dict(payload)
    if data.get("not_before"):
        data["not_before"] = datetime.fromisoformat(data["not_before"])
    return cls(**data)
