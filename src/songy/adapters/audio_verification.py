"""The check of a stored track before it may complete: the object is read back from the blob store into a
temporary file, decoded with PyAV off the event loop (counting samples, holding none), and compared with what was
asked: not empty, the asked container and codec, sample rate, MP3 bitrate in every frame header, and length.

What each codec allows for the length, measured over every residue of the length modulo the frame size
(``test_decoded_length_is_the_asked_length_as_each_codec_allows`` in tests/audio/test_formats.py pins it):

- ``pcm_*``, ``ulaw_8000``, ``alaw_8000``, ``wav_*``: exact (raw samples, nothing added).
- ``opus_48000_*``: exact: Ogg Opus carries its pre-skip and the granule position of the last page, which the
  decoder uses to drop the encoder's look-ahead and the padding of the last 20 ms packet.
- ``mp3_*`` from a generator whose tolerance is ``gapless`` (the synthesizer, and everything Songy encodes): exact.
  The first frame is LAME's "Info" tag with the encoder delay and end padding, which the decoder drops.
- other ``mp3_*`` (a provider's, which may have no such header): MP3 stores whole frames (1152 samples for MPEG-1
  at 32-48 kHz, 576 for MPEG-2 at 16-24 kHz) and, without a gapless header, the decoder returns every sample of
  them: up to one frame plus LAME's 48-sample MDCT delay longer is allowed (< 28 ms at 44.1 kHz).

A generator's :class:`~songy.ports.audio.OutputTolerance` widens that range both ways (a provider's), and says
whether a failed check is worth another attempt: never for a deterministic generator (the synthesizer would
encode the same bytes again); for a provider, an undecodable, empty or wrong-length stream is (a stream cut or
corrupted on the way), a wrong container, codec, rate or bitrate is not (the next call would answer the same).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field

import av

from songy.domain.formats import Codec, OutputFormat
from songy.ports.audio import AudioCheckFailed, AudioSpec, OutputTolerance
from songy.ports.blobs import BlobStore

# Layer III bitrates (kbps) by the header's 4-bit index (ISO/IEC 11172-3 and 13818-3); index 0 is "free format".
_MPEG1_LAYER3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_LAYER3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
MP3_MDCT_DELAY = 48  # LAME's MDCT delay past the 1105 samples of start delay, in an MP3 without a gapless header
# (probed container, decoder names) of the formats that carry a header
_CONTAINERS: dict[Codec, tuple[str, frozenset[str]]] = {
    Codec.MP3: ("mp3", frozenset({"mp3", "mp3float"})),
    Codec.OPUS: ("ogg", frozenset({"opus", "libopus"})),
    Codec.WAV: ("wav", frozenset({"pcm_s16le"})),
}
# the demuxer of each raw format: it has no header, so the rate and layout are given, not read
_RAW = {Codec.PCM: "s16le", Codec.ULAW: "mulaw", Codec.ALAW: "alaw"}
# containers that, probed in what should be raw samples, mean the provider sent a file instead of samples
_NOT_RAW = frozenset({"wav", "ogg", "mp3", "flac", "aac", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})
WAV_CHANNELS = 2


@dataclass
class Decoded:
    """What one decoding pass of a stored object found."""

    size: int
    samples: int = 0
    mp3_kbps: set[int | None] = field(default_factory=set)


class DecodingAudioVerifier:
    """Implements :class:`songy.ports.audio.StoredAudioVerifier` over a :class:`BlobStore`."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    async def verify(self, key: str, spec: AudioSpec, tolerance: OutputTolerance) -> None:
        suffix = "." + spec.output_format.extension
        with tempfile.NamedTemporaryFile(prefix="songy-verify-", suffix=suffix) as spool:
            await self._blobs.read_into(key, spool)
            spool.flush()
            await asyncio.to_thread(check_file, spool.name, spec, tolerance)


class _Mismatch(Exception):
    def __init__(self, check: str, detail: str) -> None:
        super().__init__(detail)
        self.check = check
        self.detail = detail


def check_file(path: str, spec: AudioSpec, tolerance: OutputTolerance) -> Decoded:
    """Decode the file at ``path``; raise :class:`AudioCheckFailed` naming the first check it fails."""
    try:
        decoded = _decode(path, spec.output_format)
        _compare(decoded, spec, tolerance)
    except _Mismatch as mismatch:
        retry = not tolerance.deterministic and mismatch.check in ("decode", "empty", "length")
        raise AudioCheckFailed(mismatch.check, mismatch.detail, transient=retry) from None
    return decoded


def allowed_samples(spec: AudioSpec, tolerance: OutputTolerance) -> tuple[int, int]:
    """The decoded lengths (in samples at the format's rate) that pass for ``spec``."""
    rate = spec.output_format.sample_rate
    asked = round(spec.length_ms * rate / 1000)
    slack = round(tolerance.length.total_seconds() * rate)
    return max(asked - slack, 1), asked + codec_padding(spec.output_format, tolerance) + slack


def codec_padding(fmt: OutputFormat, tolerance: OutputTolerance) -> int:
    """How many samples past the asked length the codec itself may decode (see the module's docstring)."""
    if fmt.codec is not Codec.MP3 or tolerance.gapless:
        return 0
    frame = 1152 if fmt.sample_rate >= 32000 else 576
    return frame + MP3_MDCT_DELAY


def _decode(path: str, fmt: OutputFormat) -> Decoded:
    decoded = Decoded(os.path.getsize(path))
    if decoded.size == 0:
        raise _Mismatch("empty", "the stored object has 0 bytes")
    try:
        if fmt.codec in _RAW:
            _decode_raw(path, fmt, decoded)
        else:
            _decode_container(path, fmt, decoded)
    except av.FFmpegError as exc:
        reason = exc.strerror or type(exc).__name__  # not str(exc): it names the temporary file
        raise _Mismatch("decode", f"{decoded.size} bytes do not decode as {fmt.name}: {reason}") from exc
    return decoded


def _compare(decoded: Decoded, spec: AudioSpec, tolerance: OutputTolerance) -> None:
    fmt = spec.output_format
    if decoded.samples == 0:
        raise _Mismatch("empty", f"{decoded.size} bytes decode to no audio")
    if fmt.codec is Codec.MP3 and decoded.mp3_kbps != {fmt.bitrate_kbps}:
        found = ", ".join("unreadable" if k is None else f"{k} kbps" for k in sorted(decoded.mp3_kbps, key=str))
        raise _Mismatch("bitrate", f"MP3 frames at {found}; {fmt.name} is {fmt.bitrate_kbps} kbps in every frame")
    low, high = allowed_samples(spec, tolerance)
    if not low <= decoded.samples <= high:
        rate = fmt.sample_rate
        allowed = f"exactly {low}" if low == high else f"{low} to {high}"
        raise _Mismatch(
            "length",
            f"decoded {decoded.samples / rate:.3f} s ({decoded.samples} samples at {rate} Hz); asked "
            f"{spec.length_ms / 1000:.3f} s ({allowed} samples pass)",
        )


def _decode_raw(path: str, fmt: OutputFormat, decoded: Decoded) -> None:
    try:
        with av.open(path) as probed:
            found = probed.format.name
    except av.FFmpegError:
        found = None
    if found in _NOT_RAW:
        raise _Mismatch("format", f"{fmt.name} is raw samples without a header; the object is in the {found} container")
    if fmt.codec is Codec.PCM and decoded.size % 2:
        raise _Mismatch("format", f"{decoded.size} bytes are not whole 16-bit samples")
    options = {"sample_rate": str(fmt.sample_rate), "ch_layout": "mono"}
    with av.open(path, format=_RAW[fmt.codec], options=options) as container:
        stream = container.streams.audio[0]
        decoded.samples = sum(frame.samples for frame in container.decode(stream))


def _decode_container(path: str, fmt: OutputFormat, decoded: Decoded) -> None:
    expected, decoders = _CONTAINERS[fmt.codec]
    with av.open(path) as container:
        found = container.format.name
        if found != expected or not container.streams.audio:
            raise _Mismatch("format", f"{fmt.name} is audio in the {expected} container; the object is in {found}")
        stream = container.streams.audio[0]
        codec = stream.codec_context
        if codec.name not in decoders:
            raise _Mismatch("format", f"the audio is {codec.name}; {fmt.name} is {' or '.join(sorted(decoders))}")
        if fmt.codec is Codec.WAV and codec.channels != WAV_CHANNELS:
            raise _Mismatch("format", f"the WAV has {codec.channels} channel(s); {fmt.name} is 16-bit stereo")
        if codec.sample_rate != fmt.sample_rate:
            raise _Mismatch("sample rate", f"the audio is {codec.sample_rate} Hz; {fmt.name} is {fmt.sample_rate} Hz")
        for packet in container.demux(stream):
            if fmt.codec is Codec.MP3 and packet.size:
                decoded.mp3_kbps.add(mp3_frame_kbps(bytes(packet)[:4]))
            decoded.samples += sum(frame.samples for frame in packet.decode())


def mp3_frame_kbps(header: bytes) -> int | None:
    """The bitrate an MPEG audio Layer III frame header states, or ``None`` when ``header`` is not one."""
    if len(header) < 3 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0 or (header[1] >> 1) & 0b11 != 0b01:
        return None
    index = header[2] >> 4
    if index == 0b1111:
        return None
    mpeg1 = (header[1] >> 3) & 0b11 == 0b11
    return (_MPEG1_LAYER3_KBPS if mpeg1 else _MPEG2_LAYER3_KBPS)[index]
