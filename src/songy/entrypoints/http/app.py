"""The Litestar application: controllers, error envelope, OpenAPI at ``/schema``, and the runtime lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import File
from litestar.static_files import create_static_files_router

from songy import __version__
from songy.container import Container, build_container
from songy.entrypoints.http.account_controller import AccountController
from songy.entrypoints.http.admin_controller import AdminController
from songy.entrypoints.http.api_docs import assets_routers, render_plugins
from songy.entrypoints.http.envelope import EXCEPTION_HANDLERS
from songy.entrypoints.http.files_controller import FilesController
from songy.entrypoints.http.health_controller import HealthController
from songy.entrypoints.http.input_guard import input_guard
from songy.entrypoints.http.metrics import metrics, metrics_middleware
from songy.entrypoints.http.music_controller import MusicGeneratorController
from songy.entrypoints.http.playlists_controller import PlaylistsController
from songy.entrypoints.http.realtime_controller import RealtimeController
from songy.entrypoints.http.request_id import request_id_middleware
from songy.entrypoints.http.security_headers import cors_config, security_headers_middleware
from songy.entrypoints.http.webhook_endpoints_controller import WebhookEndpointsController
from songy.entrypoints.http.webhooks_controller import WebhooksController
from songy.entrypoints.runtime import Runtime

MAX_BODY_BYTES = 256 * 1024
STATIC_DIR = Path(__file__).with_name("static")


@get("/", include_in_schema=False)
async def index_page() -> File:
    """The web page: sign in, generate, live status, play and download."""
    return File(STATIC_DIR / "index.html", content_disposition_type="inline", media_type="text/html")


@get("/admin", include_in_schema=False)
async def admin_page() -> File:
    """The queue dashboard (its data needs the admin role)."""
    return File(STATIC_DIR / "admin.html", content_disposition_type="inline", media_type="text/html")


@get("/favicon.ico", include_in_schema=False)
async def favicon() -> File:
    """Browsers ask for it on every page."""
    return File(STATIC_DIR / "favicon.svg", content_disposition_type="inline", media_type="image/svg+xml")


def create_app(container: Container | None = None, *, consume_jobs: bool | None = None) -> Litestar:
    """The HTTP app over ``container``; ``consume_jobs`` defaults to the settings' in-process worker choice."""
    container = container or build_container()
    settings = container.settings()
    runtime = Runtime(
        container,
        consume_jobs=settings.resolved_run_worker_in_process if consume_jobs is None else consume_jobs,
        run_background=settings.resolved_background_in_api,
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    controllers: list[Any] = [
        index_page,
        admin_page,
        favicon,
        create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False),
        *assets_routers(),
        MusicGeneratorController,
        RealtimeController,
        AccountController,
        AdminController,
        PlaylistsController,
        WebhooksController,
        WebhookEndpointsController,
        HealthController,
    ]
    if settings.blob_store == "local":
        controllers.append(FilesController)
    if settings.metrics_port is None:  # else metrics are served on their own port only
        controllers.append(metrics)

    app = Litestar(
        route_handlers=controllers,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,  # Songy's own (logging_setup.py: structured, redacted); Litestar's would replace it
        middleware=[
            security_headers_middleware(settings),
            request_id_middleware,
            metrics_middleware,
            input_guard(MAX_BODY_BYTES),
        ],
        cors_config=cors_config(settings),
        openapi_config=OpenAPIConfig(
            title="Songy",
            version=__version__,
            description="Asynchronous AI music generation: POST a prompt, poll the status, download the track.",
            path="/schema",
            render_plugins=render_plugins(),
            components=Components(
                security_schemes={"BearerAuth": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
        ),
    )
    app.state.container = container
    app.state.runtime = runtime
    return app
