"""Who may read the metrics, and where: behind a bearer token (``SONGY_METRICS_TOKEN``, compared in constant
time), on a port of their own (``SONGY_METRICS_PORT``), and never on the API port of a production deployment that
set neither."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from songy.settings import Settings

REALM = 'Bearer realm="songy-metrics"'


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str

    @property
    def body(self) -> dict[str, Any]:
        return {"success": False, "error": {"code": self.code, "message": self.message}}

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": REALM} if self.status == 401 else {}


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """Whether ``Authorization: Bearer <token>`` carries ``token``; constant time in the token's content."""
    scheme, _, given = (authorization or "").partition(" ")
    # digests of equal length, so that not even the token's length shows in the time taken
    digests = (hashlib.sha256(value.encode()).digest() for value in (given.strip(), token))
    return hmac.compare_digest(*digests) and scheme.lower() == "bearer"


def refusal(settings: Settings, authorization: str | None, *, own_port: bool) -> Refusal | None:
    """Why this scrape may not read the metrics (``None``: it may). On the API port of a production deployment,
    metrics need a token; on their own port, or in embedded mode, they are open unless a token is set."""
    if settings.metrics_token:
        if bearer_token_matches(authorization, settings.metrics_token):
            return None
        return Refusal(401, "UNAUTHORIZED", "a valid metrics token is required (Authorization: Bearer ...)")
    if settings.mode == "production" and not own_port:
        return Refusal(
            403,
            "METRICS_DISABLED",
            "in production mode /metrics needs SONGY_METRICS_TOKEN, or SONGY_METRICS_PORT for a port of its own",
        )
    return None


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log for scrapes."""


class MetricsPortServer:
    """``/metrics`` on a port of its own, from a daemon thread (prometheus_client's WSGI exposition of the
    in-memory registry: a scrape never waits on the event loop or a dependency)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._server: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int | None:
        return self._server.server_port if self._server is not None else None

    def start(self) -> None:
        port = self._settings.metrics_port
        if port is None or self._server is not None:
            return
        host = self._settings.host
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        server_class = type("MetricsServer", (ThreadingWSGIServer,), {"address_family": family})
        server = make_server(host, port, self._guarded(make_wsgi_app()), server_class, _Quiet)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="songy-metrics-port", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _guarded(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            refused = refusal(self._settings, environ.get("HTTP_AUTHORIZATION"), own_port=True)
            if refused is None:
                return app(environ, start_response)
            body = json.dumps(refused.body).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response(f"{refused.status} {_REASONS[refused.status]}", headers + list(refused.headers.items()))
            return [body]

        return guarded


_REASONS = {401: "Unauthorized", 403: "Forbidden"}
