"""The seed's flow through the real app: envelope, fields, statuses, timestamps, errors."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songy.adapters.codecs import decode
from songy.domain.formats import OutputFormat

from .conftest import Api

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_generate_answers_at_once_with_the_seed_shape(api: Api) -> None:
    response = api.generate(name="My Awesome Song", prompt="upbeat electronic dance music with synthesizers")
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Music generation job created successfully"
    data = body["data"]
    assert {"musicId", "name", "prompt", "status", "lengthMs", "createdAt"} <= set(data)
    assert data["status"] == "GENERATING" and data["name"] == "My Awesome Song" and data["lengthMs"] == 3000
    assert ISO_MS.match(data["createdAt"])


def test_full_flow_completes_and_serves_decodable_audio(api: Api) -> None:
    music_id = api.generate(name="Test Song", lengthMs=4000).json()["data"]["musicId"]
    data = api.wait_for(music_id)
    assert data["status"] == "COMPLETED"
    assert ISO_MS.match(data["updatedAt"]) and data["updatedAt"] >= data["createdAt"]
    key = r"/files/music/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z_Test_Song\.mp3"
    assert re.search(key + r"\?expires=\d+&signature=[0-9a-f]{64}$", data["audioUrl"])  # signed, expiring
    path = data["audioUrl"].split("://", 1)[1].split("/", 1)[1]
    audio = api.client.get("/" + path)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    samples, rate = decode(audio.content, OutputFormat.parse("mp3_44100_128"))
    assert rate == 44100 and abs(len(samples) / rate - 4.0) < 0.06


def test_status_while_generating_has_null_audio_url(api: Api) -> None:
    music_id = api.generate(lengthMs=300000).json()["data"]["musicId"]
    data = api.status(music_id).json()["data"]
    assert data["status"] == "GENERATING" and data["audioUrl"] is None and "error" not in data


def test_pcm_output_is_raw_16_bit_of_exact_length(api: Api) -> None:
    music_id = api.generate(outputFormat="pcm_16000", lengthMs=3000).json()["data"]["musicId"]
    data = api.wait_for(music_id)
    audio = api.client.get("/" + data["audioUrl"].split("/", 3)[3])
    assert len(audio.content) == 3 * 16000 * 2


def test_other_users_music_is_not_found(api: Api) -> None:
    music_id = api.generate("user_alice").json()["data"]["musicId"]
    response = api.status(music_id, user="user_bob")
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": {"code": "MUSIC_NOT_FOUND", "message": "Music record not found"},
    }


def test_unknown_music_is_not_found(api: Api) -> None:
    response = api.status("nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "MUSIC_NOT_FOUND"


def test_download_is_409_until_completed_then_a_signed_url(api: Api) -> None:
    music_id = api.generate(lengthMs=300000).json()["data"]["musicId"]
    early = api.client.get(f"/api/music-generator/download/{music_id}", headers=api.auth())
    assert early.status_code == 409 and early.json()["error"]["code"] == "MUSIC_NOT_READY"
    done = api.generate(lengthMs=3000).json()["data"]["musicId"]
    api.wait_for(done)
    link = api.client.get(f"/api/music-generator/download/{done}", headers=api.auth()).json()["data"]
    assert ISO_MS.match(link["expiresAt"]) and "signature=" in link["url"]
    assert api.client.get("/" + link["url"].split("/", 3)[3]).status_code == 200
    forged = link["url"].rsplit("signature=", 1)[0] + "signature=" + "0" * 64
    assert api.client.get("/" + forged.split("/", 3)[3]).status_code == 403


def test_other_users_download_is_not_found(api: Api) -> None:
    music_id = api.generate("user_alice").json()["data"]["musicId"]
    api.wait_for(music_id)
    response = api.client.get(f"/api/music-generator/download/{music_id}", headers=api.auth("user_bob"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"prompt": "p"}, {"name"}),
        ({"name": "  ", "prompt": "p"}, {"name"}),
        ({"name": "n" * 101, "prompt": "p"}, {"name"}),
        ({"name": "n", "prompt": "p" * 4101}, {"prompt"}),
        ({"name": "n", "prompt": "p", "lengthMs": 2999}, {"lengthMs"}),
        ({"name": "n", "prompt": "p", "lengthMs": 300001}, {"lengthMs"}),
        ({"name": "n", "prompt": "p", "lengthMs": "30000"}, {"lengthMs"}),
        ({"name": "n", "prompt": "p", "outputFormat": "flac"}, {"outputFormat"}),
        ({"name": "n", "prompt": "p", "modelId": "music_v2"}, {"modelId"}),
        ({"name": "n", "prompt": "p", "userId": "someone-else"}, {"userId"}),
        ({}, {"name", "prompt"}),
    ],
)
def test_bad_body_is_400_with_per_field_details(api: Api, body: dict[str, Any], fields: set[str]) -> None:
    response = api.client.post("/api/music-generator/generate", json=body, headers=api.auth())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and {d["field"] for d in error["details"]} == fields


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"", b"null"])
def test_malformed_body_is_400_never_500(api: Api, raw: bytes) -> None:
    headers = {**api.auth(), "Content-Type": "application/json"}
    response = api.client.post("/api/music-generator/generate", content=raw, headers=headers)
    assert response.status_code == 400
    assert response.json()["success"] is False and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_oversized_body_is_413(api: Api) -> None:
    response = api.client.post(
        "/api/music-generator/generate", json={"name": "n", "prompt": "p" * 400_000}, headers=api.auth()
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_nothing_is_stored_for_a_rejected_request(api: Api) -> None:
    api.client.post("/api/music-generator/generate", json={"name": "", "prompt": "p"}, headers=api.auth())
    database = api.container.settings().data_dir / "songy.db"
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM music").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "prompt", "lengthMs", "outputFormat", "modelId", "x"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=50), st.lists(st.integers(), max_size=2)),
    )
)
def test_any_json_object_gets_201_or_a_400_envelope(api: Api, body: dict[str, Any]) -> None:
    response = api.client.post("/api/music-generator/generate", json=body, headers=api.auth())
    assert response.status_code in (201, 400)
    assert response.json()["success"] is (response.status_code == 201)


def test_download_in_another_format_is_transcoded_once_and_cached(api: Api) -> None:
    music_id = api.generate(lengthMs=4000).json()["data"]["musicId"]
    api.wait_for(music_id)
    route = f"/api/music-generator/download/{music_id}?format=wav_16000"
    first = api.client.get(route, headers=api.auth())
    assert first.status_code == 200 and first.json()["data"]["format"] == "wav_16000"
    audio = api.client.get("/" + first.json()["data"]["url"].split("/", 3)[3])
    assert audio.content[:4] == b"RIFF" and audio.headers["content-type"] == "audio/wav"
    samples, rate = decode(audio.content, OutputFormat.parse("wav_16000"))
    assert rate == 16000 and abs(len(samples) / rate - 4.0) < 0.06
    blobs = api.container.settings().blob_root / "music"
    variant = next(blobs.glob("*.wav_16000.wav"))
    mtime = variant.stat().st_mtime_ns
    again = api.client.get(route, headers=api.auth())
    assert again.json()["data"]["url"].split("?")[0] == first.json()["data"]["url"].split("?")[0]
    assert variant.stat().st_mtime_ns == mtime  # served from the cache, not transcoded again


def test_download_with_an_unknown_format_is_400(api: Api) -> None:
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    response = api.client.get(f"/api/music-generator/download/{music_id}?format=flac_44100", headers=api.auth())
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "format"


def test_a_completed_track_shows_what_the_synthesizer_understood(api: Api) -> None:
    music_id = api.generate(prompt="techno 1000 bpm with a flute", lengthMs=3000).json()["data"]["musicId"]
    generating = api.status(music_id).json()["data"]
    assert "metadata" not in generating or generating["status"] != "GENERATING"
    done = api.wait_for(music_id)
    assert done["status"] == "COMPLETED"
    metadata = done["metadata"]
    assert metadata["genre"] == "techno" and metadata["bpm"] == 200  # clamped to the fastest it plays, not misread
    assert any(i["name"] == "flute" for i in metadata["instruments"])
    listed = api.client.get("/api/music-generator", headers=api.auth()).json()["data"]["items"]
    assert [m["metadata"] for m in listed if m["musicId"] == music_id] == [metadata]
