"""``songy doctor``: check the configuration and reach every configured service, saying what is wrong."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from songy.adapters.sql.database_check import schema_message
from songy.adapters.sql.engine import sync_url
from songy.adapters.sql.migrate import alembic_config, upgrade_reporting
from songy.container import Container
from songy.settings import Settings

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


def _database(settings: Settings) -> str:
    url = settings.resolved_database_url
    if url.startswith("sqlite") and not (settings.data_dir / "songy.db").exists() and not settings.database_url:
        raise RuntimeError(f"no database in {settings.data_dir} yet: `songy serve` or songy migrate creates it")
    engine = create_engine(sync_url(settings.resolved_database_url))
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(settings.resolved_database_url)).get_current_head()
    if current != head:
        raise RuntimeError(schema_message(current, head))
    return f"reachable, schema at {head}"


async def diagnose(container: Container, *, fix: bool = False) -> list[Finding]:
    """Run every check; with ``fix``, also repair what can be repaired safely (migrate the database, create a
    missing S3 bucket) and check again."""
    settings = container.settings()
    checks: dict[str, Callable[[], Awaitable[str]]] = {
        "database": lambda: asyncio.to_thread(_database, settings),
        "queue": lambda: _ok(container.job_queue().check(), "redis answers" if settings.redis_url else "in-process"),
        "blob store": lambda: _ok(container.blob_store().check(), f"{settings.blob_store} store usable"),
    }
    if settings.audio_generator == "elevenlabs":
        checks["elevenlabs"] = lambda: _http_ok(
            f"{settings.elevenlabs_base_url.rstrip('/')}/v1/models", {"xi-api-key": settings.elevenlabs_api_key or ""}
        )
    if settings.auth == "clerk":
        checks["clerk jwks"] = lambda: _http_ok(settings.clerk_jwks_url or "", {})
        if not settings.clerk_webhook_secret:
            checks["clerk webhooks"] = lambda: _fail("SONGY_CLERK_WEBHOOK_SECRET unset: users cannot be created")
    if settings.mode == "production" and settings.blob_store == "local":
        checks["production"] = lambda: _fail("production mode with the local blob store: set SONGY_BLOB_STORE=s3")
    fixes: dict[str, tuple[Callable[[str], bool], Callable[[], Awaitable[str]]]] = {
        "database": (lambda why: "songy migrate" in why, lambda: _migrate(settings)),
        "blob store": (lambda why: "bucket does not exist" in why, lambda: _create_bucket(container)),
    }
    findings = []
    for name, check in checks.items():
        finding = await _run(name, check)
        fixable, repair = fixes.get(name, (None, None))
        if fix and not finding.ok and fixable is not None and repair is not None and fixable(finding.detail):
            try:
                done = await repair()
            except Exception as exc:
                finding = Finding(name, False, f"{finding.detail}; the fix failed: {exc.__class__.__name__}: {exc}")
            else:
                again = await _run(name, check)
                finding = Finding(name, again.ok, f"fixed: {done}; {again.detail}")
        findings.append(finding)
    return findings


async def _run(name: str, check: Callable[[], Awaitable[str]]) -> Finding:
    try:
        return Finding(name, True, await asyncio.wait_for(check(), TIMEOUT_S))
    except Exception as exc:
        return Finding(name, False, f"{exc.__class__.__name__}: {exc}"[:300])


async def _migrate(settings: Settings) -> str:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    applied = await asyncio.to_thread(upgrade_reporting, settings.resolved_database_url)
    return f"applied {len(applied)} migrations"


async def _create_bucket(container: Container) -> str:
    store = container.blob_store()
    await store.create_bucket()  # type: ignore[attr-defined]  # only the S3 store says its bucket is missing
    return f"created bucket {container.settings().s3_bucket}"


async def _ok(check: Awaitable[None], detail: str) -> str:
    await check
    return detail


async def _fail(reason: str) -> str:
    raise RuntimeError(reason)


async def _http_ok(url: str, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        response = await client.get(url, headers=headers)
    if response.status_code >= 400:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return f"{url} answered {response.status_code}"
