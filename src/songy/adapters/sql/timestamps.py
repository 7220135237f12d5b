"""Timestamps as the domain wants them: aware UTC, whatever the database handed back."""

from __future__ import annotations

from datetime import UTC, datetime


def aware_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in the domain is aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware_utc_or_none(value: datetime | None) -> datetime | None:
    return aware_utc(value) if value is not None else None
