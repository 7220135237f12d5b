"""What is stored is what was asked, on the production path: `songy serve` and a `songy worker` on PostgreSQL,
Redis and S3 (moto over HTTP). Every output format, rendered by the synthesizer and by the (fake) ElevenLabs,
downloaded from the presigned URL of the download route, decodes to the asked length, rate and bitrate."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from songy.domain.formats import Codec, OutputFormat, supported_format_names
from tests.support.audio_checks import assert_is_the_asked_audio

from .stack import Stack

pytestmark = pytest.mark.e2e

LENGTH_MS = 3000


@pytest.mark.parametrize("generator", ["synth", "elevenlabs"])
def test_every_format_downloads_as_the_asked_audio_from_s3(make_stack: Callable[..., Stack], generator: str) -> None:
    stack = make_stack(SONGY_AUDIO_GENERATOR=generator)
    stack.start_api()
    stack.start_worker()
    stack.create_user("user_formats")
    # ElevenLabs has no wav_*: the API refuses nothing, the generator fails it permanently (tests/integration)
    names = [n for n in supported_format_names() if generator == "synth" or OutputFormat.parse(n).codec != Codec.WAV]
    created = {name: stack.generate("user_formats", outputFormat=name, lengthMs=LENGTH_MS) for name in names}
    assert {name: r.status_code for name, r in created.items()} == dict.fromkeys(names, 201)
    for name, response in created.items():
        music_id = response.json()["data"]["musicId"]
        status = stack.wait_for("user_formats", music_id, timeout=180)
        assert status["status"] == "COMPLETED", (name, status.get("error"))
        link = stack.http.get(f"/api/music-generator/download/{music_id}", headers=stack.auth("user_formats"))
        assert link.status_code == 200, link.text
        audio = httpx.get(link.json()["data"]["url"])  # presigned GET on the S3 endpoint
        assert audio.status_code == 200, audio.text
        assert_is_the_asked_audio(audio.content, name, LENGTH_MS)
    assert len(stack.objects()) == len(names)
