"""The relational schema (the alembic migrations create exactly this)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("clerk_id", String(255), nullable=False, unique=True),
    Column("email", String(320)),
    Column("name", String(255)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Column("credits", BigInteger, nullable=False, default=0),
    Column("profile_event_at", DateTime(timezone=True)),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", String(40), ForeignKey("users.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("music_ids", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

processed_messages = Table(
    "processed_messages",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("message_id", String(255), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

music = Table(
    "music",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("length_ms", Integer, nullable=False),
    Column("output_format", String(32), nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("audio_url", Text),
    Column("object_key", Text),
    Column("failure_reason", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("credits_reserved", Integer, nullable=False, default=0),
    Column("expired_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("generation_metadata", JSON),
    Index("ix_music_user_created", "user_id", "created_at"),
    Index("ix_music_status_updated", "status", "updated_at"),
    Index("ux_music_object_key", "object_key", unique=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("topic", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("request_id", String(64)),
    Column("music_id", String(40), index=True),
    Index("ix_outbox_pending", "published_at", "available_at"),
)

playlists = Table(
    "playlists",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_playlists_user_created", "user_id", "created_at"),
)

playlist_tracks = Table(
    "playlist_tracks",
    metadata,
    Column("playlist_id", String(40), ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True),
    Column("music_id", String(40), ForeignKey("music.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("endpoint_id", String(40), nullable=False),
    Column("user_id", String(40), nullable=False),
    Column("event_name", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
)
