"""The identity port: turns a bearer token into a verified :class:`Identity`."""

from __future__ import annotations

from typing import Protocol

from songy.domain.user import Identity


class IdentityVerifier(Protocol):
    async def verify(self, token: str) -> Identity:
        """Raise :class:`songy.domain.errors.AuthenticationError` unless the token is valid."""
        ...
