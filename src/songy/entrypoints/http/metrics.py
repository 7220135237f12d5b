"""``/metrics`` for Prometheus: request latency by route, jobs by outcome, generation time, queue depth and
outbox lag (the last two read from the database at scrape time)."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest

REQUEST_SECONDS = Histogram(
    "songy_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
MUSIC_BY_STATUS = Gauge("songy_music", "Music records by status", ["status"])
QUEUE_DEPTH = Gauge("songy_queue_depth", "Tracks waiting for or in generation (GENERATING)")
OUTBOX_PENDING = Gauge("songy_outbox_pending", "Outbox messages not yet published")
OUTBOX_LAG = Gauge("songy_outbox_lag_seconds", "How long the oldest due outbox message has waited")


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Times every HTTP request; the route label is the template (``/status/{music_id:str}``), not the path."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            route = scope.get("path_template") or "unmatched"
            REQUEST_SECONDS.labels(scope.get("method", "GET"), route, str(status)).observe(
                time.perf_counter() - started
            )

    return middleware


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    snapshot = await request.app.state.container.queue_dashboard().snapshot()
    for status, count in snapshot.counts.items():
        MUSIC_BY_STATUS.labels(status).set(count)
    QUEUE_DEPTH.set(snapshot.counts.get("GENERATING", 0))
    OUTBOX_PENDING.set(snapshot.outbox_pending)
    OUTBOX_LAG.set(snapshot.outbox_lag_s)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
