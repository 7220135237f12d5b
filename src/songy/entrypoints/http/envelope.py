"""The response envelope and the single mapping from errors to HTTP statuses and stable codes."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from songy.domain.errors import (
    AuthenticationError,
    Conflict,
    DatabaseUnavailable,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    IdentityProviderUnavailable,
    InsufficientCredits,
    InvalidInput,
    InvalidTransition,
    MusicExpired,
    MusicNotFound,
    MusicNotReady,
    PlaylistNotFound,
    TrackNotPlayable,
    UserNotFound,
    ValidationError,
    WebhookEndpointNotFound,
    WebhookRejected,
)

log = logging.getLogger(__name__)

DOMAIN_STATUS: dict[type[DomainError], int] = {
    ValidationError: 400,
    AuthenticationError: 401,
    InsufficientCredits: 402,
    Forbidden: 403,
    IdempotencyKeyReused: 422,
    UserNotFound: 404,
    MusicNotFound: 404,
    MusicNotReady: 409,
    TrackNotPlayable: 409,
    PlaylistNotFound: 404,
    MusicExpired: 410,
    InvalidTransition: 409,
    Conflict: 409,
    InvalidInput: 400,
    IdentityProviderUnavailable: 503,
    DatabaseUnavailable: 503,
    WebhookRejected: 400,
    WebhookEndpointNotFound: 404,
}

HTTP_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    402: "PAYMENT_REQUIRED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    410: "GONE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    416: "RANGE_NOT_SATISFIABLE",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}


def ok(data: Any, message: str | None = None, status_code: int = 200) -> Response[dict[str, Any]]:
    """``{"success": true, "data": ..., "message"?: ...}``."""
    body: dict[str, Any] = {"success": True, "data": data}
    if message is not None:
        body["message"] = message
    return Response(body, status_code=status_code, media_type=MediaType.JSON)


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """``{"success": false, "error": {"code", "message", "details"?}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response({"success": False, "error": error}, status_code=status, media_type=MediaType.JSON, headers=headers)


def handle_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    status = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(exc, cls)), 400)
    details = (
        [{"field": d.field, "message": d.message} for d in exc.details] if isinstance(exc, ValidationError) else None
    )
    headers = {"WWW-Authenticate": 'Bearer realm="songy"'} if status == 401 else None
    return error_response(status, exc.code, exc.message, details, headers)


def handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if isinstance(exc, ValidationException) or status == 400:
        details = [
            {"field": _field_name(item.get("key")), "message": str(item.get("message", ""))}
            for item in (exc.extra if isinstance(exc.extra, list) else [])
            if isinstance(item, dict)
        ]
        return error_response(400, "VALIDATION_ERROR", "Request validation failed: " + exc.detail, details)
    if status >= 500:
        log.error("HTTP %s: %s", status, exc.detail)
    code = HTTP_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "HTTP_ERROR")
    message = exc.detail or HTTPStatus(status).phrase
    return error_response(status, code, message, headers=exc.headers)


def _field_name(key: object) -> str:
    """Litestar names the whole body ``data``; clients know it as ``body``."""
    return "body" if key in (None, "", "data") else str(key)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "INTERNAL_ERROR", "Internal server error")


def handle_too_deep(_: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    """The JSON decoder gives up on absurdly nested documents; that is the client's input, not our fault."""
    return error_response(400, "VALIDATION_ERROR", "Request validation failed: JSON nested too deeply")


EXCEPTION_HANDLERS = {
    RecursionError: handle_too_deep,
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
