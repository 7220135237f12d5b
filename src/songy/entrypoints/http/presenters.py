"""How domain objects look on the wire: camelCase fields, ISO-8601 UTC timestamps with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from songy.domain.music import Music, MusicStatus


def iso_timestamp(moment: datetime) -> str:
    """``2024-09-01T00:45:00.000Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def created_view(music: Music) -> dict[str, Any]:
    """The answer to POST generate."""
    return {
        "musicId": music.id,
        "name": music.name,
        "prompt": music.prompt,
        "status": music.status.value,
        "lengthMs": music.length_ms,
        "outputFormat": music.output_format.name,
        "modelId": music.model_id,
        "createdAt": iso_timestamp(music.created_at),
    }


def status_view(music: Music, audio_url: str | None) -> dict[str, Any]:
    """The answer to GET status: ``audioUrl`` (signed by :class:`~songy.domain.use_cases.audio_urls.AudioUrls`,
    passed in so that presenting does no I/O) is null until COMPLETED, ``error`` only when FAILED."""
    view: dict[str, Any] = {
        "musicId": music.id,
        "name": music.name,
        "status": music.status.value,
        "lengthMs": music.length_ms,
        "outputFormat": music.output_format.name,
        "audioUrl": audio_url if music.status is MusicStatus.COMPLETED else None,
        "createdAt": iso_timestamp(music.created_at),
        "updatedAt": iso_timestamp(music.updated_at),
    }
    if music.status is MusicStatus.FAILED:
        view["error"] = music.failure_reason
    if music.expired_at is not None:
        view["expiredAt"] = iso_timestamp(music.expired_at)
    if music.metadata is not None:
        view["metadata"] = music.metadata
    return view
