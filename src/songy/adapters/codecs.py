"""The format layer every generator shares: float samples <-> the bytes of an :class:`OutputFormat`.

MP3 is encoded with LAME (``lameenc``); Opus-in-Ogg, mu-law and A-law with FFmpeg's encoders through PyAV;
``pcm_*`` is raw 16-bit little-endian mono, as ElevenLabs sends it; ``wav_*`` is 16-bit stereo RIFF.
Decoding (for transcoding and for tests) goes through PyAV for every container it can probe.
"""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import av
import lameenc
import numpy as np

from songy.domain.formats import Codec, OutputFormat

CHUNK_FRAMES = 65_536
# LAME delays its output by 576 + 529 samples and writes no gapless header through lameenc: dropping that many
# samples from the (faded-out) tail keeps the decoded MP3 within one frame (< 26 ms) of the requested length.
MP3_ENCODER_DELAY = 1105
MP3_QUALITY = 5  # LAME -q5; -q7 is ~1.6x faster at audibly lower quality (docs/performance.md)
_AV_ENCODERS = {Codec.OPUS: ("ogg", "libopus"), Codec.ULAW: ("mulaw", "pcm_mulaw"), Codec.ALAW: ("alaw", "pcm_alaw")}
# libopus's unconstrained VBR spends what the music asks for: 30-90% over the asked bitrate on the synthesizer's
# tracks (opus_48000_32 came out at 42-62 kbps). Constrained VBR keeps the average within a few percent of it.
_AV_OPTIONS = {Codec.OPUS: {"vbr": "constrained"}}


def channels_of(fmt: OutputFormat) -> int:
    """Mono for telephony and raw PCM (as the provider sends them), stereo otherwise."""
    return 1 if fmt.codec in (Codec.PCM, Codec.ULAW, Codec.ALAW) else 2


def to_int16(samples: np.ndarray, channels: int) -> np.ndarray:
    """Float ``(n, 2)`` in [-1, 1] to interleaved int16 ``(n, channels)``."""
    mixed = samples.mean(axis=1, keepdims=True) if channels == 1 else samples
    return np.clip(np.round(mixed * 32767.0), -32768, 32767).astype("<i2")


@dataclass(frozen=True)
class Signal:
    """A stereo float32 signal of ``frames`` frames, delivered as consecutive ``(k, 2)`` blocks, so that a long
    track is encoded as it is rendered instead of being held whole."""

    frames: int
    blocks: Iterable[np.ndarray]

    @classmethod
    def of(cls, samples: np.ndarray, block: int = CHUNK_FRAMES) -> Signal:
        """The signal of an ``(n, 2)`` array, in views of ``block`` frames (no copy)."""
        return cls(len(samples), (samples[i : i + block] for i in range(0, len(samples), block)))

    def collect(self) -> np.ndarray:
        """The whole signal as one ``(frames, 2)`` array (consumes the blocks)."""
        blocks = list(self.blocks)
        return np.concatenate(blocks) if blocks else np.zeros((0, 2), np.float32)


def encode(samples: np.ndarray | Signal, fmt: OutputFormat) -> Iterator[bytes]:
    """Encode ``(n, 2)`` float32 samples already at ``fmt.sample_rate``, or a :class:`Signal` of them; yields
    chunks as they are ready. Samples are converted to 16-bit block by block, so no full-length copy is made."""
    signal = samples if isinstance(samples, Signal) else Signal.of(samples)
    channels = channels_of(fmt)
    if fmt.codec is Codec.MP3:
        yield from _mp3(signal, fmt, channels)
    elif fmt.codec in (Codec.PCM, Codec.WAV):
        if fmt.codec is Codec.WAV:
            yield _wav_header(signal.frames, fmt.sample_rate)
        for block in _int16_blocks(signal.blocks, channels):
            yield block.tobytes()
    else:
        yield from _with_av(signal, fmt, channels)


def _int16_blocks(blocks: Iterable[np.ndarray], channels: int) -> Iterator[np.ndarray]:
    for block in blocks:
        for i in range(0, len(block), CHUNK_FRAMES):
            yield to_int16(block[i : i + CHUNK_FRAMES], channels)


def _first(blocks: Iterable[np.ndarray], frames: int) -> Iterator[np.ndarray]:
    """The blocks cut off after ``frames`` frames in all (the rest is still consumed, so a producer finishes)."""
    left = frames
    for block in blocks:
        if left > 0:
            yield block[:left]
        left -= len(block)


def _mp3(signal: Signal, fmt: OutputFormat, channels: int) -> Iterator[bytes]:
    blocks = signal.blocks
    if signal.frames > 4 * MP3_ENCODER_DELAY:
        blocks = _first(blocks, signal.frames - MP3_ENCODER_DELAY)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(fmt.bitrate_kbps or 128)
    encoder.set_in_sample_rate(fmt.sample_rate)
    encoder.set_out_sample_rate(fmt.sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(MP3_QUALITY)
    for block in _int16_blocks(blocks, channels):
        data = encoder.encode(block.tobytes())
        if data:
            yield bytes(data)
    yield bytes(encoder.flush())


def _wav_header(frames: int, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.setnframes(frames)
    header = buffer.getvalue()
    data_size = frames * 4
    return header[:4] + (36 + data_size).to_bytes(4, "little") + header[8:40] + data_size.to_bytes(4, "little")


def _with_av(signal: Signal, fmt: OutputFormat, channels: int) -> Iterator[bytes]:
    container_format, codec = _AV_ENCODERS[fmt.codec]
    layout = "stereo" if channels == 2 else "mono"
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format=container_format)
    stream = container.add_stream(codec, rate=fmt.sample_rate, layout=layout, options=_AV_OPTIONS.get(fmt.codec))
    if fmt.bitrate_kbps:
        stream.bit_rate = fmt.bitrate_kbps * 1000
    for block in _int16_blocks(signal.blocks, channels):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block).reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate = fmt.sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        yield from _drain(buffer)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    yield from _drain(buffer)


def _drain(buffer: io.BytesIO) -> Iterator[bytes]:
    """What the muxer wrote since the last drain, if anything (a block may fill no packet yet)."""
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    if data:
        yield data


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """``(n, channels)`` float32 at ``from_rate`` to stereo float32 at ``to_rate`` (FFmpeg's resampler)."""
    stereo = samples if samples.shape[1] == 2 else np.repeat(samples[:, :1], 2, axis=1)
    if from_rate == to_rate:
        return np.ascontiguousarray(stereo, dtype=np.float32)
    resampler = av.AudioResampler(format="flt", layout="stereo", rate=to_rate)
    blocks = []
    for i in range(0, len(stereo), CHUNK_FRAMES):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(stereo[i : i + CHUNK_FRAMES], dtype=np.float32).reshape(1, -1),
            format="flt",
            layout="stereo",
        )
        frame.sample_rate = from_rate
        blocks += [f.to_ndarray().reshape(-1, 2) for f in resampler.resample(frame)]
    blocks += [f.to_ndarray().reshape(-1, 2) for f in resampler.resample(None)]
    return np.concatenate(blocks).astype(np.float32) if blocks else np.zeros((0, 2), np.float32)


def transcode(data: bytes, source: OutputFormat, target: OutputFormat) -> bytes:
    """Decode ``data`` (in ``source``), resample, and encode as ``target``."""
    samples, rate = decode(data, source)
    return b"".join(encode(resample(samples, rate, target.sample_rate), target))


class CodecTranscoder:
    """Implements :class:`songy.ports.audio.Transcoder` with :func:`transcode`, off the event loop."""

    async def transcode(self, data: bytes, source: OutputFormat, target: OutputFormat) -> bytes:
        return await asyncio.to_thread(transcode, data, source, target)


def decode(data: bytes, fmt: OutputFormat) -> tuple[np.ndarray, int]:
    """Decode bytes of ``fmt`` to ``(float32 (n, channels), sample_rate)``."""
    if fmt.codec is Codec.PCM:
        return (np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0)[:, None], fmt.sample_rate
    probe = {Codec.ULAW: "mulaw", Codec.ALAW: "alaw"}.get(fmt.codec)
    options = {"sample_rate": str(fmt.sample_rate), "ch_layout": "mono"} if probe else {}
    with av.open(io.BytesIO(data), "r", format=probe, options=options) as container:
        stream = container.streams.audio[0]
        blocks = []
        for frame in container.decode(stream):
            array = frame.to_ndarray()
            if array.dtype == np.int16:
                array = array.astype(np.float32) / 32768.0
            array = array.T if frame.format.is_planar else array.reshape(-1, len(frame.layout.channels))
            blocks.append(array.astype(np.float32))
        rate = stream.rate
    return (np.concatenate(blocks) if blocks else np.zeros((0, 1), np.float32)), rate
