"""``/health/live`` (the process answers) and ``/health/ready`` (its database answers)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy import text

from songy.entrypoints.http.envelope import error_response, ok


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live")
    async def live(self) -> Response[dict[str, Any]]:
        return ok({"status": "live"})

    @get("/ready")
    async def ready(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        engine = request.app.state.container.engine()
        try:
            async with asyncio.timeout(2.0), engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            return error_response(503, "NOT_READY", f"database unavailable: {exc.__class__.__name__}")
        return ok({"status": "ready", "checks": {"database": "ok"}})
