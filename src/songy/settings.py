"""Configuration from ``SONGY_*`` environment variables (and ``.env``); defaults are the embedded mode."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# what `postgres://...` and friends mean here: the async drivers Songy runs on (libpq accepts both spellings)
DATABASE_SCHEMES = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
CommaList = Annotated[list[str], NoDecode]


def split_list(value: object) -> object:
    """A list setting from the environment: ``a,b`` or a JSON list ``["a","b"]``; blanks dropped."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("a JSON list that does not parse; or give comma-separated values") from None
    return [part.strip() for part in text.split(",") if part.strip()]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an http:// or https:// URL")
    return value


class Settings(BaseSettings):
    """Every knob Songy has. With none set, Songy runs on SQLite + local files + in-process queue + synth."""

    model_config = SettingsConfigDict(env_prefix="SONGY_", env_file=".env", extra="ignore")

    mode: Literal["embedded", "production"] = Field("embedded", description="production refuses dev tokens")
    data_dir: Path = Field(Path("var"), description="where the embedded database, files and dev secret live")
    log_format: Literal["console", "json"] = Field("console", description="json for log shippers")
    log_level: str = Field("INFO", description="root log level: " + ", ".join(LOG_LEVELS))
    host: str = Field("127.0.0.1", description="interface `songy serve` binds to")
    port: int = Field(8000, description="port `songy serve` listens on")
    public_base_url: str | None = Field(None, description="base URL clients reach the API at")
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="serve /metrics on this port (on `host`) instead of the API port; `songy worker` serves its "
        "own there too",
    )
    metrics_token: str | None = Field(
        None,
        min_length=16,
        description="bearer token /metrics requires; unset: open in embedded mode and on the metrics port, "
        "refused (403) on the API port in production mode",
    )
    metrics_sample_interval_s: float = Field(
        15.0, gt=0, description="how often the gauges that read the database, Redis or S3 are sampled"
    )

    database_url: str | None = Field(None, description="SQLAlchemy async URL; default SQLite in data_dir")
    auto_migrate: bool | None = Field(None, description="run migrations at start-up (default: only on SQLite)")
    redis_url: str | None = Field(None, description="taskiq-redis broker; unset = in-process queue")
    run_worker_in_process: bool | None = Field(None, description="default: true without redis_url")
    background_in_api: bool | None = Field(
        None,
        description="relay the outbox, deliver webhooks, reap in the API process; default: only with the worker "
        "in process or on SQLite (on PostgreSQL, NOTIFY wakes the workers' relay)",
    )
    worker_concurrency: int = Field(4, ge=1, le=256, description="jobs one process runs at once")
    malloc_arenas: int = Field(
        1, ge=0, le=64, description="cap glibc malloc arenas in serve/worker (steady RSS); 0 = glibc default"
    )
    worker_shutdown_grace_s: float = Field(30.0, ge=0, description="on SIGTERM, wait this long for running jobs")
    job_record_completed_ttl_s: int = Field(2 * 3600, ge=60, description="keep records of completed jobs")
    job_record_failed_ttl_s: int = Field(24 * 3600, ge=60, description="keep records of failed jobs")
    redelivery_idle_ms: int = Field(600_000, ge=1000, description="redeliver a job unacknowledged this long")

    blob_store: Literal["local", "s3"] = Field("local", description="where rendered audio is stored")
    s3_bucket: str = Field("songy-wongy-music", description="bucket for `music/...` objects")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint; unset = AWS")
    s3_region: str = Field("us-east-1", description="AWS region")
    s3_access_key_id: str | None = Field(None, description="unset = boto3's default credential chain")
    s3_secret_access_key: str | None = Field(None, description="secret for s3_access_key_id")
    s3_public_base_url: str | None = Field(
        None, description="base of the unsigned audioUrl with public_audio; default: https://{bucket}.s3.amazonaws.com"
    )
    download_url_ttl_s: int = Field(
        3600,
        ge=1,
        le=7 * 24 * 3600,
        description="lifetime of every signed audio URL: status `audioUrl`, download links, transcoded formats "
        "(webhooks: this plus their retry schedule); signed afresh on each read",
    )
    public_audio: bool = Field(
        False,
        description="hand out the stable, unsigned audio URL as `audioUrl` (the seed's public bucket) and serve "
        "`/files` without a signature: anyone with a URL can listen; make the S3 bucket readable yourself",
    )

    audio_generator: Literal["synth", "elevenlabs"] = Field("synth", description="who renders the audio")
    soundfont: str | None = Field(
        None,
        description="a General MIDI SoundFont (.sf2) for the synthesizer, e.g. Debian's fluid-soundfont-gm "
        "`/usr/share/sounds/sf2/FluidR3_GM.sf2`; default: TimGM6mb.sf2 from the pretty_midi package",
    )
    elevenlabs_api_key: str | None = Field(None, description="sent as `xi-api-key`")
    elevenlabs_base_url: str = Field("https://api.elevenlabs.io", description="ElevenLabs API base URL")
    elevenlabs_timeout_s: float = Field(300.0, gt=0, description="per-read timeout of a generation call")
    provider_length_tolerance_ms: int = Field(
        2000, ge=0, le=60_000, description="a provider's track may be this much shorter or longer than asked"
    )

    auth: Literal["dev", "clerk"] = Field("dev", description="dev tokens or Clerk session JWTs")
    dev_token_secret: str | None = Field(None, description="default: generated once into data_dir")
    clerk_jwks_url: str | None = Field(None, description="https://<instance>/.well-known/jwks.json")
    clerk_issuer: str | None = Field(None, description="expected `iss` of session tokens")
    clerk_authorized_parties: CommaList = Field(
        default_factory=list, description="allowed `azp` values, comma-separated (or a JSON list)"
    )
    clerk_webhook_secret: str | None = Field(None, description="Svix signing secret (`whsec_...`)")

    webhooks_allow_private: bool = Field(False, description="deliver webhooks to private/loopback hosts (dev)")
    audio_retention_days: float | None = Field(None, gt=0, description="delete audio this old; unset = keep")
    initial_credits: int = Field(3600, ge=0, le=10**12, description="credits (seconds of audio) a new user starts with")
    retry_max_attempts: int = Field(2, ge=1, le=10, description="attempts per generation, in all")
    retry_base_delay_s: float = Field(30.0, ge=0, description="backoff before attempt n+1: base * 2**(n-1)")
    reaper_deadline_s: float = Field(
        900.0, gt=0, description="a job handed to the queue and not started this long is lost: the reaper retries it"
    )
    reaper_interval_s: float = Field(10.0, gt=0, description="how often the reaper, pruning and cleanup run")
    attempt_lease_s: float = Field(
        20.0,
        ge=3,
        le=3600,
        description="a running attempt renews its lease every third of this; one whose lease runs out (its worker "
        "died) is retried by the reaper",
    )
    outbox_poll_interval_s: float = Field(0.5, gt=0, description="relay poll when not woken by a commit")

    @field_validator("soundfont")
    @classmethod
    def _soundfont_exists(cls, value: str | None) -> str | None:
        if value and not Path(value).expanduser().is_file():
            raise ValueError(f"no SoundFont file at {value} (install fluid-soundfont-gm, or unset SONGY_SOUNDFONT)")
        return str(Path(value).expanduser()) if value else None

    allow_dev_tokens: bool = Field(
        False,
        description="accept dev tokens in production mode: to try the production setup locally, never on a server "
        "others reach",
    )
    cors_allowed_origins: CommaList = Field(
        default_factory=list,
        description="origins (scheme://host[:port], exact) whose pages may call the API from a browser, "
        "comma-separated; `*` for any (no credentials are ever allowed); unset = same origin only",
    )

    @field_validator("clerk_authorized_parties", "cors_allowed_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        return split_list(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: object) -> object:
        level = str(value).strip().upper()
        if level == "WARN":
            level = "WARNING"
        if level not in LOG_LEVELS:
            raise ValueError(f"one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, sep, rest = value.strip().partition("://")
        if not sep or not rest:
            raise ValueError("a URL such as postgresql://user:password@host:5432/db or sqlite:///path/songy.db")
        driver = DATABASE_SCHEMES.get(scheme.lower())
        if driver is None:
            raise ValueError(f"PostgreSQL (postgresql://...) or SQLite (sqlite:///...); {scheme}:// is not supported")
        return f"{driver}://{rest}"

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("a URL such as redis://host:6379/0 (or rediss://, unix://)")
        return value

    @field_validator(
        "public_base_url", "s3_endpoint_url", "s3_public_base_url", "elevenlabs_base_url", "clerk_jwks_url"
    )
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("cors_allowed_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            parts = urlsplit(origin)
            exact = parts.scheme in ("http", "https") and parts.netloc and origin == f"{parts.scheme}://{parts.netloc}"
            if origin != "*" and not exact:
                raise ValueError(f"{origin!r} is not an origin: scheme://host[:port], no path or trailing slash")
        return origins

    @model_validator(mode="after")
    def _check_mode(self) -> Settings:
        if self.mode == "production" and self.auth == "dev" and not self.allow_dev_tokens:
            raise ValueError(
                "dev tokens are refused in production mode: set SONGY_AUTH=clerk (or SONGY_ALLOW_DEV_TOKENS=true to "
                "try production locally)"
            )
        if self.auth == "clerk" and not (self.clerk_jwks_url and self.clerk_issuer):
            raise ValueError("SONGY_AUTH=clerk needs SONGY_CLERK_JWKS_URL and SONGY_CLERK_ISSUER")
        if self.audio_generator == "elevenlabs" and not self.elevenlabs_api_key:
            raise ValueError("SONGY_AUDIO_GENERATOR=elevenlabs needs SONGY_ELEVENLABS_API_KEY")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'songy.db').resolve()}"

    @property
    def resolved_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_auto_migrate(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_run_worker_in_process(self) -> bool:
        return self.run_worker_in_process if self.run_worker_in_process is not None else not self.redis_url

    @property
    def resolved_background_in_api(self) -> bool:
        if self.background_in_api is not None:
            return self.background_in_api
        return self.resolved_run_worker_in_process or self.resolved_database_url.startswith("sqlite")

    @property
    def blob_root(self) -> Path:
        return self.data_dir / "blobs"

    def resolved_dev_token_secret(self) -> str:
        """The configured secret, or one generated once and kept in ``data_dir/dev-token-secret``."""
        if self.dev_token_secret:
            return self.dev_token_secret
        path = self.data_dir / "dev-token-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
