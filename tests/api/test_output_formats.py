"""What is stored is what was asked: every output format, generated through the API on the embedded default
(SQLite, local files, the in-process worker, the synthesizer), downloaded over HTTP from the download route's URL,
decodes to the asked length at the asked rate and bitrate; a provider's track within
SONGY_PROVIDER_LENGTH_TOLERANCE_MS completes, one beyond it is retried, then FAILED naming the check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from songy.adapters.codecs import decode
from songy.domain.formats import OutputFormat, supported_format_names
from tests.support.audio_checks import assert_is_the_asked_audio
from tests.support.fake_elevenlabs import FakeElevenLabs, running

from .conftest import Api

LENGTH_MS = 3000


def download(api: Api, music_id: str) -> bytes:
    response = api.client.get(f"/api/music-generator/download/{music_id}", headers=api.auth())
    assert response.status_code == 200, response.text
    url = urlsplit(response.json()["data"]["url"])
    fetched = api.client.get(f"{url.path}?{url.query}")  # the signed local URL, served by this app
    assert fetched.status_code == 200, fetched.text
    return fetched.content


def test_every_format_downloads_as_the_asked_audio(make_api: Callable[..., Api]) -> None:
    api = make_api(initial_credits=3600)
    names = supported_format_names()
    created = {name: api.generate(outputFormat=name, lengthMs=LENGTH_MS) for name in names}
    assert {name: r.status_code for name, r in created.items()} == dict.fromkeys(names, 201)
    for name, response in created.items():
        music_id = response.json()["data"]["musicId"]
        status = api.wait_for(music_id, timeout=180)
        assert status["status"] == "COMPLETED", (name, status.get("error"))
        assert_is_the_asked_audio(download(api, music_id), name, LENGTH_MS)


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[FakeElevenLabs, str]]:
    app = FakeElevenLabs(api_key="test-key")
    with running(app) as url:
        yield app, url


def provider_api(make_api: Callable[..., Api], provider: tuple[FakeElevenLabs, str], tolerance_ms: int) -> Api:
    app, url = provider
    app.script.clear()
    app.calls.clear()
    api = make_api(
        audio_generator="elevenlabs",
        elevenlabs_api_key="test-key",
        elevenlabs_base_url=url,
        provider_length_tolerance_ms=tolerance_ms,
        retry_max_attempts=2,
    )
    assert api.container.audio_generator().tolerance.length == timedelta(milliseconds=tolerance_ms)
    return api


def test_a_providers_track_within_the_tolerance_completes(
    make_api: Callable[..., Api], provider: tuple[FakeElevenLabs, str]
) -> None:
    api = provider_api(make_api, provider, tolerance_ms=500)
    provider[0].script.append({"length_ms": 2600})
    music_id = api.generate(outputFormat="pcm_16000", lengthMs=LENGTH_MS).json()["data"]["musicId"]
    assert api.wait_for(music_id)["status"] == "COMPLETED"
    samples, _ = decode(download(api, music_id), OutputFormat.parse("pcm_16000"))
    assert len(samples) == 2.6 * 16000


def test_a_providers_short_track_is_retried_and_then_failed_naming_the_check(
    make_api: Callable[..., Api], provider: tuple[FakeElevenLabs, str]
) -> None:
    api = provider_api(make_api, provider, tolerance_ms=500)
    provider[0].script.extend([{"length_ms": 2400}, {}])  # short, then whole: the retry completes
    retried = api.generate(outputFormat="mp3_44100_128", lengthMs=LENGTH_MS).json()["data"]["musicId"]
    assert api.wait_for(retried)["status"] == "COMPLETED"
    assert_is_the_asked_audio(download(api, retried), "mp3_44100_128", LENGTH_MS)

    provider[0].script.extend([{"length_ms": 2400}, {"length_ms": 3600}])  # short twice: out of attempts
    failed = api.generate(outputFormat="mp3_44100_128", lengthMs=LENGTH_MS).json()["data"]["musicId"]
    status = api.wait_for(failed)
    assert status["status"] == "FAILED" and status["audioUrl"] is None
    assert status["error"].startswith("stored audio failed the length check: decoded 3.6"), status["error"]
    assert api.client.get(f"/api/music-generator/download/{failed}", headers=api.auth()).status_code == 409
    assert len(provider[0].calls) == 4
