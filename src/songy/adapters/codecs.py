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
# LAME starts its output 576 samples late (plus the decoder's 529) and pads the last frame; lameenc cannot write
# LAME's own tag, so :func:`mp3_info_frame` writes it (the "Info" frame of the LAME/Xing header) before the audio:
# decoders that read it (FFmpeg, and so PyAV, foobar2000, iTunes, Rockbox, ...) drop the delay and the padding,
# and the decoded track is the encoded samples exactly.
LAME_ENCODER_DELAY = 576
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


def _mp3(signal: Signal, fmt: OutputFormat, channels: int) -> Iterator[bytes]:
    if not signal.frames:
        return
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(fmt.bitrate_kbps or 128)
    encoder.set_in_sample_rate(fmt.sample_rate)
    encoder.set_out_sample_rate(fmt.sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(MP3_QUALITY)
    yield mp3_info_frame(fmt, channels, signal.frames)
    for block in _int16_blocks(signal.blocks, channels):
        data = encoder.encode(block.tobytes())
        if data:
            yield bytes(data)
    yield bytes(encoder.flush())


def mp3_samples_per_frame(sample_rate: int) -> int:
    """Layer III: 1152 samples a frame for MPEG-1 (32-48 kHz), 576 for MPEG-2 (16-24 kHz)."""
    return 1152 if sample_rate >= 32000 else 576


def lame_frames(samples: int, sample_rate: int) -> tuple[int, int]:
    """(audio frames, end padding in samples) LAME 3.100 writes for ``samples`` samples: its flush pads the
    delayed signal to whole frames, and by at least 576 samples (``lame_encode_flush``)."""
    spf = mp3_samples_per_frame(sample_rate)
    encoded = samples + LAME_ENCODER_DELAY
    padding = spf - encoded % spf
    if padding < 576:
        padding += spf
    return (encoded + padding) // spf, padding


# sample rate -> (MPEG version bits, sample rate index)
_MP3_RATES = {44100: (3, 0), 48000: (3, 1), 32000: (3, 2), 22050: (2, 0), 24000: (2, 1), 16000: (2, 2)}
_MP3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def mp3_info_frame(fmt: OutputFormat, channels: int, samples: int) -> bytes:
    """The first frame of a gapless CBR MP3: a silent Layer III frame at the stream's bitrate and rate holding the
    Xing "Info" tag (the number of audio frames that follow) and LAME's extension (encoder delay and padding), as
    LAME writes it (the "mp3 info tag" specification). The frame is all zeros past the tag: a decoder that does not
    read the tag plays it as one frame of silence."""
    version, rate_index = _MP3_RATES[fmt.sample_rate]
    kbps = fmt.bitrate_kbps or 128
    bitrate_index = _MP3_KBPS[version].index(kbps)
    mpeg1 = version == 3
    size = (144_000 if mpeg1 else 72_000) * kbps // fmt.sample_rate
    mode = 0b11 if channels == 1 else 0b01  # mono, or joint stereo as LAME encodes it
    # sync, version, Layer III, no CRC | bitrate, rate, no padding | channel mode, "original"
    header = bytes((0xFF, 0xE0 | version << 3 | 0b011, bitrate_index << 4 | rate_index << 2, mode << 6 | 0b0100))
    side_info = (32 if channels == 2 else 17) if mpeg1 else (17 if channels == 2 else 9)
    frames, padding = lame_frames(samples, fmt.sample_rate)
    tag = b"Info" + (1).to_bytes(4, "big") + frames.to_bytes(4, "big")  # flags: the frame count only
    lame = bytearray(36)
    lame[0:9] = b"LAME3.100"
    lame[20] = min(kbps, 255)  # CBR: the bitrate
    lame[21:24] = (LAME_ENCODER_DELAY << 12 | padding).to_bytes(3, "big")
    frame = bytearray(size)
    frame[:4] = header
    body = tag + bytes(lame)
    frame[4 + side_info : 4 + side_info + len(body)] = body  # no ReplayGain, so no tag CRC either
    return bytes(frame)


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
