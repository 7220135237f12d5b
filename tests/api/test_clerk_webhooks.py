"""``POST /api/webhooks/clerk``: verified, idempotent user sync; Clerk users can then generate."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.jwks import AZP, ISSUER, SigningKey, jwks_server
from tests.support.svix import SECRET, clerk_user_event, signed

from .conftest import Api

HOOK = "/api/webhooks/clerk"


@pytest.fixture
def key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def clerk_api(make_api: Callable[..., Api], key: SigningKey) -> Iterator[Api]:
    with jwks_server(key) as url:
        yield make_api(
            auth="clerk",
            clerk_jwks_url=url,
            clerk_issuer=ISSUER,
            clerk_authorized_parties=[AZP],
            clerk_webhook_secret=SECRET,
        )


def deliver(api: Api, payload: dict[str, object], **options: object) -> object:
    body, headers = signed(payload, **options)  # type: ignore[arg-type]
    return api.client.post(HOOK, content=body, headers=headers)


def users(api: Api) -> list[tuple[str, str | None, str | None, str | None]]:
    with sqlite3.connect(api.container.settings().data_dir / "songy.db") as conn:
        return conn.execute("SELECT clerk_id, email, name, deleted_at FROM users ORDER BY clerk_id").fetchall()


def generate(api: Api, key: SigningKey, clerk_id: str) -> int:
    response = api.client.post(
        "/api/music-generator/generate",
        json={"name": "n", "prompt": "p", "lengthMs": 3000},
        headers={"Authorization": f"Bearer {key.session_token(clerk_id)}"},
    )
    return response.status_code


def test_user_created_by_webhook_can_generate(clerk_api: Api, key: SigningKey) -> None:
    assert generate(clerk_api, key, "user_2abc") == 404
    response = deliver(clerk_api, clerk_user_event("user.created", "user_2abc"))
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json()["data"] == {"event": "user.created", "result": "created"}  # type: ignore[attr-defined]
    assert users(clerk_api) == [("user_2abc", "alice@example.com", "Alice Liddell", None)]
    assert generate(clerk_api, key, "user_2abc") == 201


def test_user_updated_changes_the_profile(clerk_api: Api) -> None:
    deliver(clerk_api, clerk_user_event("user.created", "user_1"))
    deliver(clerk_api, clerk_user_event("user.updated", "user_1", email="new@example.com", first="Al"))
    assert users(clerk_api)[0][:3] == ("user_1", "new@example.com", "Al Liddell")


def test_user_deleted_loses_access_but_keeps_the_record(clerk_api: Api, key: SigningKey) -> None:
    deliver(clerk_api, clerk_user_event("user.created", "user_1"))
    assert generate(clerk_api, key, "user_1") == 201
    assert deliver(clerk_api, clerk_user_event("user.deleted", "user_1")).json()["data"]["result"] == "deleted"  # type: ignore[attr-defined]
    assert generate(clerk_api, key, "user_1") == 404
    assert users(clerk_api)[0][3] is not None


def test_redelivery_is_applied_once(clerk_api: Api) -> None:
    body, headers = signed(clerk_user_event("user.created", "user_1"), message_id="msg_fixed")
    first = clerk_api.client.post(HOOK, content=body, headers=headers)
    deliver(clerk_api, clerk_user_event("user.deleted", "user_1"))
    replay = clerk_api.client.post(HOOK, content=body, headers=headers)
    assert first.json()["data"]["result"] == "created"
    assert replay.status_code == 200 and replay.json()["data"]["result"] == "duplicate"
    assert users(clerk_api)[0][3] is not None  # the replayed "created" did not resurrect the user


def test_forged_signature_is_rejected(clerk_api: Api) -> None:
    other = "whsec_" + base64.b64encode(b"an-attacker-secret-0123456789abcdef").decode()
    response = deliver(clerk_api, clerk_user_event("user.created", "user_evil"), secret=other)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "WEBHOOK_REJECTED"  # type: ignore[attr-defined]
    assert users(clerk_api) == []


def test_stale_timestamp_is_rejected(clerk_api: Api) -> None:
    response = deliver(
        clerk_api, clerk_user_event("user.created", "user_1"), at=datetime.now(UTC) - timedelta(minutes=10)
    )
    assert response.status_code == 400 and users(clerk_api) == []  # type: ignore[attr-defined]


def test_tampered_body_is_rejected(clerk_api: Api) -> None:
    body, headers = signed(clerk_user_event("user.created", "user_1"))
    response = clerk_api.client.post(HOOK, content=body.replace(b"user_1", b"user_2"), headers=headers)
    assert response.status_code == 400 and users(clerk_api) == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"svix-id": "m", "svix-timestamp": "1", "svix-signature": "garbage"},
        {"svix-id": "m", "svix-timestamp": "not-a-number", "svix-signature": "v1,abc"},
    ],
)
def test_missing_or_malformed_headers_are_400(clerk_api: Api, headers: dict[str, str]) -> None:
    response = clerk_api.client.post(HOOK, content=b'{"type": "user.created"}', headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "WEBHOOK_REJECTED"


def test_other_event_types_are_acknowledged_and_ignored(clerk_api: Api) -> None:
    response = deliver(clerk_api, {"type": "session.created", "data": {"id": "sess_1"}})
    assert response.status_code == 200 and response.json()["data"]["result"] == "ignored"  # type: ignore[attr-defined]


def test_webhooks_answer_503_until_configured(api: Api) -> None:
    response = deliver(api, clerk_user_event("user.created", "user_1"))
    assert response.status_code == 503  # type: ignore[attr-defined]
