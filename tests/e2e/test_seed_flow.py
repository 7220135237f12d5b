"""The seed's flow as a client sees it, with the API and the worker as separate processes."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import redis

from songy.adapters.codecs import decode
from songy.domain.formats import OutputFormat

from .stack import Stack

pytestmark = pytest.mark.e2e


def test_webhook_user_generates_polls_and_downloads(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start_api()
    stack.start_worker()
    stack.create_user("user_seed")

    created = stack.generate("user_seed", name="My Awesome Song", lengthMs=4000)
    assert created.status_code == 201, created.text
    assert created.json()["message"] == "Music generation job created successfully"
    music_id = created.json()["data"]["musicId"]

    done = stack.wait_for("user_seed", music_id)
    assert done["status"] == "COMPLETED", done
    [key] = stack.objects()
    assert key.startswith("music/") and key.endswith("_My_Awesome_Song.mp3")
    assert done["audioUrl"].startswith(f"{stack.s3_endpoint}/{stack.bucket}/{key}?")  # a presigned GET
    assert "X-Amz-Signature=" in done["audioUrl"] and "X-Amz-Expires=3600" in done["audioUrl"]
    assert httpx.get(f"{stack.s3_endpoint}/{stack.bucket}/{key}").status_code == 403  # the object stays private

    link = stack.http.get(f"/api/music-generator/download/{music_id}", headers=stack.auth("user_seed"))
    assert link.status_code == 200
    audio = httpx.get(link.json()["data"]["url"])
    assert audio.status_code == 200 and audio.content == httpx.get(done["audioUrl"]).content
    samples, rate = decode(audio.content, OutputFormat.parse("mp3_44100_128"))
    assert rate == 44100 and abs(len(samples) / rate - 4.0) < 0.1

    wav = stack.http.get(f"/api/music-generator/download/{music_id}?format=wav_22050", headers=stack.auth("user_seed"))
    assert wav.status_code == 200, wav.text
    wav_audio = httpx.get(wav.json()["data"]["url"])
    assert wav_audio.content[:4] == b"RIFF"
    assert sorted(stack.objects()) == sorted([key, key.rsplit(".", 1)[0] + ".wav_22050.wav"])

    [record_key] = redis.Redis.from_url(stack.redis.url).keys("songy:job:*")
    record = json.loads(redis.Redis.from_url(stack.redis.url).get(record_key))
    assert record["music_id"] == music_id and record["outcome"] == "completed"
    assert 7000 < redis.Redis.from_url(stack.redis.url).ttl(record_key) <= 7200  # completed jobs: 2 h

    stack.create_user("user_other")
    other = stack.http.get(f"/api/music-generator/status/{music_id}", headers=stack.auth("user_other"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "MUSIC_NOT_FOUND"


def test_sse_hears_the_worker_across_processes(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start_api()
    stack.start_worker()
    stack.create_user("user_live")
    stack.elevenlabs.script.append({"latency": 1.0})
    music_id = stack.generate("user_live").json()["data"]["musicId"]
    route = f"/api/music-generator/status/{music_id}/events"
    with stack.http.stream("GET", route, headers=stack.auth("user_live"), timeout=30) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("data:")]
    statuses = [json.loads(line[5:])["status"] for line in lines]
    assert statuses[0] == "GENERATING" and statuses[-1] == "COMPLETED"
