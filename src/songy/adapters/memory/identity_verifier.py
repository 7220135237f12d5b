"""An identity verifier backed by a dict of token -> identity."""

from __future__ import annotations

from songy.domain.errors import AuthenticationError
from songy.domain.user import Identity


class MemoryIdentityVerifier:
    def __init__(self, tokens: dict[str, Identity] | None = None) -> None:
        self.tokens = dict(tokens or {})

    async def verify(self, token: str) -> Identity:
        try:
            return self.tokens[token]
        except KeyError:
            raise AuthenticationError("invalid token") from None
