"""``/health/live`` (the process answers) and ``/health/ready`` (database, queue and blob store answer)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from songy.domain.use_cases.check_dependencies import OK
from songy.entrypoints.http.envelope import ok


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live")
    async def live(self) -> Response[dict[str, Any]]:
        return ok({"status": "live"})

    @get("/ready")
    async def ready(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """200 when every dependency answers within 2 s; else 503 ``NOT_READY`` naming each one that did not."""
        results = await request.app.state.container.check_dependencies()()
        ready = all(r == OK for r in results.values())
        body = {"status": "ready" if ready else "not ready", "checks": results}
        if ready:
            return ok(body)
        down = [name for name, result in results.items() if result != OK]
        error = {
            "code": "NOT_READY",
            "message": f"unavailable: {', '.join(down)}",
            "details": [{"field": name, "message": results[name]} for name in down],
        }
        return Response({"success": False, "error": error, "data": body}, status_code=503)
