"""``POST /api/webhooks/clerk``: users created, updated and deleted by Clerk (Svix-signed)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post

from songy.domain.profile_limits import check_profile_change
from songy.entrypoints.http.envelope import error_response, ok

MAX_WEBHOOK_BYTES = 64 * 1024


class WebhooksController(Controller):
    path = "/api/webhooks"
    tags = ["webhooks"]

    @post("/clerk", status_code=200, summary="Clerk user.* events (verified with the Svix signing secret)")
    async def clerk(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        container = request.app.state.container
        if not container.settings().clerk_webhook_secret:
            return error_response(
                503, "WEBHOOKS_NOT_CONFIGURED", "set SONGY_CLERK_WEBHOOK_SECRET to accept Clerk webhooks"
            )
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            return error_response(413, "PAYLOAD_TOO_LARGE", "webhook body too large")
        change = container.clerk_webhooks().verify(body, dict(request.headers))
        check_profile_change(change)
        result = await container.sync_user()(change)
        return ok({"event": change.kind, "result": result.value})
