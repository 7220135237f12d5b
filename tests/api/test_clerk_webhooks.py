"""``POST /api/webhooks/clerk``: verified, idempotent user sync; Clerk users can then generate."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.jwks import AZP, ISSUER, SigningKey, jwks_server
from tests.support.svix import SECRET, clerk_user_event, event_ms, signed

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


@pytest.mark.parametrize("late_kind", ["user.created", "user.updated"])
def test_a_retried_older_event_after_the_deletion_leaves_the_user_deleted(
    clerk_api: Api, key: SigningKey, late_kind: str
) -> None:
    """Svix retries a failed delivery for about a day, after newer ones went through: the late one is stale."""
    t0 = event_ms()
    if late_kind == "user.updated":
        assert deliver(clerk_api, clerk_user_event("user.created", "user_1", at_ms=t0)).status_code == 200  # type: ignore[attr-defined]
    # the first attempt of this event failed at our end, so Svix will deliver it again, later, with the same id
    late = signed(clerk_user_event(late_kind, "user_1", email="late@example.com", at_ms=t0 + 1000))
    deleted = deliver(clerk_api, clerk_user_event("user.deleted", "user_1", at_ms=t0 + 2000))
    assert deleted.json()["data"]["result"] == "deleted"  # type: ignore[attr-defined]

    retried = clerk_api.client.post(HOOK, content=late[0], headers=late[1])

    assert retried.status_code == 200  # a 2xx, so Svix stops retrying
    assert retried.json()["data"] == {"event": late_kind, "result": "stale"}
    [(clerk_id, email, _, deleted_at)] = users(clerk_api)
    assert clerk_id == "user_1" and deleted_at is not None and email != "late@example.com"
    assert generate(clerk_api, key, "user_1") == 404


def test_out_of_order_updates_keep_the_newest_profile(clerk_api: Api) -> None:
    t0 = event_ms()
    deliver(clerk_api, clerk_user_event("user.created", "user_1", email="first@example.com", at_ms=t0))
    newest = deliver(clerk_api, clerk_user_event("user.updated", "user_1", email="newest@example.com", at_ms=t0 + 20))
    older = deliver(clerk_api, clerk_user_event("user.updated", "user_1", email="older@example.com", at_ms=t0 + 10))
    assert newest.json()["data"]["result"] == "updated"  # type: ignore[attr-defined]
    assert older.json()["data"]["result"] == "stale"  # type: ignore[attr-defined]
    assert users(clerk_api) == [("user_1", "newest@example.com", "Alice Liddell", None)]


def test_a_created_delivered_after_its_update_does_not_undo_it(clerk_api: Api) -> None:
    t0 = event_ms()
    update = deliver(clerk_api, clerk_user_event("user.updated", "user_1", email="new@example.com", at_ms=t0 + 5))
    create = deliver(clerk_api, clerk_user_event("user.created", "user_1", email="old@example.com", at_ms=t0))
    assert update.json()["data"]["result"] == "created"  # type: ignore[attr-defined]
    assert create.json()["data"]["result"] == "stale"  # type: ignore[attr-defined]
    assert users(clerk_api)[0][1] == "new@example.com"


@pytest.mark.parametrize("first", ["user.created", "user.deleted"])
def test_a_deletion_in_the_same_millisecond_wins_in_either_order(clerk_api: Api, first: str) -> None:
    at = event_ms()
    second = "user.deleted" if first == "user.created" else "user.created"
    deliver(clerk_api, clerk_user_event(first, "user_1", at_ms=at))
    deliver(clerk_api, clerk_user_event(second, "user_1", at_ms=at))
    assert users(clerk_api)[0][3] is not None


@pytest.mark.parametrize("timestamp", [None, "1700000000000", 1.5, -1, 0, True, 10**20, float("nan")])
def test_a_user_event_without_a_valid_timestamp_is_rejected(clerk_api: Api, timestamp: object) -> None:
    event = clerk_user_event("user.created", "user_1")
    if timestamp is None:
        del event["timestamp"]
    else:
        event["timestamp"] = timestamp
    response = deliver(clerk_api, event)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "WEBHOOK_REJECTED"  # type: ignore[attr-defined]
    assert "timestamp" in response.json()["error"]["message"]  # type: ignore[attr-defined]
    assert users(clerk_api) == []


@pytest.mark.parametrize("data", [[], "user_1", 7, None])
def test_a_payload_whose_data_is_not_an_object_is_rejected(clerk_api: Api, data: object) -> None:
    response = deliver(clerk_api, {"type": "user.created", "timestamp": event_ms(), "data": data})
    assert response.status_code == 400 and response.json()["error"]["code"] == "WEBHOOK_REJECTED"  # type: ignore[attr-defined]
