"""One user's endpoint cannot break webhooks for all: endpoints stored before URLs were validated completely
(port 99999, an unparsable host) sit among 20 users' endpoints; every other delivery arrives exactly once at a
local receiver, and the poisoned ones are recorded with the reason and retried on their schedule.

This module's app runs in dev mode, where private targets (the loopback receiver) are allowed."""

from __future__ import annotations

import socket
import sqlite3
from collections import Counter
from typing import Any

from .conftest import Api, GatedGenerator
from .webhook_receiver import E, Receiver, deliveries, receiver, register, wait_until

__all__ = ["receiver"]  # the fixture

USERS = [f"user_{n:02d}" for n in range(20)]
POISONS = ["https://example.com:99999/hook", "http://[::1/hook", "http://exa mple.com/hook"]


def poison(api: Api, endpoint_id: str, url: str) -> None:
    """Store ``url`` as the endpoint's, as a database written before registration validated fully would."""
    with sqlite3.connect(api.container.settings().data_dir / "songy.db", timeout=30) as db:
        assert db.execute("UPDATE webhook_endpoints SET url = ? WHERE id = ?", (url, endpoint_id)).rowcount == 1


def test_poisoned_endpoints_among_20_users_break_nobody_elses_deliveries(
    held_api: Api, gated: GatedGenerator, receiver: Receiver
) -> None:
    api = held_api
    endpoints: dict[str, dict[str, Any]] = {}  # path at the receiver -> endpoint
    poisoned: list[dict[str, Any]] = []
    for user in USERS:  # the poisoned user registers first, so its deliveries come first in every pass
        endpoint = register(api, f"{receiver.url}/{user}", user=user)
        endpoints[f"/hooks/songy/{user}"] = {**endpoint, "user": user}
        if user == USERS[0]:
            for url in POISONS:
                bad = register(api, f"{receiver.url}/{user}/to-be-poisoned", user=user)
                poison(api, bad["endpointId"], url)
                poisoned.append({**bad, "user": user})

    music: dict[str, str] = {}
    for user in USERS:  # each cancel is an event fanned out to the user's endpoints
        music_id = api.generate(user).json()["data"]["musicId"]
        response = api.client.post(f"/api/music-generator/{music_id}/cancel", headers=api.auth(user))
        assert response.status_code == 200, response.text
        music[user] = music_id

    def log(endpoint: dict[str, Any]) -> list[dict[str, Any]]:
        return deliveries(api, endpoint, endpoint["user"])

    # the positive signal: every good delivery recorded as succeeded (recorded only after its pass has sent all)
    wait_until(lambda: len(receiver.hits) >= len(USERS), timeout=30)
    wait_until(lambda: all([d["status"] for d in log(e)] == ["succeeded"] for e in endpoints.values()), timeout=30)

    sent = Counter(hit.headers["webhook-id"] for hit in receiver.hits)
    succeeded = {log(e)[0]["deliveryId"] for e in endpoints.values()}
    assert set(sent) == succeeded and set(sent.values()) == {1}, sent  # each arrived, and exactly once
    for hit in receiver.hits:  # each to its owner's endpoint, about its owner's track
        owner = endpoints[hit.path]["user"]
        assert f'"musicId":"{music[owner]}"' in hit.body.decode() and '"status":"CANCELED"' in hit.body.decode()
    for endpoint in endpoints.values():
        (delivered,) = log(endpoint)
        assert delivered["attempts"] == 1 and delivered["lastStatusCode"] == 204, delivered

    for endpoint, url in zip(poisoned, POISONS, strict=True):
        (failed,) = log(endpoint)
        assert failed["status"] == "pending" and failed["attempts"] == 1 and failed["nextAttemptAt"], url
        assert failed["lastError"].startswith("not a deliverable URL"), failed["lastError"]
    listed = api.client.get(E + "/", headers=api.auth(USERS[0])).json()["data"]["items"]
    assert {e["url"] for e in listed} >= set(POISONS)  # the owner sees which endpoint needs fixing


def test_a_silent_receiver_delays_neither_other_users_jobs_nor_their_webhooks(api: Api, receiver: Receiver) -> None:
    """Ten endpoints at a loopback tarpit (connections accepted by the kernel, never answered) hold their sends for
    the sender's whole deadline; meanwhile another user's track is handed to the queue, made, and its webhook
    delivered: before any of the held sends has even been recorded."""
    with socket.create_server(("127.0.0.1", 0), backlog=128) as tarpit:
        held = [
            register(api, f"http://127.0.0.1:{tarpit.getsockname()[1]}/{n}", user="user_mallory") for n in range(10)
        ]
        for _ in range(3):
            api.wait_for(api.generate("user_mallory").json()["data"]["musicId"], "user_mallory")

        victim_endpoint = register(api, f"{receiver.url}/victim", user="user_victim")
        victim = api.generate("user_victim").json()["data"]["musicId"]
        assert api.wait_for(victim, "user_victim")["status"] == "COMPLETED"
        wait_until(lambda: [d["status"] for d in deliveries(api, victim_endpoint, "user_victim")] == ["succeeded"])
        # the positive signal is the victim's recorded delivery; the held ones are all still in flight
        held_log = [d for endpoint in held for d in deliveries(api, endpoint, "user_mallory")]
        assert len(held_log) == 30 and all(d["attempts"] == 0 for d in held_log), held_log
