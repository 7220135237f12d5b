"""Every music route needs a valid bearer token; Clerk mode knows only users that Clerk created."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from songy.adapters.devauth.tokens import DEV_AUDIENCE, DEV_ISSUER
from songy.settings import Settings
from tests.support.jwks import AZP, ISSUER, SigningKey, jwks_server

from .conftest import SECRET, Api

ROUTES = [
    ("POST", "/api/music-generator/generate"),
    ("GET", "/api/music-generator/status/abc"),
    ("GET", "/api/music-generator/download/abc"),
]


def dev_claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": "user_alice",
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
        "dev": True,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


BAD_DEV_TOKENS = {
    "expired": jwt.encode(dev_claims(exp=datetime.now(UTC) - timedelta(minutes=5)), SECRET, algorithm="HS256"),
    "forged": jwt.encode(dev_claims(), "another-secret-" + "y" * 40, algorithm="HS256"),
    "alg_none": jwt.encode(dev_claims(), None, algorithm="none"),  # type: ignore[arg-type]
    "wrong_issuer": jwt.encode(dev_claims(iss="evil"), SECRET, algorithm="HS256"),
    "not_yet_valid": jwt.encode(dev_claims(nbf=datetime.now(UTC) + timedelta(hours=1)), SECRET, algorithm="HS256"),
    "no_subject": jwt.encode(dev_claims(sub=None), SECRET, algorithm="HS256"),
    "not_dev": jwt.encode(dev_claims(dev=None), SECRET, algorithm="HS256"),
    "garbage": "not.a.jwt",
    "oversized": "a" * 10_000,
}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_missing_token_is_401(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path, json={"name": "n", "prompt": "p"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token abc"])
def test_wrong_scheme_is_401(api: Api, header: str) -> None:
    response = api.client.get("/api/music-generator/status/abc", headers={"Authorization": header})
    assert response.status_code == 401


@pytest.mark.parametrize("kind", sorted(BAD_DEV_TOKENS))
def test_bad_dev_tokens_are_401_and_create_nothing(api: Api, kind: str) -> None:
    headers = {"Authorization": f"Bearer {BAD_DEV_TOKENS[kind]}"}
    response = api.client.post("/api/music-generator/generate", json={"name": "n", "prompt": "p"}, headers=headers)
    assert response.status_code == 401, kind
    with sqlite3.connect(api.container.settings().data_dir / "songy.db") as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_dev_mode_creates_the_user_on_first_use(api: Api) -> None:
    assert api.generate("user_new").status_code == 201
    with sqlite3.connect(api.container.settings().data_dir / "songy.db") as conn:
        assert conn.execute("SELECT clerk_id FROM users").fetchall() == [("user_new",)]


def test_production_mode_refuses_dev_tokens() -> None:
    with pytest.raises(ValidationError, match="dev tokens are refused in production"):
        Settings(_env_file=None, mode="production", auth="dev")  # type: ignore[call-arg]


@pytest.fixture
def clerk() -> Iterator[tuple[SigningKey, str]]:
    key = SigningKey()
    with jwks_server(key) as url:
        yield key, url


@pytest.fixture
def clerk_api(make_api: Callable[..., Api], clerk: tuple[SigningKey, str]) -> Api:
    _, url = clerk
    return make_api(auth="clerk", clerk_jwks_url=url, clerk_issuer=ISSUER, clerk_authorized_parties=[AZP])


def add_user(api: Api, clerk_id: str) -> None:
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(api.container.settings().data_dir / "songy.db") as conn:
        conn.execute(
            "INSERT INTO users (id, clerk_id, email, name, created_at, updated_at, credits)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (f"u_{clerk_id}", clerk_id, None, None, now, now, 3600),
        )


def post_generate(api: Api, token: str) -> object:
    return api.client.post(
        "/api/music-generator/generate",
        json={"name": "n", "prompt": "p", "lengthMs": 3000},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_clerk_unknown_user_is_404_user_not_found(clerk_api: Api, clerk: tuple[SigningKey, str]) -> None:
    key, _ = clerk
    response = post_generate(clerk_api, key.session_token("user_unknown"))
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert response.json()["error"] == {"code": "USER_NOT_FOUND", "message": "User not found for clerkId"}  # type: ignore[attr-defined]


def test_clerk_known_user_can_generate(clerk_api: Api, clerk: tuple[SigningKey, str]) -> None:
    key, _ = clerk
    add_user(clerk_api, "user_clerk_1")
    assert post_generate(clerk_api, key.session_token("user_clerk_1")).status_code == 201  # type: ignore[attr-defined]


def test_clerk_mode_rejects_dev_tokens(clerk_api: Api) -> None:
    dev = jwt.encode(dev_claims(), SECRET, algorithm="HS256")
    assert post_generate(clerk_api, dev).status_code == 401  # type: ignore[attr-defined]


def clerk_attacks(key: SigningKey) -> dict[str, str]:
    other = SigningKey(kid=key.kid)
    public_pem = key.private.public_key().public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )
    valid = key.session_token()
    head, payload, signature = valid.split(".")
    tampered_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b"user_clerk_1", b"user_clerk_2")
    ).decode()
    return {
        "expired": key.session_token(exp=datetime.now(UTC) - timedelta(minutes=1)),
        "not_yet_valid": key.session_token(nbf=datetime.now(UTC) + timedelta(minutes=10)),
        "wrong_issuer": key.session_token(iss="https://evil.example"),
        "wrong_azp": key.session_token(azp="https://evil.example"),
        "unknown_kid": key.session_token(kid="unknown-kid"),
        "signed_by_another_key": other.session_token(),
        "missing_sub": key.session_token(subject=None),
        "tampered": f"{head}.{tampered_payload}.{signature}",
        "alg_none": jwt.encode({"sub": "user_clerk_1", "iss": ISSUER}, None, algorithm="none"),  # type: ignore[arg-type]
        "hs256_with_public_key": _hs256_with(public_pem, key.kid),
    }


def _hs256_with(secret: bytes, kid: str) -> str:
    """The classic confusion attack: HS256 'signed' with the RSA public key."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps({"sub": "user_clerk_1", "iss": ISSUER, "azp": AZP, "iat": now, "exp": now + 300}).encode())
    signature = b64(hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest())
    return f"{header}.{body}.{signature}"


@pytest.mark.parametrize(
    "attack",
    [
        "expired",
        "not_yet_valid",
        "wrong_issuer",
        "wrong_azp",
        "unknown_kid",
        "signed_by_another_key",
        "missing_sub",
        "tampered",
        "alg_none",
        "hs256_with_public_key",
    ],
)
def test_clerk_token_attacks_are_401(clerk_api: Api, clerk: tuple[SigningKey, str], attack: str) -> None:
    key, _ = clerk
    add_user(clerk_api, "user_clerk_1")
    add_user(clerk_api, "user_clerk_2")
    response = post_generate(clerk_api, clerk_attacks(key)[attack])
    assert response.status_code == 401, (attack, response.json())  # type: ignore[attr-defined]


def test_clerk_jwks_down_is_503_not_401(make_api: Callable[..., Api]) -> None:
    key = SigningKey()
    api = make_api(
        auth="clerk", clerk_jwks_url="http://127.0.0.1:9/jwks.json", clerk_issuer=ISSUER, clerk_authorized_parties=[AZP]
    )
    response = post_generate(api, key.session_token())
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "AUTH_UNAVAILABLE"  # type: ignore[attr-defined]
