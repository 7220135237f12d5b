"""``/api/admin/...`` actions for the ``admin`` role (the ``/admin`` page's buttons): retry a FAILED track, cancel a
GENERATING one, purge old failures, pause and resume the queue. Each is logged with the admin's id."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from songy.domain.user import Identity
from songy.entrypoints.http.auth import current_identity
from songy.entrypoints.http.envelope import ok
from songy.entrypoints.http.presenters import status_view


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    dependencies = {"identity": Provide(current_identity)}
    security = [{"BearerAuth": []}]

    @post("/music/{music_id:str}/retry", status_code=200, summary="Retry a FAILED track (credits reserved again)")
    async def retry(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], music_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        music = await request.app.state.container.admin_retry()(identity, music_id)
        return ok(status_view(music, None), "Music generation retried")

    @post("/music/{music_id:str}/cancel", status_code=200, summary="Cancel any user's GENERATING track")
    async def cancel(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], music_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        music = await request.app.state.container.admin_cancel()(identity, music_id)
        return ok(status_view(music, None), "Music generation canceled")

    @post("/failures/purge", status_code=200, summary="Delete FAILED tracks older than `olderThanDays`")
    async def purge(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], data: JSONBody[dict[str, Any]]
    ) -> Response[dict[str, Any]]:
        report = await request.app.state.container.purge_failures()(identity, data.get("olderThanDays"))
        return ok({"purged": report.purged, "olderThanDays": report.older_than_days}, "Failures purged")

    @post("/queue/pause", status_code=200, summary="Pause the queue: workers start no new attempt")
    async def pause(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]) -> Response[Any]:
        paused = await request.app.state.container.pause_queue()(identity, paused=True)
        return ok({"paused": paused}, "Queue paused")

    @post("/queue/resume", status_code=200, summary="Resume the queue")
    async def resume(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]) -> Response[Any]:
        paused = await request.app.state.container.pause_queue()(identity, paused=False)
        return ok({"paused": paused}, "Queue resumed")
