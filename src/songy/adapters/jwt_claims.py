"""Reading claims that both token verifiers share."""

from __future__ import annotations

MAX_TOKEN_CHARS = 8192  # larger bearer tokens are refused before any parsing


def roles_of(claims: dict[str, object]) -> frozenset[str]:
    """Roles from ``role``/``roles`` claims, or Clerk's ``metadata.role`` / ``public_metadata.role``."""
    found: set[str] = set()
    for container in (claims, claims.get("metadata"), claims.get("public_metadata")):
        if not isinstance(container, dict):
            continue
        role, roles = container.get("role"), container.get("roles")
        if isinstance(role, str):
            found.add(role)
        if isinstance(roles, list):
            found.update(r for r in roles if isinstance(r, str))
    return frozenset(found)
