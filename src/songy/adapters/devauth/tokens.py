"""Mint and verify development JWTs. They are marked ``dev: true`` and issued by ``songy-dev``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from songy.adapters.jwt_claims import MAX_TOKEN_CHARS, VerifiedTokens, roles_of
from songy.domain.errors import AuthenticationError
from songy.domain.user import Identity

DEV_ISSUER = "songy-dev"
DEV_AUDIENCE = "songy"


class DevTokens:
    """HS256 tokens signed with a local secret: for the embedded default and demos only."""

    def __init__(self, secret: str, *, leeway: timedelta = timedelta(seconds=5)) -> None:
        if len(secret) < 32:
            raise ValueError("the dev token secret must be at least 32 characters")
        self._secret = secret
        self._leeway = leeway
        self._verified = VerifiedTokens()

    def mint(
        self,
        subject: str,
        *,
        email: str | None = None,
        name: str | None = None,
        roles: tuple[str, ...] = (),
        ttl: timedelta,
    ) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": subject,
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "dev": True,
        }
        if email:
            claims["email"] = email
        if name:
            claims["name"] = name
        if roles:
            claims["roles"] = list(roles)
        return jwt.encode(claims, self._secret, algorithm="HS256")

    async def verify(self, token: str) -> Identity:
        return self.verify_sync(token)  # HS256 over a few hundred bytes: cheaper than a thread hop

    def verify_sync(self, token: str) -> Identity:
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError("token too large")
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=DEV_ISSUER,
                audience=DEV_AUDIENCE,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "nbf", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("token expired") from None
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from None
        if not claims.get("dev") or not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise AuthenticationError("invalid token: not a dev token")
        identity = Identity(claims["sub"], claims.get("email"), claims.get("name"), roles_of(claims))
        return self._verified.put(token, identity, claims["exp"])
