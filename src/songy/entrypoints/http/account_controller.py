"""``/api/me`` (your account and credit balance), and the admin routes: credits and the queue dashboard."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from songy.domain.user import Identity, User
from songy.entrypoints.http.auth import current_identity
from songy.entrypoints.http.envelope import ok
from songy.entrypoints.http.presenters import iso_timestamp


def account_view(user: User) -> dict[str, Any]:
    return {
        "userId": user.id,
        "clerkId": user.clerk_id,
        "email": user.email,
        "name": user.name,
        "credits": user.credits,
        "createdAt": iso_timestamp(user.created_at),
    }


class AccountController(Controller):
    path = "/api"
    tags = ["account"]
    dependencies = {"identity": Provide(current_identity)}
    security = [{"BearerAuth": []}]

    @get("/me", summary="Your account and credit balance (one credit = one second of audio)")
    async def me(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]
    ) -> Response[dict[str, Any]]:
        return ok(account_view(await request.app.state.container.get_account()(identity)))

    @post("/admin/credits", status_code=200, summary="Grant (or take back) credits; admin role required")
    async def grant(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], data: JSONBody[dict[str, Any]]
    ) -> Response[dict[str, Any]]:
        user = await request.app.state.container.grant_credits()(identity, data.get("clerkId"), data.get("amount"))
        return ok(account_view(user), "Credits updated")

    @get(
        "/admin/queue",
        summary="Queue dashboard: dependencies, counts, durations, failures, scheduled retries (admin); a dependency "
        "that is down is a line here, not an error",
    )
    async def queue(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]
    ) -> Response[dict[str, Any]]:
        container = request.app.state.container
        snapshot = await container.queue_dashboard()(identity)
        try:
            paused: bool | None = await container.queue_control().is_paused()
        except Exception:  # Redis down: the dependencies line says so
            paused = None
        return ok(
            {
                "paused": paused,
                "dependencies": snapshot.dependencies,
                "counts": snapshot.counts,
                "outbox": {"pending": snapshot.outbox_pending, "lagSeconds": round(snapshot.outbox_lag_s, 3)},
                "jobs": {"outcomes": snapshot.job_outcomes, "durationSeconds": snapshot.duration_s},
                "failures": [{**f, "failedAt": iso_timestamp(f["failedAt"])} for f in snapshot.failures],
                "retries": [{**r, "nextAttemptAt": iso_timestamp(r["nextAttemptAt"])} for r in snapshot.retries],
            }
        )
