"""Every output format the API accepts is produced correctly: decoded length, rate, channels, level."""

from __future__ import annotations

import numpy as np
import pytest

from songy.adapters.codecs import channels_of, decode, encode, transcode
from songy.adapters.synth.generator import render
from songy.domain.formats import Codec, OutputFormat, supported_format_names
from songy.ports.audio import AudioSpec

from .measures import dbfs, quietest_second_dbfs, rms

PROMPT = "upbeat electronic dance music with synthesizers"


@pytest.mark.parametrize("name", supported_format_names())
def test_each_format_decodes_to_the_requested_audio(name: str) -> None:
    fmt = OutputFormat.parse(name)
    length_ms = 4000
    data = b"".join(encode(render(AudioSpec(PROMPT, length_ms, fmt, "music_v1")), fmt))
    samples, rate = decode(data, fmt)
    assert rate == fmt.sample_rate
    assert samples.shape[1] == channels_of(fmt) == (1 if fmt.codec in (Codec.PCM, Codec.ULAW, Codec.ALAW) else 2)
    assert abs(len(samples) / rate * 1000 - length_ms) <= 50, len(samples) / rate
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
