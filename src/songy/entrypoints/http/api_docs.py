"""``/schema/swagger`` and ``/schema/redoc`` (also ``/schema``) without a CDN: their scripts and styles come from
the ``openapi-ui-bundles`` package installed with Songy, served under ``/schema-assets``, and each page starts
its browser with a script file of Songy's own (no inline script, so the strict CSP holds there too)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import openapi_ui_bundles
from litestar import Request, Response, get
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)
from litestar.static_files import create_static_files_router

ASSETS = "/schema-assets"
FAVICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def _page(title: str, head: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{FAVICON}{head}</head>'
        f"<body>{body}</body></html>"
    ).encode()


class OfflineSwagger(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec = self.get_openapi_json_route(request)
        return _page(
            f"{openapi_schema['info']['title']} · Swagger UI",
            f'<link rel="stylesheet" href="{ASSETS}/swagger-ui/swagger-ui.css">'
            f'<link rel="stylesheet" href="/static/api-docs.css">'
            f'<script src="{ASSETS}/swagger-ui/swagger-ui-bundle.js" defer></script>'
            f'<script src="{ASSETS}/swagger-ui/swagger-ui-standalone-preset.js" defer></script>'
            '<script src="/static/api-docs.js" defer></script>',
            f'<div id="swagger-container" data-ui="swagger" data-spec="{spec}"></div>',
        )


class OfflineRedoc(RedocRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec = self.get_openapi_json_route(request)
        return _page(
            f"{openapi_schema['info']['title']} · ReDoc",
            f'<link rel="stylesheet" href="/static/api-docs.css">'
            f'<script src="{ASSETS}/redoc.standalone.js" defer></script>'
            '<script src="/static/api-docs.js" defer></script>',
            f'<div id="redoc-container" data-ui="redoc" data-spec="{spec}"></div>',
        )


REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> bytes:
    """ReDoc's bundle with its one hard-wired CDN address (the footer logo) pointed at the copy the package ships."""
    bundle = (Path(openapi_ui_bundles.redoc.static_path) / "redoc.standalone.js").read_bytes()
    return bundle.replace(REDOC_CDN_LOGO, f"{ASSETS}/redoc/logo-mini.svg".encode())


@get(f"{ASSETS}/redoc.standalone.js", include_in_schema=False, cache=False)
async def redoc_bundle() -> Response[bytes]:
    return Response(
        _redoc_bundle(), media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "max-age=86400"}
    )


def render_plugins() -> list[OpenAPIRenderPlugin]:
    return [
        OfflineRedoc(path=["/", "/redoc"], google_fonts=False),
        OfflineSwagger(path="/swagger"),
        JsonRenderPlugin(),
        YamlRenderPlugin(),
    ]


def assets_routers() -> list[Any]:
    """The vendored browsers' files (Swagger UI, ReDoc: Apache-2.0 and MIT, as the package ships them)."""
    return [
        redoc_bundle,
        create_static_files_router(
            path=f"{ASSETS}/swagger-ui",
            directories=[openapi_ui_bundles.swagger_ui.static_path],
            include_in_schema=False,
            name="swagger-ui-assets",
        ),
        create_static_files_router(
            path=f"{ASSETS}/redoc",
            directories=[openapi_ui_bundles.redoc.static_path],
            include_in_schema=False,
            name="redoc-assets",
        ),
    ]
