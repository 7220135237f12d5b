"""Bearer authentication: every music route depends on :func:`current_identity`."""

from __future__ import annotations

from typing import Any

from litestar import Request

from songy.domain.errors import AuthenticationError
from songy.domain.user import Identity
from songy.ports.auth import IdentityVerifier


async def current_identity(request: Request[Any, Any, Any]) -> Identity:
    """The verified caller; raises :class:`AuthenticationError` (401) for a missing or bad token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("missing bearer token")
    verifier: IdentityVerifier = request.app.state.container.identity_verifier()
    return await verifier.verify(token.strip())
