"""``/metrics`` for Prometheus: request latency by route, jobs by outcome, generation time, and the gauges the
sampler keeps in memory (queue depth, outbox lag, dependencies up): a scrape reads memory only, never the database
or Redis. Behind ``SONGY_METRICS_TOKEN`` when set; absent from the API port when ``SONGY_METRICS_PORT`` is set."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from songy.entrypoints.http.envelope import error_response
from songy.entrypoints.metrics_exposition import refusal

REQUEST_SECONDS = Histogram(
    "songy_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


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
async def metrics(request: Request[Any, Any, Any]) -> Response[Any]:
    settings = request.app.state.container.settings()
    refused = refusal(settings, request.headers.get("authorization"), own_port=False)
    if refused is not None:
        return error_response(refused.status, refused.code, refused.message, headers=refused.headers or None)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
