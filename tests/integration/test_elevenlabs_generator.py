"""The ElevenLabs adapter against the fake ElevenLabs server over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from songy.adapters.codecs import decode
from songy.adapters.elevenlabs.generator import ElevenLabsAudioGenerator
from songy.domain.errors import PermanentGenerationError, TransientGenerationError
from songy.domain.formats import OutputFormat
from songy.ports.audio import AudioSpec
from tests.support.fake_elevenlabs import FakeElevenLabs, running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeElevenLabs, str]]:
    app = FakeElevenLabs(api_key="test-key")
    with running(app) as url:
        yield app, url


@pytest.fixture
def provider(fake: tuple[FakeElevenLabs, str]) -> FakeElevenLabs:
    app, _ = fake
    app.script.clear()
    app.calls.clear()
    return app


def generator(
    fake: tuple[FakeElevenLabs, str], key: str = "test-key", timeout: float = 10.0
) -> ElevenLabsAudioGenerator:
    return ElevenLabsAudioGenerator(key, fake[1], timeout)


def spec(fmt: str = "mp3_44100_128", length_ms: int = 3000) -> AudioSpec:
    return AudioSpec("upbeat electronic music", length_ms, OutputFormat.parse(fmt), "music_v1")


async def collect(gen: ElevenLabsAudioGenerator, audio: AudioSpec) -> bytes:
    return b"".join([chunk async for chunk in gen.generate(audio)])


async def test_success_streams_decodable_audio_and_speaks_the_contract(
    fake: tuple[FakeElevenLabs, str], provider: FakeElevenLabs
) -> None:
    data = await collect(generator(fake), spec("pcm_16000", 3000))
    samples, rate = decode(data, OutputFormat.parse("pcm_16000"))
    assert rate == 16000 and len(samples) == 48000
    [call] = provider.calls
    assert call["api_key"] == "test-key" and call["query"] == {"output_format": "pcm_16000"}
    assert json.loads(call["body"]) == {
        "prompt": "upbeat electronic music",
        "music_length_ms": 3000,
        "model_id": "music_v1",
    }


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        ("bad_prompt", PermanentGenerationError, "rejected the prompt"),
        ("quota", PermanentGenerationError, "quota"),
        ("rate_limited", TransientGenerationError, "429"),
        ("server_error", TransientGenerationError, "500"),
        ("unavailable", TransientGenerationError, "503"),
    ],
)
async def test_errors_are_classified(
    fake: tuple[FakeElevenLabs, str], provider: FakeElevenLabs, error: str, kind: type[Exception], text: str
) -> None:
    provider.script.append({"error": error})
    with pytest.raises(kind, match=text):
        await collect(generator(fake), spec())


async def test_bad_prompt_reason_carries_the_suggestion(
    fake: tuple[FakeElevenLabs, str], provider: FakeElevenLabs
) -> None:
    provider.script.append({"error": "bad_prompt"})
    with pytest.raises(PermanentGenerationError, match="suggestion: an upbeat pop song"):
        await collect(generator(fake), spec())


async def test_invalid_key_is_permanent(fake: tuple[FakeElevenLabs, str], provider: FakeElevenLabs) -> None:
    with pytest.raises(PermanentGenerationError, match="API key"):
        await collect(generator(fake, key="wrong"), spec())


async def test_truncated_stream_is_transient(fake: tuple[FakeElevenLabs, str], provider: FakeElevenLabs) -> None:
    provider.script.append({"truncate": 0.5})
    with pytest.raises(TransientGenerationError, match="stream broke"):
        await collect(generator(fake), spec("mp3_44100_128", 10000))


async def test_timeout_is_transient(fake: tuple[FakeElevenLabs, str], provider: FakeElevenLabs) -> None:
    provider.script.append({"latency": 2.0})
    with pytest.raises(TransientGenerationError, match="timed out"):
        await collect(generator(fake, timeout=0.3), spec())


async def test_unreachable_provider_is_transient() -> None:
    gen = ElevenLabsAudioGenerator("k", "http://127.0.0.1:9", 2.0)
    with pytest.raises(TransientGenerationError):
        await collect(gen, spec())


async def test_wav_is_refused_before_any_call(fake: tuple[FakeElevenLabs, str], provider: FakeElevenLabs) -> None:
    with pytest.raises(PermanentGenerationError, match="wav"):
        await collect(generator(fake), spec("wav_44100"))
    assert provider.calls == []
