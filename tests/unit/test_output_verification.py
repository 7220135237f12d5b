"""A track becomes COMPLETED only when what was stored is what was asked: a generator whose output is truncated,
empty, of another format, sample rate, bitrate or length ends FAILED (or retried, for a provider) with a reason
naming the check, and the stored object is discarded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from songy.adapters.audio_verification import DecodingAudioVerifier
from songy.adapters.memory.audio_generator import silence
from songy.domain.formats import OutputFormat
from songy.domain.music import MusicStatus
from songy.domain.use_cases.process_generation import Outcome, ProcessGeneration
from songy.ports.audio import EXACT, AudioSpec, OutputTolerance

from .fakes import ALICE, World

LENGTH_MS = 3000


def audio(name: str, length_ms: int = LENGTH_MS) -> bytes:
    return silence(OutputFormat.parse(name), length_ms)


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


class FixedOutput:
    """A generator that yields what ``make(spec)`` returns, in a few chunks, whatever was asked."""

    def __init__(self, make: Callable[[AudioSpec], bytes], tolerance: OutputTolerance = EXACT) -> None:
        self.make = make
        self.tolerance = tolerance
        self.calls = 0

    def describe(self, spec: object) -> None:
        return None

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        self.calls += 1
        data = self.make(spec)
        for i in range(0, len(data), 4096):
            yield data[i : i + 4096]


def with_generator(world: World, generator: FixedOutput) -> World:
    world.process = ProcessGeneration(
        world.uow, generator, world.blobs, world.clock, world.retry, DecodingAudioVerifier(world.blobs)
    )
    return world


# (what was asked, what the generator produced, the check that must fail)
BROKEN = {
    "truncated mp3": ("mp3_44100_128", lambda s: half(audio("mp3_44100_128")), "length"),
    "truncated opus": ("opus_48000_64", lambda s: half(audio("opus_48000_64")), "length"),
    "truncated wav": ("wav_44100", lambda s: half(audio("wav_44100")), "length"),
    "truncated pcm": ("pcm_16000", lambda s: half(audio("pcm_16000")), "length"),
    "nothing": ("mp3_44100_128", lambda s: b"", "empty"),
    "the 129-byte Opus of issue 12": ("opus_48000_128", lambda s: audio("opus_48000_128")[:129], "decode"),
    "junk frame bytes": ("mp3_44100_128", lambda s: b"\xff\xfb" + b"\x00" * 1000, "decode"),
    "mp3 for opus": ("opus_48000_128", lambda s: audio("mp3_44100_128"), "format"),
    "opus for mp3": ("mp3_44100_128", lambda s: audio("opus_48000_128"), "format"),
    "wav for pcm": ("pcm_16000", lambda s: audio("wav_16000"), "format"),
    "ogg for ulaw": ("ulaw_8000", lambda s: audio("opus_48000_32"), "format"),
    "mp3 for wav": ("wav_44100", lambda s: audio("mp3_44100_128"), "format"),
    "odd pcm bytes": ("pcm_16000", lambda s: audio("pcm_16000") + b"\x00", "format"),
    "22.05 kHz mp3 for 44.1 kHz": ("mp3_44100_32", lambda s: audio("mp3_22050_32"), "sample rate"),
    "22.05 kHz wav for 44.1 kHz": ("wav_44100", lambda s: audio("wav_22050"), "sample rate"),
    "64 kbps mp3 for 128 kbps": ("mp3_44100_128", lambda s: audio("mp3_44100_64"), "bitrate"),
    "mixed bitrates": ("mp3_44100_64", lambda s: audio("mp3_44100_64", 1500) + audio("mp3_44100_96", 1500), "bitrate"),
    "2 s for 3 s (mp3)": ("mp3_44100_128", lambda s: audio("mp3_44100_128", 2000), "length"),
    "4 s for 3 s (opus)": ("opus_48000_32", lambda s: audio("opus_48000_32", 4000), "length"),
    "one sample short (pcm)": ("pcm_24000", lambda s: audio("pcm_24000")[:-2], "length"),
    "one sample long (ulaw)": ("ulaw_8000", lambda s: audio("ulaw_8000") + b"\xff", "length"),
    "a frame too long (mp3)": ("mp3_44100_128", lambda s: audio("mp3_44100_128", 3060), "length"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
async def test_a_broken_output_ends_failed_naming_the_check_and_is_discarded(case: str) -> None:
    asked, make, check = BROKEN[case]
    world = with_generator(World(), FixedOutput(make))
    music_id = await world.request(output_format=asked, length_ms=LENGTH_MS)
    balance_before = (await _user(world)).credits
    outcomes = await world.drain()
    music = await world.status(ALICE, music_id)
    assert outcomes == [Outcome.FAILED], "a deterministic generator's broken output is not retried"
    assert music.status is MusicStatus.FAILED and music.audio_url is None
    assert (music.failure_reason or "").startswith(f"stored audio failed the {check} check: "), music.failure_reason
    assert world.blobs.puts == 1, "the object was stored before the check"
    assert world.blobs.objects == {}, "the FAILED track's object is discarded"
    assert (await _user(world)).credits == balance_before + LENGTH_MS // 1000, "credits are released"


async def test_the_same_output_in_the_asked_format_completes() -> None:
    for name in ("mp3_44100_128", "opus_48000_64", "wav_44100", "pcm_16000", "ulaw_8000"):
        world = with_generator(World(), FixedOutput(lambda s: silence(s.output_format, s.length_ms)))
        music_id = await world.request(output_format=name, length_ms=LENGTH_MS)
        assert await world.drain() == [Outcome.COMPLETED]
        assert (await world.status(ALICE, music_id)).status is MusicStatus.COMPLETED
        assert len(world.blobs.objects) == 1


PROVIDER = OutputTolerance(timedelta(milliseconds=500), deterministic=False)


async def test_a_providers_short_stream_is_retried_then_failed_and_discarded() -> None:
    generator = FixedOutput(lambda s: audio("mp3_44100_128", 2000), PROVIDER)
    world = with_generator(World(), generator)
    music_id = await world.request(length_ms=LENGTH_MS)
    assert await world.drain() == [Outcome.RETRY_SCHEDULED]
    world.clock.advance(timedelta(minutes=5))
    assert await world.drain() == [Outcome.FAILED]
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.FAILED and "failed the length check" in (music.failure_reason or "")
    assert generator.calls == 2 and world.blobs.objects == {}


async def test_a_providers_wrong_format_is_not_retried() -> None:
    generator = FixedOutput(lambda s: audio("mp3_44100_64"), PROVIDER)
    world = with_generator(World(), generator)
    music_id = await world.request(length_ms=LENGTH_MS)
    assert await world.drain() == [Outcome.FAILED]
    music = await world.status(ALICE, music_id)
    assert "failed the bitrate check" in (music.failure_reason or "") and generator.calls == 1


async def test_a_provider_may_stray_within_its_tolerance_and_no_further() -> None:
    for produced_ms, outcome in ((2600, Outcome.COMPLETED), (3400, Outcome.COMPLETED), (2400, Outcome.RETRY_SCHEDULED)):
        world = with_generator(World(), FixedOutput(lambda s, ms=produced_ms: audio("pcm_16000", ms), PROVIDER))
        await world.request(length_ms=LENGTH_MS, output_format="pcm_16000")
        assert await world.drain() == [outcome], produced_ms


async def _user(world: World):  # type: ignore[no-untyped-def]
    async with world.uow() as uow:
        user = await uow.users.get_by_clerk_id(ALICE.subject)
    assert user is not None
    return user
