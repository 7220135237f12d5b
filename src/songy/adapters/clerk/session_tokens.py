"""Verify Clerk session JWTs: RS256 only, key by ``kid`` from a cached JWKS, issuer, expiry, ``nbf``, ``azp``."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
from jwt import PyJWKClient

from songy.adapters.jwt_claims import MAX_TOKEN_CHARS, VerifiedTokens, roles_of
from songy.domain.errors import AuthenticationError, IdentityProviderUnavailable
from songy.domain.user import Identity

ALLOWED_ALGORITHMS = ["RS256"]


class ClerkSessionVerifier:
    """Implements :class:`songy.ports.auth.IdentityVerifier` for Clerk session tokens."""

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        *,
        authorized_parties: list[str] | None = None,
        audience: str | None = None,
        leeway: timedelta = timedelta(seconds=5),
        jwks_cache_seconds: int = 300,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._jwks = PyJWKClient(jwks_url, cache_keys=True, lifespan=jwks_cache_seconds, timeout=int(timeout_seconds))
        self._issuer = issuer
        self._authorized_parties = set(authorized_parties or [])
        self._audience = audience
        self._leeway = leeway
        self._verified = VerifiedTokens()

    async def verify(self, token: str) -> Identity:
        cached = self._verified.get(token)  # only verified tokens, none over the size limit, are ever in it
        return cached if cached is not None else await asyncio.to_thread(self.verify_sync, token)

    def verify_sync(self, token: str) -> Identity:
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError("token too large")
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALLOWED_ALGORITHMS:
                raise AuthenticationError(f"invalid token: algorithm {header.get('alg')!r} not allowed")
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALLOWED_ALGORITHMS,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": self._audience is not None},
            )
        except AuthenticationError:
            raise
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("token expired") from None
        except jwt.PyJWKClientConnectionError as exc:
            raise IdentityProviderUnavailable(f"Clerk signing keys unavailable: {exc}") from None
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from None
        azp = claims.get("azp")
        if self._authorized_parties and azp not in self._authorized_parties:
            raise AuthenticationError("invalid token: unauthorized party (azp)")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("invalid token: missing subject")
        identity = Identity(subject, claims.get("email"), claims.get("name"), roles_of(claims))
        return self._verified.put(token, identity, claims["exp"])
