"""Playlists: own completed tracks only, ordered, isolated per user."""

from __future__ import annotations

from typing import Any

from .conftest import Api

P = "/api/playlists"


def completed(api: Api, n: int, user: str = "user_alice") -> list[str]:
    ids = [api.generate(user, name=f"Track {i}").json()["data"]["musicId"] for i in range(n)]
    for music_id in ids:
        assert api.wait_for(music_id, user)["status"] == "COMPLETED"
    return ids


def create(api: Api, name: str = "Focus", user: str = "user_alice") -> str:
    response = api.client.post(P + "/", json={"name": name}, headers=api.auth(user))
    assert response.status_code == 201, response.text
    return response.json()["data"]["playlistId"]


def get(api: Api, playlist_id: str, user: str = "user_alice") -> Any:
    return api.client.get(f"{P}/{playlist_id}", headers=api.auth(user))


def test_create_add_reorder_remove_rename_delete(api: Api) -> None:
    a, b, c = completed(api, 3)
    playlist = create(api)
    for music_id in (a, b):
        assert (
            api.client.post(f"{P}/{playlist}/tracks", json={"musicId": music_id}, headers=api.auth()).status_code == 200
        )
    inserted = api.client.post(f"{P}/{playlist}/tracks", json={"musicId": c, "position": 0}, headers=api.auth())
    assert inserted.json()["data"]["musicIds"] == [c, a, b]
    reordered = api.client.put(f"{P}/{playlist}/tracks", json={"musicIds": [b, c, a]}, headers=api.auth())
    assert reordered.json()["data"]["musicIds"] == [b, c, a]
    body = get(api, playlist).json()["data"]
    assert [t["musicId"] for t in body["tracks"]] == [b, c, a] and body["tracks"][0]["status"] == "COMPLETED"
    removed = api.client.delete(f"{P}/{playlist}/tracks/{c}", headers=api.auth())
    assert removed.json()["data"]["musicIds"] == [b, a]
    renamed = api.client.patch(f"{P}/{playlist}", json={"name": "  Deep Work "}, headers=api.auth())
    assert renamed.json()["data"]["name"] == "Deep Work"
    listed = api.client.get(P + "/", headers=api.auth()).json()["data"]["items"]
    assert [p["playlistId"] for p in listed] == [playlist]
    assert api.client.delete(f"{P}/{playlist}", headers=api.auth()).status_code == 200
    assert get(api, playlist).status_code == 404
    assert api.status(a).status_code == 200  # tracks outlive their playlists


def test_bad_input_is_4xx_with_the_envelope(api: Api) -> None:
    [a] = completed(api, 1)
    playlist = create(api)
    cases = [
        ("post", P + "/", {"name": ""}, 400),
        ("post", P + "/", {"name": "x" * 101}, 400),
        ("post", f"{P}/{playlist}/tracks", {"musicId": 5}, 400),
        ("post", f"{P}/{playlist}/tracks", {"musicId": a, "position": 7}, 400),
        ("post", f"{P}/{playlist}/tracks", {"musicId": "nope"}, 404),
        ("put", f"{P}/{playlist}/tracks", {"musicIds": [a, a]}, 400),
        ("delete", f"{P}/{playlist}/tracks/{a}", None, 404),
        ("patch", f"{P}/missing", {"name": "x"}, 404),
    ]
    for method, path, body, status in cases:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(api.client, method)(path, headers=api.auth(), **kwargs)
        assert response.status_code == status, (method, path, body, response.text)
        assert response.json()["success"] is False
    api.client.post(f"{P}/{playlist}/tracks", json={"musicId": a}, headers=api.auth())
    again = api.client.post(f"{P}/{playlist}/tracks", json={"musicId": a}, headers=api.auth())
    assert again.status_code == 409


def test_only_completed_own_tracks_can_be_added(held_api: Api) -> None:
    api = held_api
    running = api.generate().json()["data"]["musicId"]
    bobs = api.generate("user_bob").json()["data"]["musicId"]
    playlist = create(api)
    not_ready = api.client.post(f"{P}/{playlist}/tracks", json={"musicId": running}, headers=api.auth())
    assert not_ready.status_code == 409 and not_ready.json()["error"]["code"] == "MUSIC_NOT_READY"
    foreign = api.client.post(f"{P}/{playlist}/tracks", json={"musicId": bobs}, headers=api.auth())
    assert foreign.status_code == 404


def test_another_users_playlist_is_404(api: Api) -> None:
    playlist = create(api, user="user_alice")
    assert get(api, playlist, "user_bob").status_code == 404
    assert api.client.delete(f"{P}/{playlist}", headers=api.auth("user_bob")).status_code == 404
    assert api.client.get(P + "/", headers=api.auth("user_bob")).json()["data"]["items"] == []


def test_deleting_a_track_takes_it_out_of_playlists(api: Api) -> None:
    a, b = completed(api, 2)
    playlist = create(api)
    for music_id in (a, b):
        api.client.post(f"{P}/{playlist}/tracks", json={"musicId": music_id}, headers=api.auth())
    api.client.delete(f"/api/music-generator/{a}", headers=api.auth())
    assert get(api, playlist).json()["data"]["musicIds"] == [b]
