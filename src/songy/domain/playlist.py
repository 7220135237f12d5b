"""Playlists: a user's ordered selection of their own completed tracks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from songy.domain.errors import FieldError, InvalidTransition, ValidationError

NAME_MAX_CHARS = 100
MAX_TRACKS = 500


def playlist_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError([FieldError("name", "must be a non-empty string")])
    if len(value.strip()) > NAME_MAX_CHARS:
        raise ValidationError([FieldError("name", f"must be at most {NAME_MAX_CHARS} characters")])
    return value.strip()


@dataclass
class Playlist:
    id: str
    user_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    track_ids: list[str] = field(default_factory=list)
    version: int = 0

    def rename(self, name: Any, now: datetime) -> None:
        self.name = playlist_name(name)
        self.updated_at = now

    def add(self, music_id: str, position: int | None, now: datetime) -> None:
        if music_id in self.track_ids:
            raise InvalidTransition(f"track {music_id} is already in the playlist")
        if len(self.track_ids) >= MAX_TRACKS:
            raise InvalidTransition(f"a playlist holds at most {MAX_TRACKS} tracks")
        index = len(self.track_ids) if position is None else position
        if not 0 <= index <= len(self.track_ids):
            raise ValidationError([FieldError("position", f"must be between 0 and {len(self.track_ids)}")])
        self.track_ids.insert(index, music_id)
        self.updated_at = now

    def remove(self, music_id: str, now: datetime) -> bool:
        if music_id not in self.track_ids:
            return False
        self.track_ids.remove(music_id)
        self.updated_at = now
        return True

    def reorder(self, music_ids: Any, now: datetime) -> None:
        """``music_ids`` must be exactly the current tracks, in the new order."""
        if not isinstance(music_ids, list) or sorted(map(str, music_ids)) != sorted(self.track_ids):
            raise ValidationError([FieldError("musicIds", "must list exactly the playlist's tracks, once each")])
        self.track_ids = list(music_ids)
        self.updated_at = now
