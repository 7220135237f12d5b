"""Every output format the API accepts is produced correctly: decoded length, rate, channels, level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from songy.adapters.audio_verification import check_file
from songy.adapters.codecs import channels_of, decode, encode, transcode
from songy.adapters.synth.generator import render
from songy.domain.formats import Codec, OutputFormat, supported_format_names
from songy.ports.audio import EXACT, AudioCheckFailed, AudioSpec, OutputTolerance
from tests.support.audio_checks import assert_is_the_asked_audio, extra_samples_allowed

from .measures import dbfs, quietest_second_dbfs, rms

PROMPT = "upbeat electronic dance music with synthesizers"


def excess(samples: np.ndarray, rate: int, length_ms: int) -> int:
    return len(samples) - round(length_ms * rate / 1000)


@pytest.mark.parametrize("name", supported_format_names())
def test_each_format_decodes_to_the_requested_audio(name: str) -> None:
    fmt = OutputFormat.parse(name)
    length_ms = 4000
    data = b"".join(encode(render(AudioSpec(PROMPT, length_ms, fmt, "music_v1")), fmt))
    samples, rate = decode(data, fmt)
    assert rate == fmt.sample_rate
    assert samples.shape[1] == channels_of(fmt) == (1 if fmt.codec in (Codec.PCM, Codec.ULAW, Codec.ALAW) else 2)
    assert 0 <= excess(samples, rate, length_ms) <= extra_samples_allowed(fmt), len(samples)
    assert_is_the_asked_audio(data, name, length_ms)
    assert float(np.max(np.abs(samples))) < 0.999, "clipping"
    assert 0.1 < float(np.max(np.abs(samples))) <= 0.95
    assert -26 < dbfs(rms(samples)) < -12
    assert quietest_second_dbfs(samples, rate) > -45


def test_pcm_is_raw_little_endian_16_bit_mono() -> None:
    fmt = OutputFormat.parse("pcm_16000")
    data = b"".join(encode(render(AudioSpec(PROMPT, 3000, fmt, "music_v1")), fmt))
    assert len(data) == 3 * 16000 * 2
    assert np.frombuffer(data, "<i2").any()


def test_telephony_formats_are_one_byte_per_sample() -> None:
    for name in ("ulaw_8000", "alaw_8000"):
        fmt = OutputFormat.parse(name)
        assert len(b"".join(encode(render(AudioSpec(PROMPT, 3000, fmt, "music_v1")), fmt))) == 24000


def test_container_signatures() -> None:
    def head(name: str) -> bytes:
        fmt = OutputFormat.parse(name)
        return b"".join(encode(render(AudioSpec(PROMPT, 3000, fmt, "music_v1")), fmt))[:4]

    assert head("wav_44100") == b"RIFF"
    assert head("opus_48000_64") == b"OggS"
    assert head("mp3_44100_128")[:2] in (b"\xff\xfb", b"\xff\xfa", b"ID")


@pytest.mark.parametrize("target", ["wav_16000", "pcm_24000", "opus_48000_64", "ulaw_8000", "mp3_22050_32"])
def test_transcoding_keeps_length_and_changes_rate(target: str) -> None:
    source = OutputFormat.parse("mp3_44100_128")
    original = b"".join(encode(render(AudioSpec(PROMPT, 5000, source, "music_v1")), source))
    fmt = OutputFormat.parse(target)
    samples, rate = decode(transcode(original, source, fmt), fmt)
    assert rate == fmt.sample_rate and abs(len(samples) / rate - 5.0) <= 0.06
    assert -28 < dbfs(rms(samples)) < -12


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(supported_format_names()), length_ms=st.integers(3000, 4200))
def test_decoded_length_is_the_asked_length_as_each_codec_allows(name: str, length_ms: int) -> None:
    """Over every residue of the length modulo the codec's frame: exact, or MP3's whole frames and no more."""
    fmt = OutputFormat.parse(name)
    silence = np.zeros((round(length_ms * fmt.sample_rate / 1000), 2), np.float32)
    samples, rate = decode(b"".join(encode(silence, fmt)), fmt)
    assert rate == fmt.sample_rate
    assert 0 <= excess(samples, rate, length_ms) <= extra_samples_allowed(fmt)


@pytest.mark.parametrize("name", [n for n in supported_format_names() if n.startswith("mp3_")])
def test_decoded_mp3_starts_on_time_and_ends_on_the_last_sample(name: str) -> None:
    """The gapless header (LAME's Info tag: encoder delay and padding) is honoured by the decoder: a click at
    sample k decodes at k (within 2 ms: it started 1,105 samples, 25 ms, late without it), and the length is
    exact for every residue of the length modulo the frame."""
    fmt = OutputFormat.parse(name)
    for n in (fmt.sample_rate, fmt.sample_rate + 1, fmt.sample_rate + 575, 2 * fmt.sample_rate + 1151):
        signal = np.zeros((n, 2), np.float32)
        click = n // 3
        signal[click : click + 4] = 0.8
        signal[-4:] = 0.8  # the last samples survive the end trim
        samples, rate = decode(b"".join(encode(signal, fmt)), fmt)
        assert len(samples) == n
        assert abs(int(np.argmax(np.abs(samples[: n // 2, 0]))) - click) <= 0.002 * rate
        assert float(np.max(np.abs(samples[-64:, 0]))) > 0.2


def test_the_check_of_stored_mp3_is_exact_for_gapless_generators(tmp_path: Path) -> None:
    """The synthesizer's MP3s decode exactly, so 500 samples too many fail its check; a generator without the
    gapless header (a provider's MP3) keeps the allowance of a frame and LAME's 48-sample MDCT delay."""
    fmt = OutputFormat.parse("mp3_44100_128")
    spec = AudioSpec(PROMPT, 3000, fmt, "music_v1")
    asked = round(3.0 * fmt.sample_rate)
    path = tmp_path / "track.mp3"
    path.write_bytes(b"".join(encode(render(spec), fmt)))
    assert check_file(str(path), spec, EXACT).samples == asked
    path.write_bytes(b"".join(encode(np.full((asked + 500, 2), 0.1, np.float32), fmt)))
    with pytest.raises(AudioCheckFailed) as failed:
        check_file(str(path), spec, EXACT)
    assert failed.value.check == "length"
    assert check_file(str(path), spec, OutputTolerance(gapless=False)).samples == asked + 500
