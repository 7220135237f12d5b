"""``/health/live`` (the process answers) and ``/health/ready`` (database, queue and blob store answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy import text

from songy.entrypoints.http.envelope import ok

CHECK_TIMEOUT_S = 2.0


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live")
    async def live(self) -> Response[dict[str, Any]]:
        return ok({"status": "live"})

    @get("/ready")
    async def ready(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        container = request.app.state.container

        async def database() -> None:
            async with container.engine().connect() as conn:
                await conn.execute(text("SELECT 1"))

        checks: dict[str, Callable[[], Awaitable[None]]] = {
            "database": database,
            "queue": container.job_queue().check,
            "blobStore": container.blob_store().check,
        }
        results = dict(zip(checks, await asyncio.gather(*(_run(c) for c in checks.values())), strict=True))
        ready = all(r == "ok" for r in results.values())
        body = {"status": "ready" if ready else "not ready", "checks": results}
        if ready:
            return ok(body)
        error = {
            "code": "NOT_READY",
            "message": "a dependency is unavailable",
            "details": [{"field": name, "message": result} for name, result in results.items() if result != "ok"],
        }
        return Response({"success": False, "error": error, "data": body}, status_code=503)


async def _run(check: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"timed out after {CHECK_TIMEOUT_S}s"
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"[:300]
    return "ok"
