"""Batch generation, Idempotency-Key, credits and the admin grant, through the real app."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from .conftest import Api

GENERATE = "/api/music-generator/generate"
BATCH = "/api/music-generator/batch"


def item(**overrides: Any) -> dict[str, Any]:
    return {"name": "Batch Song", "prompt": "lofi piano", "lengthMs": 3000, **overrides}


def music_count(api: Api) -> int:
    with sqlite3.connect(api.container.settings().data_dir / "songy.db") as conn:
        return conn.execute("SELECT count(*) FROM music").fetchone()[0]


def credits(api: Api, user: str = "user_alice") -> int:
    return api.client.get("/api/me", headers=api.auth(user)).json()["data"]["credits"]


def test_batch_creates_one_job_each_and_lists_the_ids(api: Api) -> None:
    response = api.client.post(BATCH, json={"items": [item(name=f"S{i}") for i in range(3)]}, headers=api.auth())
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert len(data["musicIds"]) == 3 == len(set(data["musicIds"]))
    assert [i["name"] for i in data["items"]] == ["S0", "S1", "S2"]
    for music_id in data["musicIds"]:
        assert api.wait_for(music_id)["status"] == "COMPLETED"


def test_batch_is_validated_as_a_whole(api: Api) -> None:
    body = {"items": [item(), item(lengthMs=10), item(name="")]}
    response = api.client.post(BATCH, json=body, headers=api.auth())
    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"items[1].lengthMs", "items[2].name"}
    assert music_count(api) == 0


def test_batch_size_limits(api: Api) -> None:
    for body in ({"items": []}, {"items": [item()] * 11}, {"items": "x"}, {}, {"items": [item()], "x": 1}):
        response = api.client.post(BATCH, json=body, headers=api.auth())
        assert response.status_code == 400, body
    assert music_count(api) == 0


def test_idempotent_generate_replays_the_original(api: Api) -> None:
    headers = {**api.auth(), "Idempotency-Key": "order-42"}
    first = api.client.post(GENERATE, json=item(), headers=headers)
    again = api.client.post(GENERATE, json=item(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.json()["data"]["musicId"] == first.json()["data"]["musicId"]
    assert music_count(api) == 1


def test_same_key_other_body_is_422(api: Api) -> None:
    headers = {**api.auth(), "Idempotency-Key": "order-42"}
    api.client.post(GENERATE, json=item(), headers=headers)
    response = api.client.post(GENERATE, json=item(prompt="jazz"), headers=headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert music_count(api) == 1


def test_keys_are_per_user(api: Api) -> None:
    api.client.post(GENERATE, json=item(), headers={**api.auth("user_alice"), "Idempotency-Key": "k"})
    bob = api.client.post(GENERATE, json=item(), headers={**api.auth("user_bob"), "Idempotency-Key": "k"})
    assert bob.status_code == 201 and "idempotent-replayed" not in bob.headers
    assert music_count(api) == 2


def test_concurrent_duplicate_posts_create_one_job(api: Api) -> None:
    headers = {**api.auth(), "Idempotency-Key": "burst"}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: api.client.post(GENERATE, json=item(), headers=headers), range(8)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["data"]["musicId"] for r in responses}) == 1
    assert music_count(api) == 1


def test_idempotent_batch_replays_all_ids(api: Api) -> None:
    headers = {**api.auth(), "Idempotency-Key": "batch-1"}
    body = {"items": [item(), item(name="Two")]}
    first = api.client.post(BATCH, json=body, headers=headers).json()["data"]["musicIds"]
    again = api.client.post(BATCH, json=body, headers=headers).json()["data"]["musicIds"]
    assert first == again and music_count(api) == 2


def test_bad_idempotency_key_is_400(api: Api) -> None:
    response = api.client.post(GENERATE, json=item(), headers={**api.auth(), "Idempotency-Key": "x" * 300})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_credits_are_reserved_and_402_when_short(make_api: Any) -> None:
    api = make_api(initial_credits=40)
    assert credits(api) == 40
    assert api.client.post(GENERATE, json=item(lengthMs=30000), headers=api.auth()).status_code == 201
    assert credits(api) == 10
    response = api.client.post(GENERATE, json=item(lengthMs=30000), headers=api.auth())
    assert response.status_code == 402 and response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert music_count(api) == 1


def test_admin_grants_credits_and_others_are_403(make_api: Any) -> None:
    api = make_api(initial_credits=0)
    credits(api, "user_poor")  # the account exists
    token = api.container.dev_tokens().mint("user_admin", roles=("admin",), ttl=timedelta(hours=1))
    admin = {"Authorization": f"Bearer {token}"}
    denied = api.client.post("/api/admin/credits", json={"clerkId": "user_poor", "amount": 100}, headers=api.auth())
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "FORBIDDEN"
    granted = api.client.post("/api/admin/credits", json={"clerkId": "user_poor", "amount": 100}, headers=admin)
    assert granted.status_code == 200 and granted.json()["data"]["credits"] == 100
    for body in ({"clerkId": "user_poor", "amount": 0}, {"clerkId": "", "amount": 5}, {"clerkId": "user_poor"}):
        assert api.client.post("/api/admin/credits", json=body, headers=admin).status_code == 400
    unknown = api.client.post("/api/admin/credits", json={"clerkId": "nobody", "amount": 5}, headers=admin)
    assert unknown.status_code == 404
    assert credits(api, "user_poor") == 100
