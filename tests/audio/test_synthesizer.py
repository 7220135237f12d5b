"""The offline composer and renderer: real music of the exact length, shaped by the prompt."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from songy.adapters.codecs import decode, encode
from songy.adapters.synth import soundfont
from songy.adapters.synth.composer import compose
from songy.adapters.synth.generator import SynthAudioGenerator, render, stream
from songy.adapters.synth.renderer import PEAK_CEILING, Renderer
from songy.adapters.synth.style import read_style
from songy.domain.formats import Codec, OutputFormat, supported_format_names
from songy.ports.audio import AudioSpec

from .measures import dbfs, estimate_bpm, onsets_per_second, quietest_second_dbfs, rms, spectral_centroid

PCM = OutputFormat.parse("pcm_22050")


def synth(prompt: str, length_ms: int = 16000, seed: int | None = None) -> np.ndarray:
    return render(AudioSpec(prompt, length_ms, PCM, "music_v1", seed=seed))


def test_exact_length_in_samples() -> None:
    assert synth("lofi piano", 7777).shape == (round(7.777 * 22050), 2)


def test_same_prompt_same_piece_and_seed_changes_it() -> None:
    assert np.array_equal(synth("jazz trio, swing"), synth("jazz trio, swing"))
    assert not np.array_equal(synth("jazz trio, swing", seed=1), synth("jazz trio, swing", seed=2))


@pytest.mark.parametrize("bpm", [80, 120, 140])
def test_stated_tempo_is_the_measured_tempo(bpm: int) -> None:
    assert estimate_bpm(synth(f"upbeat electronic dance music, {bpm} bpm"), PCM.sample_rate) == pytest.approx(
        bpm, rel=0.04
    )


def test_faster_prompt_has_more_onsets() -> None:
    fast = onsets_per_second(synth("rock band, 120 bpm"), PCM.sample_rate)
    slow = onsets_per_second(synth("rock band, 80 bpm"), PCM.sample_rate)
    assert fast > 1.25 * slow


def test_bright_is_brighter_than_dark() -> None:
    bright = spectral_centroid(synth("bright solo piano"), PCM.sample_rate)
    dark = spectral_centroid(synth("dark solo piano"), PCM.sample_rate)
    assert bright > 1.1 * dark


def test_busy_is_denser_than_sparse() -> None:
    busy = onsets_per_second(synth("busy intense techno"), PCM.sample_rate)
    sparse = onsets_per_second(synth("minimal sparse ambient"), PCM.sample_rate)
    assert busy > sparse


def test_prompt_vocabulary() -> None:
    style = read_style("Melancholic cinematic strings in D minor, 70 BPM, no drums", seed=0)
    assert (style.genre, style.bpm, style.key_name) == ("orchestral", 70, "D minor")
    assert 48 in [p.voice.program for p in style.parts] and "drums" not in style.roles
    assert read_style("happy pop in Bb major", seed=0).key_name == "A# major"
    assert read_style("lofi hip hop", seed=0).genre == "hip hop"
    assert {p.voice.program for p in read_style("solo guitar", seed=0).parts} == {25}


@settings(max_examples=25, deadline=None)
@given(
    prompt=st.text(max_size=120),
    length_ms=st.integers(3000, 12000),
    seed=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
)
def test_any_prompt_and_length_meets_the_bounds(prompt: str, length_ms: int, seed: int | None) -> None:
    samples = render(AudioSpec(prompt or "x", length_ms, PCM, "music_v1", seed=seed))
    assert samples.shape == (round(length_ms * PCM.sample_rate / 1000), 2)
    assert np.isfinite(samples).all()
    peak = float(np.max(np.abs(samples)))
    assert 0.1 < peak <= 0.9
    assert -24 < dbfs(rms(samples)) < -14
    assert quietest_second_dbfs(samples, PCM.sample_rate) > -50


@pytest.mark.parametrize("name", supported_format_names())
async def test_generator_streams_the_whole_encoded_track(name: str) -> None:
    """Every chunk the encoder makes reaches the store: an empty one is not the end (issue 12: every Opus track
    stopped after its 129-byte Ogg header)."""
    fmt = OutputFormat.parse(name)
    spec = AudioSpec("lofi piano", 3000, fmt, "music_v1")
    generated = b"".join([chunk async for chunk in SynthAudioGenerator().generate(spec)])
    expected = b"".join(encode(stream(spec), fmt))
    if fmt.codec is Codec.OPUS:  # random Ogg serial numbers: compare the decoded audio
        assert np.array_equal(decode(generated, fmt)[0], decode(expected, fmt)[0])
        assert len(generated) == pytest.approx(len(expected), abs=64)
    else:
        assert generated == expected


async def test_an_empty_chunk_from_the_encoder_is_not_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    from songy.adapters.synth import generator

    monkeypatch.setattr(generator, "encode", lambda signal, fmt: iter([b"head", b"", b"body", b"", b"tail"]))
    spec = AudioSpec("lofi piano", 3000, OutputFormat.parse("opus_48000_128"), "music_v1")
    assert [chunk async for chunk in SynthAudioGenerator().generate(spec)] == [b"head", b"body", b"tail"]


async def test_generator_streams_encoded_chunks() -> None:
    fmt = OutputFormat.parse("mp3_44100_128")
    chunks = [c async for c in SynthAudioGenerator().generate(AudioSpec("house", 5000, fmt, "music_v1"))]
    assert len(chunks) > 1 and all(chunks)


@settings(max_examples=15, deadline=None)
@given(block=st.integers(1, 40_000), length_ms=st.integers(0, 6000), seed=st.integers(0, 2**32 - 1))
def test_block_size_does_not_change_the_signal(block: int, length_ms: int, seed: int) -> None:
    spec = AudioSpec("funky house with piano and bells", length_ms, PCM, "music_v1", seed=seed)
    style = read_style(spec.prompt, seed)
    n = round(length_ms * PCM.sample_rate / 1000)
    composition = compose(style, n / PCM.sample_rate, seed)
    blocks = list(Renderer(PCM.sample_rate, soundfont.load(), seed).stream(composition, n, block=block))
    assert all(len(b) <= block for b in blocks)
    joined = np.concatenate(blocks) if blocks else np.zeros((0, 2), np.float32)
    assert np.array_equal(joined, render(spec))


def test_streaming_memory_does_not_grow_with_the_length() -> None:
    """Rendering and encoding chunk by chunk: 120 s peaks no higher than 30 s (a few chunks, the reverb's history
    and the bounded cache of rendered notes), far below the 42 MiB float32 signal of 120 s."""
    fmt = OutputFormat.parse("mp3_44100_128")

    def peak_of(seconds: int) -> int:
        spec = AudioSpec("busy intense techno with pads and strings", seconds * 1000, fmt, "music_v1")
        tracemalloc.start()
        try:
            size = sum(len(chunk) for chunk in encode(stream(spec), fmt))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert size > seconds * 15_000  # ~16 KB/s at 128 kbps
        return peak

    short, long = peak_of(30), peak_of(120)
    assert long < short + 2 * 2**20, f"30 s: {short / 2**20:.1f} MiB, 120 s: {long / 2**20:.1f} MiB"
    assert long < 120 * fmt.sample_rate * 2 * 4 / 3


def test_peaks_never_pass_the_ceiling_however_loud_the_mix() -> None:
    samples = synth("busy intense loud techno drum and bass with everything", 20_000)
    assert float(np.max(np.abs(samples))) <= PEAK_CEILING


def test_encoding_a_stream_equals_encoding_the_array() -> None:
    for name in ("mp3_44100_128", "wav_22050", "opus_48000_64"):
        fmt = OutputFormat.parse(name)
        spec = AudioSpec("lofi piano", 4000, fmt, "music_v1")
        streamed = b"".join(encode(stream(spec), fmt))
        whole = b"".join(encode(render(spec), fmt))
        if fmt.codec.value == "opus":  # Ogg stream serial numbers are random; compare the decoded audio
            decoded, rate = decode(streamed, fmt)
            assert rate == 48000 and len(decoded) == round(4.0 * rate)
            assert np.array_equal(decoded, decode(whole, fmt)[0])
        else:
            assert streamed == whole
