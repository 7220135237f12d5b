"""List, cancel and delete: own music only, with the error envelope on bad input."""

from __future__ import annotations

import time

from .conftest import Api, GatedGenerator


def ids_of(api: Api, user: str = "user_alice", **query: object) -> tuple[list[str], str | None]:
    response = api.client.get("/api/music-generator", params=query, headers=api.auth(user))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return [m["musicId"] for m in data["items"]], data["nextCursor"]


def test_list_is_newest_first_and_paginates_without_gaps_or_repeats(held_api: Api) -> None:
    api = held_api
    created = [api.generate(name=f"Song {i}").json()["data"]["musicId"] for i in range(7)]
    seen, cursor = [], None
    while True:
        page, cursor = ids_of(api, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += page
        if cursor is None:
            break
    assert seen == list(reversed(created))


def test_list_filters_by_status_and_isolates_users(held_api: Api, gated: GatedGenerator) -> None:
    api = held_api
    done = api.generate().json()["data"]["musicId"]
    running = api.generate().json()["data"]["musicId"]
    api.client.post(f"/api/music-generator/{running}/cancel", headers=api.auth())
    gated.open()
    api.wait_for(done)
    api.generate("user_bob")
    assert ids_of(api, status="COMPLETED")[0] == [done]
    assert ids_of(api, status="CANCELED")[0] == [running]
    assert set(ids_of(api)[0]) == {done, running}
    assert len(ids_of(api, "user_bob")[0]) == 1


def test_list_rejects_bad_parameters(api: Api) -> None:
    for params, field in [
        ({"status": "DONE"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "٣"}, "limit"),
        ({"limit": " 3"}, "limit"),
        ({"limit": "3" * 40}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ]:
        response = api.client.get("/api/music-generator", params=params, headers=api.auth())
        assert response.status_code == 400, params
        assert response.json()["error"]["details"][0]["field"] == field


def test_cancel_during_processing_discards_the_upload(held_api: Api, gated: GatedGenerator) -> None:
    api = held_api
    music_id = api.generate().json()["data"]["musicId"]
    assert gated.started.wait(20)  # the worker has begun the attempt and waits at the gate
    response = api.client.post(f"/api/music-generator/{music_id}/cancel", headers=api.auth())
    assert response.status_code == 200 and response.json()["data"]["status"] == "CANCELED"
    gated.open()  # the render finishes and uploads; the worker must throw it away
    assert api.job_outcomes(music_id) == ["skipped"]  # the job has ended
    assert api.status(music_id).json()["data"]["status"] == "CANCELED"
    assert api.status(music_id).json()["data"]["audioUrl"] is None
    deadline = time.monotonic() + 20
    while list((api.container.settings().blob_root / "music").glob("*.mp3")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list((api.container.settings().blob_root / "music").glob("*.mp3")) == []


def test_cancel_of_a_finished_track_is_409(api: Api) -> None:
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    response = api.client.post(f"/api/music-generator/{music_id}/cancel", headers=api.auth())
    assert response.status_code == 409 and response.json()["error"]["code"] == "INVALID_TRANSITION"


def test_cancel_and_delete_of_another_users_track_are_404(held_api: Api) -> None:
    api = held_api
    music_id = api.generate("user_alice").json()["data"]["musicId"]
    assert api.client.post(f"/api/music-generator/{music_id}/cancel", headers=api.auth("user_bob")).status_code == 404
    assert api.client.delete(f"/api/music-generator/{music_id}", headers=api.auth("user_bob")).status_code == 404
    assert api.status(music_id).json()["data"]["status"] == "GENERATING"


def test_delete_removes_the_record_and_every_format(api: Api) -> None:
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    api.client.get(f"/api/music-generator/download/{music_id}?format=wav_16000", headers=api.auth())
    files = api.container.settings().blob_root / "music"
    assert len([p for p in files.iterdir() if not p.name.endswith(".meta.json")]) == 2
    response = api.client.delete(f"/api/music-generator/{music_id}", headers=api.auth())
    assert response.status_code == 200 and response.json()["data"] == {"musicId": music_id, "deleted": True}
    assert api.status(music_id).status_code == 404
    assert list(files.iterdir()) == []
    assert api.client.delete(f"/api/music-generator/{music_id}", headers=api.auth()).status_code == 404
