"""What both token verifiers share: the size limit, reading roles, the cache of verified tokens."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from songy.domain.user import Identity

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


class VerifiedTokens:
    """A bounded cache of bearer tokens whose signature and claims were already verified, so that a client polling
    with the same token is not re-verified on every request (PyJWT's decode is ~8% of a status request; an RS256
    check costs more). An entry is served only while the token is unexpired and for at most ``max_age`` seconds
    after it was verified; failures are never cached."""

    def __init__(self, max_entries: int = 4096, max_age: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self._entries: OrderedDict[str, tuple[Identity, float]] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age
        self._clock = clock

    def get(self, token: str) -> Identity | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        identity, valid_until = entry
        if self._clock() >= valid_until:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return identity

    def put(self, token: str, identity: Identity, expires_at: object) -> Identity:
        """Remember ``identity`` for ``token`` until its ``exp`` claim (or ``max_age``); returns ``identity``."""
        if isinstance(expires_at, int | float):
            self._entries[token] = (identity, min(float(expires_at), self._clock() + self._max_age))
            self._entries.move_to_end(token)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return identity
