"""What an operator can do from /admin, through the API: retry a FAILED track (credits reserved again), cancel a
GENERATING one, purge old failures, pause and resume the queue. Only the admin role; each action logged with who."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from songy.adapters.devauth.tokens import DevTokens
from songy.adapters.memory.audio_generator import ScriptedAudioGenerator
from songy.domain.errors import PermanentGenerationError

from .conftest import SECRET, Api, GatedGenerator

ADMIN = {"Authorization": f"Bearer {DevTokens(SECRET).mint('ops_admin', roles=('admin',), ttl=timedelta(hours=1))}"}
ROUTES = [
    ("/api/admin/music/{id}/retry", None),
    ("/api/admin/music/{id}/cancel", None),
    ("/api/admin/failures/purge", {"olderThanDays": 0}),
    ("/api/admin/queue/pause", None),
    ("/api/admin/queue/resume", None),
]


def credits(api: Api, user: str = "user_alice") -> int:
    return int(api.client.get("/api/me", headers=api.auth(user)).json()["data"]["credits"])


def failed_track(make_api: Callable[..., Api]) -> tuple[Api, str]:
    api = make_api(generator=ScriptedAudioGenerator([PermanentGenerationError("the provider refused the prompt")]))
    music_id = api.generate().json()["data"]["musicId"]
    assert api.wait_for(music_id)["status"] == "FAILED"
    return api, music_id


@pytest.mark.parametrize(("route", "body"), ROUTES)
def test_every_action_needs_the_admin_role(route: str, body: object, api: Api) -> None:
    music_id = api.generate().json()["data"]["musicId"]
    response = api.client.post(route.format(id=music_id), json=body, headers=api.auth())
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"
    assert api.client.post(route.format(id=music_id), json=body).status_code == 401


def test_retry_a_failed_track_reserves_its_credits_again_and_runs_a_new_attempt(
    make_api: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    api, music_id = failed_track(make_api)
    before = credits(api)  # the failure gave the 3 credits back
    caplog.set_level(logging.INFO, "songy.domain.use_cases.admin_actions")
    retried = api.client.post(f"/api/admin/music/{music_id}/retry", headers=ADMIN)
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["status"] == "GENERATING"
    assert api.wait_for(music_id)["status"] == "COMPLETED"  # the script's next call succeeds
    assert credits(api) == before - 3
    assert any("admin ops_admin retried music " + music_id in r.getMessage() for r in caplog.records)
    again = api.client.post(f"/api/admin/music/{music_id}/retry", headers=ADMIN)
    assert again.status_code == 409 and again.json()["error"]["code"] == "INVALID_TRANSITION"


def test_retry_is_refused_when_the_owner_cannot_pay_and_nothing_changes(make_api: Callable[..., Api]) -> None:
    api, music_id = failed_track(make_api)
    spend = api.client.post(
        "/api/admin/credits", json={"clerkId": "user_alice", "amount": -credits(api)}, headers=ADMIN
    )
    assert spend.status_code == 200 and credits(api) == 0
    refused = api.client.post(f"/api/admin/music/{music_id}/retry", headers=ADMIN)
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert api.status(music_id).json()["data"]["status"] == "FAILED"


def test_cancel_any_users_generating_track_gives_its_credits_back(
    held_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    before = credits(held_api, "user_bob")
    music_id = held_api.generate("user_bob").json()["data"]["musicId"]
    caplog.set_level(logging.INFO, "songy.domain.use_cases.admin_actions")
    canceled = held_api.client.post(f"/api/admin/music/{music_id}/cancel", headers=ADMIN)
    assert canceled.status_code == 200 and canceled.json()["data"]["status"] == "CANCELED"
    assert credits(held_api, "user_bob") == before
    assert any(f"admin ops_admin canceled music {music_id}" in r.getMessage() for r in caplog.records)
    assert held_api.client.post(f"/api/admin/music/{music_id}/cancel", headers=ADMIN).status_code == 409
    assert held_api.client.post("/api/admin/music/nope/cancel", headers=ADMIN).status_code == 404


def test_purge_deletes_failures_older_than_asked_and_nothing_else(make_api: Callable[..., Api]) -> None:
    api, failed = failed_track(make_api)
    completed = api.generate().json()["data"]["musicId"]
    assert api.wait_for(completed)["status"] == "COMPLETED"
    kept = api.client.post("/api/admin/failures/purge", json={"olderThanDays": 1}, headers=ADMIN)
    assert kept.json()["data"] == {"purged": 0, "olderThanDays": 1}  # it failed moments ago
    purged = api.client.post("/api/admin/failures/purge", json={"olderThanDays": 0}, headers=ADMIN)
    assert purged.status_code == 200 and purged.json()["data"]["purged"] == 1
    assert api.status(failed).status_code == 404
    assert api.status(completed).json()["data"]["status"] == "COMPLETED"
    for bad in ({"olderThanDays": -1}, {"olderThanDays": "7"}, {}, {"olderThanDays": True}):
        refused = api.client.post("/api/admin/failures/purge", json=bad, headers=ADMIN)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR", bad


def test_a_paused_queue_starts_no_attempt_until_resumed(
    make_api: Callable[..., Api], gated: GatedGenerator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api = make_api(generator=gated)
    gated.open()  # the generator itself never holds: only the pause does
    paused = api.client.post("/api/admin/queue/pause", headers=ADMIN)
    assert paused.json()["data"] == {"paused": True}
    assert api.client.get("/api/admin/queue", headers=ADMIN).json()["data"]["paused"] is True
    music_id = api.generate().json()["data"]["musicId"]
    deadline = time.monotonic() + 10
    refused = False  # the relay tried to hand the job over, was told the queue is paused, and keeps it waiting
    while not refused and time.monotonic() < deadline:
        refused = any("paused by an operator" in r.getMessage() for r in caplog.records)
        time.sleep(0.05)
    assert refused
    assert not gated.started.is_set() and api.status(music_id).json()["data"]["status"] == "GENERATING"
    resumed = api.client.post("/api/admin/queue/resume", headers=ADMIN)
    assert resumed.json()["data"] == {"paused": False}
    assert api.wait_for(music_id, timeout=60)["status"] == "COMPLETED"
