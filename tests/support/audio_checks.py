"""What a downloaded track must be, judged as a listener's player would: it decodes (PyAV), at the asked sample
rate and channels, to the asked length (as exactly as each codec allows), at the asked bitrate, and is not silent.

These are the tests' own statements of each codec's rules, not the production verifier's code."""

from __future__ import annotations

import io

import av
import numpy as np

from songy.adapters.codecs import decode
from songy.domain.formats import Codec, OutputFormat

# Ogg Opus average bitrate over the whole file / asked bitrate. Opus is encoded with constrained VBR, which keeps
# the packets within a few percent of the target (measured +0.3% to +4.7% over 10 s of the synthesizer's music);
# the Ogg pages and the OpusHead/OpusTags headers add about 0.3 KB plus 1%, i.e. up to +9% on 3 s at 32 kbps
# (measured 1.019 to 1.087 on six prompts at every bitrate). Unconstrained VBR spends 1.14x to 1.9x; a dropped
# bitrate setting gives libopus's default 96 kbps, 3x at opus_48000_32.
OPUS_BITRATE_BAND = (0.90, 1.15)


def extra_samples_allowed(fmt: OutputFormat) -> int:
    """What each codec adds past the asked length when decoded: nothing. Raw and RIFF samples hold the samples;
    Ogg Opus's pre-skip and last granule position trim the encoder's look-ahead and padding; Songy's MP3s start
    with LAME's gapless "Info" tag (encoder delay and end padding), which the decoder drops."""
    del fmt
    return 0


def mp3_frame_sizes(data: bytes) -> list[int]:
    with av.open(io.BytesIO(data)) as container:
        return [packet.size for packet in container.demux(container.streams.audio[0]) if packet.size]


def assert_is_the_asked_audio(data: bytes, name: str, length_ms: int) -> None:
    fmt = OutputFormat.parse(name)
    samples, rate = decode(data, fmt)
    assert rate == fmt.sample_rate, f"{name}: decoded at {rate} Hz"
    mono = fmt.codec in (Codec.PCM, Codec.ULAW, Codec.ALAW)
    assert samples.shape[1] == (1 if mono else 2), f"{name}: {samples.shape[1]} channels"
    extra = len(samples) - round(length_ms * rate / 1000)
    assert 0 <= extra <= extra_samples_allowed(fmt), f"{name}: {len(samples)} samples decoded for {length_ms} ms"
    assert float(np.max(np.abs(samples))) > 0.05, f"{name}: silent"
    seconds = len(samples) / rate
    if fmt.codec is Codec.MP3:
        assert fmt.bitrate_kbps is not None
        # CBR: every Layer III frame is floor(coefficient * bitrate / rate) bytes, plus one when padded
        coefficient = 144_000 if fmt.sample_rate >= 32000 else 72_000
        size = coefficient * fmt.bitrate_kbps // fmt.sample_rate
        frames = mp3_frame_sizes(data)
        assert set(frames) <= {size, size + 1}, f"{name}: frames of {sorted(set(frames))} bytes, CBR is {size} or +1"
        # the bytes over the time every frame codes (the gapless Info frame, and the encoder's delay and padding
        # that the decoder drops, included)
        coded_s = (len(frames) + 1) * (1152 if fmt.sample_rate >= 32000 else 576) / rate
        kbps = len(data) * 8 / coded_s / 1000
        assert abs(kbps / fmt.bitrate_kbps - 1) < 0.01, f"{name}: {kbps:.1f} kbps on average"
    if fmt.codec is Codec.OPUS:
        assert fmt.bitrate_kbps is not None
        ratio = len(data) * 8 / seconds / 1000 / fmt.bitrate_kbps
        low, high = OPUS_BITRATE_BAND
        assert low <= ratio <= high, f"{name}: {ratio:.3f} x the asked bitrate on average"
