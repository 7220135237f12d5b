"""Completion webhooks: signed per Standard Webhooks, retried while the receiver is down, logged for the owner."""

from __future__ import annotations

from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from songy.domain.webhooks import BACKOFF

from .conftest import Api
from .webhook_receiver import E, Receiver, deliveries, receiver, register, wait_until

__all__ = ["receiver"]  # the fixture


def settled(api: Api, endpoint: dict[str, Any], user: str = "user_alice") -> list[dict[str, Any]]:
    """The endpoint's delivery log once it has one delivery and that one has been recorded as succeeded."""
    wait_until(lambda: [d["status"] for d in deliveries(api, endpoint, user)] == ["succeeded"])
    return deliveries(api, endpoint, user)


def test_completion_is_delivered_signed(api: Api, receiver: Receiver) -> None:
    endpoint = register(api, receiver.url)
    assert endpoint["secret"].startswith("whsec_")
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    (log,) = settled(api, endpoint)
    assert log["lastStatusCode"] == 204 and log["attempts"] == 1
    (hit,) = receiver.hits
    headers, body = hit.headers, hit.body
    payload = Webhook(endpoint["secret"]).verify(body, headers)  # raises on a bad signature
    assert headers["webhook-id"] == log["deliveryId"]
    assert payload["type"] == "music.generation.completed"
    assert payload["data"]["musicId"] == music_id and payload["data"]["audioUrl"]


def test_an_endpoint_gets_only_the_events_it_subscribed_to(api: Api, receiver: Receiver) -> None:
    failures_only = register(api, receiver.url + "/failed", events=["music.generation.failed"])
    completions = register(api, receiver.url + "/completed", events=["music.generation.completed"])
    api.wait_for(api.generate().json()["data"]["musicId"])
    settled(api, completions)  # the completion was fanned out, and the pass that sent it has been recorded
    assert deliveries(api, failures_only) == []
    assert receiver.paths == ["/hooks/songy/completed"]


def test_other_users_music_goes_to_its_owner_only(api: Api, receiver: Receiver) -> None:
    alices = register(api, receiver.url + "/alice", events=["music.generation.completed"])
    bobs = register(api, receiver.url + "/bob", events=["music.generation.completed"], user="user_bob")
    api.wait_for(api.generate("user_bob").json()["data"]["musicId"], "user_bob")
    settled(api, bobs, "user_bob")  # Bob's completion was fanned out and its delivery pass has been recorded
    assert deliveries(api, alices) == []
    assert receiver.paths == ["/hooks/songy/bob"]


def test_receiver_down_then_up_is_retried(make_api: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("songy.domain.webhooks.BACKOFF", tuple(b / 50 for b in BACKOFF))
    api = make_api()
    endpoint = register(api, receiver.url)
    receiver.failing = True
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    wait_until(lambda: deliveries(api, endpoint)[0]["attempts"] >= 2)
    pending = deliveries(api, endpoint)[0]
    assert pending["status"] == "pending" and pending["lastStatusCode"] == 503 and pending["nextAttemptAt"]
    receiver.failing = False
    wait_until(lambda: deliveries(api, endpoint)[0]["status"] == "succeeded", timeout=30)
    done = deliveries(api, endpoint)[0]
    assert done["attempts"] >= 3 and done["lastStatusCode"] == 204
    assert [hit.headers["webhook-id"] for hit in receiver.hits] == [done["deliveryId"]]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://x"},
        {"url": "not a url"},
        {"url": None},
        {"url": 443},
        {},
        {"url": "https://u:p@example.com/"},
        {"url": "https://example.com:99999/"},
        {"url": "https://example.com:0/"},
        {"url": "https://example.com:65536/"},
        {"url": "https://exa mple.com/"},
        {"url": "https://example.com/\u0000"},
        {"url": "https:///hook"},
        {"url": "https://example.com/" + "x" * 2100},
        {"url": "https://example.com", "events": ["nope"]},
        {"url": "https://example.com", "events": "music.generation.completed"},
    ],
    ids=lambda body: repr(body)[:50],
)
def test_a_bad_registration_is_a_400_envelope_naming_the_field(api: Api, body: dict[str, Any]) -> None:
    response = api.client.post(E + "/", json=body, headers=api.auth())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert response.json()["success"] is False and error["code"] == "VALIDATION_ERROR"
    assert {d["field"] for d in error["details"]} <= {"url", "events"} and error["details"]
    assert api.client.get(E + "/", headers=api.auth()).json()["data"]["items"] == []


def test_registration_isolates_users(api: Api) -> None:
    endpoint = register(api, "https://example.com/hook")
    assert api.client.get(f"{E}/{endpoint['endpointId']}/deliveries", headers=api.auth("user_bob")).status_code == 404
    assert api.client.delete(f"{E}/{endpoint['endpointId']}", headers=api.auth("user_bob")).status_code == 404
    listed = api.client.get(E + "/", headers=api.auth()).json()["data"]["items"]
    assert [e["endpointId"] for e in listed] == [endpoint["endpointId"]] and "secret" not in listed[0]
