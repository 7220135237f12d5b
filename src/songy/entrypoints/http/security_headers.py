"""Browser-facing security: a strict Content-Security-Policy (scripts from this origin only, never inline), no
framing, no MIME sniffing, no referrer, on every response; and CORS for the exact origins an operator allows
(``SONGY_CORS_ALLOWED_ORIGINS``; bearer tokens, so credentials are never allowed)."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.config.cors import CORSConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from songy.settings import Settings

# the OpenAPI browsers (Swagger UI, ReDoc) set styles from script and ReDoc searches in a blob: worker
DOCS_PREFIX = "/schema"
ALLOWED_HEADERS = ["authorization", "content-type", "idempotency-key", "x-request-id", "last-event-id"]
EXPOSED_HEADERS = ["x-request-id", "location", "retry-after"]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def audio_origins(settings: Settings) -> list[str]:
    """Where the page's players fetch audio from besides this origin: the S3 endpoint or public base URL."""
    if settings.blob_store != "s3":
        return []
    if settings.public_audio and settings.s3_public_base_url:
        return [_origin(settings.s3_public_base_url)]
    if settings.s3_endpoint_url:
        return [_origin(settings.s3_endpoint_url)]
    bucket, region = settings.s3_bucket, settings.s3_region
    return [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com"]


def content_security_policy(settings: Settings, *, docs: bool = False) -> str:
    media = " ".join(["'self'", *audio_origins(settings)])
    style = "'self' 'unsafe-inline'" if docs else "'self'"
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        f"style-src {style}",
        "img-src 'self' data:",
        f"media-src {media}",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
    if docs:
        directives.append("worker-src blob:")
    return "; ".join(directives)


def security_headers_middleware(settings: Settings) -> object:
    """Adds the headers to every HTTP response that does not set them itself."""
    page = content_security_policy(settings).encode()
    docs = content_security_policy(settings, docs=True).encode()
    fixed = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]

    def middleware(app: ASGIApp) -> ASGIApp:
        async def add_headers(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            policy = docs if scope["path"].startswith(DOCS_PREFIX) else page

            async def with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    present = {name.lower() for name, _ in headers}
                    headers += [(n, v) for n, v in [(b"content-security-policy", policy), *fixed] if n not in present]
                    message["headers"] = headers
                await send(message)

            await app(scope, receive, with_headers)

        return add_headers

    return middleware


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for the configured origins (exact matches, or ``*``); none configured: same origin only."""
    if not settings.cors_allowed_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_allowed_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=ALLOWED_HEADERS,
        allow_credentials=False,  # bearer tokens travel in a header: no cookies, never a wildcard with credentials
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
