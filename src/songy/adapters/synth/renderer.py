"""Rendering: notes become a stereo float32 signal of exactly the requested number of samples, chunk by chunk.

Each note is a General MIDI SoundFont voice (:mod:`songy.adapters.synth.soundfont`), placed in the stereo field
by its part, with a send to a stereo convolution reverb; guitars are distorted where the genre calls for it; the
master is levelled, compressed and its peaks bent under -1 dBFS (:mod:`songy.adapters.synth.effects`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from songy.adapters.synth import effects
from songy.adapters.synth.composer import CRASH, HAT, KICK, OPEN_HAT, PEDAL_HAT, RIDE, SHAKER, TOMS, Composition, Note
from songy.adapters.synth.soundfont import DRUM_BANK, SoundFont, velocity_gain

# role -> (gain, pan in -1..1, reverb send): bass and kick in the middle, the rest spread across
MIX = {
    "drums": (0.85, 0.0, 0.10),
    "bass": (0.62, 0.0, 0.03),
    "chords": (0.62, -0.6, 0.30),
    "pad": (0.42, 0.0, 0.55),
    "lead": (0.62, 0.45, 0.30),
}
DRUM_PAN = {HAT: 0.4, PEDAL_HAT: 0.4, OPEN_HAT: 0.45, RIDE: -0.45, CRASH: -0.35, SHAKER: 0.5}
DRUM_GAIN = {KICK: 0.62}
PROGRAM_GAIN = {38: 0.5, 39: 0.5, 34: 1.5, 30: 0.8, 81: 1.2, 45: 1.8}  # synth basses are heavy, the picked bass light
DRUM_PAN.update({tom: -0.5 + k * 0.2 for k, tom in enumerate(TOMS)})
PAD_SPREAD_S = 0.013  # the pad is doubled, its right copy this much later: a wide image (Haas)
TARGET_RMS = 0.12  # about -18.4 dBFS before compression
PEAK_CEILING = 0.89  # about -1 dBFS
SOFT_KNEE = 0.6  # above this, peaks are bent smoothly toward PEAK_CEILING
CHUNK = 16384  # the unit of rendering: the reverb's partition and a multiple of the compressor's hop
PROBE_STRIDE = 16
WAVE_CACHE_BYTES = 3 << 20  # rendered notes kept for reuse (the least recently used go first)


class Renderer:
    """Renders a composition at one sample rate, in two passes over the notes.

    The first pass mixes only every ``PROBE_STRIDE``-th sample (of notes rendered at that stride) to measure the
    DC offset and loudness of the dry mix and of the reverb send; the second mixes each ``CHUNK`` of samples in
    full, runs the reverb and the master (gain, compressor, peak bend, fades) and hands it on. A track of any
    length therefore costs a few chunks, the note timeline (28 bytes a note), the reverb's history and a bounded
    cache of rendered notes, never its whole signal. The output does not depend on the block size asked for.
    """

    def __init__(self, sample_rate: int, font: SoundFont, seed: int) -> None:
        self.sr = sample_rate
        self.font = font
        self.seed = seed
        self._keys: list[tuple[object, ...]] = []
        self._ids: dict[tuple[object, ...], int] = {}

    def stream(self, composition: Composition, n_samples: int, block: int = 32768) -> Iterator[np.ndarray]:
        """The mastered signal as consecutive ``(<= block, 2)`` float32 arrays, ``n_samples`` in all."""
        style, length_s = composition.style, composition.length_s
        timeline = self._timeline(composition, n_samples)
        del composition  # the compact timeline is all that is kept while rendering
        wet_gain = 0.55 * style.reverb
        dc, gain = self._loudness(timeline, n_samples, wet_gain)
        reverb = effects.Reverb(effects.room(self.sr, 0.8 + 2.2 * style.reverb, self.seed), CHUNK)
        tone = effects.Tone(self.sr, style.tone)
        compressor = effects.Compressor(self.sr, TARGET_RMS * 1.6, 3.0, 0.01, 0.2, hop=CHUNK // 32)
        fade_in = min(n_samples // 4, int(0.02 * self.sr))
        fade_out = min(n_samples // 4, int(min(1.5, length_s * 0.08) * self.sr))
        cache = _WaveCache(self, 1, WAVE_CACHE_BYTES)
        pending = np.zeros((0, 2), np.float32)
        for c0, c1, active in _windows(timeline.placed(cache), n_samples, CHUNK):
            mixed = _mix(active, c0, c1)
            out = tone.process(mixed[:, :2] + wet_gain * reverb.process(mixed[:, 2])[: c1 - c0])
            out -= dc
            out *= gain
            compressor.process(out)
            _finish(out, c0, n_samples, fade_in, fade_out)
            pending = np.concatenate([pending, out]) if len(pending) else out
            while len(pending) >= block:
                yield pending[:block]
                pending = pending[block:]
        if len(pending):
            yield pending

    def _timeline(self, composition: Composition, n_samples: int) -> _Timeline:
        """The sounding notes as one array sorted by start sample, each pointing at its (shared) waveform key."""
        style = composition.style
        programs = {p.role: p.voice.program for p in style.parts}
        rows: list[tuple[int, int, float, float, float]] = []
        groups: dict[tuple[int, str, int], list[Note]] = {}
        for note in composition.notes:
            start = round(note.start * self.sr)
            if start >= n_samples or note.role not in programs:
                continue
            if note.role == "chords" and style.distortion > 0:  # a chord is distorted as one sound
                groups.setdefault((start, note.role, round(note.duration * self.sr)), []).append(note)
                continue
            self._place(rows, start, note.role, programs[note.role], (note.pitch,), note, 0.0, style.low)
        for (start, role, _), notes in groups.items():
            pitches = tuple(sorted(n.pitch for n in notes))
            self._place(rows, start, role, programs[role], pitches, notes[0], style.distortion)
        table = np.array(rows, dtype=_ROW)
        table.sort(order="start", kind="stable")
        return _Timeline.of(table, n_samples)

    def _place(self, rows: list, start: int, role: str, program: int, pitches: tuple[int, ...], note: Note,
               distortion: float, low: float = 1.0) -> None:  # fmt: skip
        gain, pan, send = MIX[role]
        if role == "bass" or (role == "drums" and note.pitch == KICK):
            gain *= low
        if role == "drums":
            pan = DRUM_PAN.get(note.pitch, 0.0)
            gain *= DRUM_GAIN.get(note.pitch, 1.0)
        else:
            gain *= PROGRAM_GAIN.get(program, 1.0)
        held = max(16, round(note.duration * self.sr))
        bank = DRUM_BANK if role == "drums" else 0
        layer = min(127, 32 * (note.velocity // 32) + 31)  # the velocity layer picks the samples; the gain is exact
        key = (bank, program, pitches, layer, 0 if role == "drums" else held, distortion)
        gain *= velocity_gain(note.velocity)
        wave = self._ids.get(key)
        if wave is None:
            wave = self._ids[key] = len(self._keys)
            self._keys.append(key)
        if role == "pad":
            rows.append((start, wave, gain, 0.0, send))
            rows.append((start + round(PAD_SPREAD_S * self.sr), wave, 0.0, gain, 0.0))
            return
        angle = (pan + 1.0) * math.pi / 4.0
        rows.append((start, wave, math.cos(angle) * gain * math.sqrt(2), math.sin(angle) * gain * math.sqrt(2), send))

    def synthesize(self, wave_id: int, stride: int) -> np.ndarray:
        """Every ``stride``-th sample of the waveform of ``wave_id`` (mono float32)."""
        bank, program, pitches, velocity, held, distortion = self._keys[wave_id]
        parts = [self.font.render(bank, program, p, velocity, held, self.sr, stride) for p in pitches]  # type: ignore[arg-type]
        length = max((len(p) for p in parts), default=0)
        wave = np.zeros(length, np.float32)
        for p in parts:
            wave[: len(p)] += p
        if distortion:
            wave = effects.distort(wave, float(distortion), self.sr // stride)  # type: ignore[arg-type]
        return wave

    def _loudness(self, timeline: _Timeline, n: int, wet_gain: float) -> tuple[np.ndarray, np.float32]:
        """(DC offset per channel, gain to ``TARGET_RMS``), from every ``PROBE_STRIDE``-th sample of the dry mix;
        the reverb (unit-energy impulse response) adds the send's power times ``wet_gain`` squared."""
        stride = PROBE_STRIDE
        total, squares, send_power, count = np.zeros(2), np.zeros(2), 0.0, 0
        cache = _WaveCache(self, stride, WAVE_CACHE_BYTES // 4)
        for b0, b1, active in _windows(timeline.placed(cache), n, stride * CHUNK * 4):
            probe = _mix(active, b0, b1, stride)
            total += probe[:, :2].sum(axis=0, dtype=np.float64)
            squares += np.square(probe[:, :2], dtype=np.float64).sum(axis=0)
            send_power += float(np.square(probe[:, 2], dtype=np.float64).sum())
            count += len(probe)
        if not count:
            return np.zeros(2, np.float32), np.float32(1.0)
        dc = total / count
        power = float(np.mean(squares / count - dc**2)) + wet_gain**2 * send_power / count
        rms = math.sqrt(max(0.0, power))
        return dc.astype(np.float32), np.float32(TARGET_RMS / rms if rms > 1e-9 else 1.0)


_ROW = np.dtype(
    [("start", np.int64), ("wave", np.int32), ("left", np.float32), ("right", np.float32), ("send", np.float32)]
)
_TIMELINE_SLICE = 1024


class _WaveCache:
    """Rendered waveforms by id, at one stride, within ``budget`` bytes. The timeline knows when each waveform is
    next used, so past the budget the one needed again last (or never) is dropped: the fewest re-renders for the
    memory (Belady's rule). A sounding note keeps its array alive until it ends, whatever the cache drops."""

    def __init__(self, renderer: Renderer, stride: int, budget: int) -> None:
        self.renderer = renderer
        self.stride = stride
        self.budget = budget
        self.size = 0
        self.waves: dict[int, np.ndarray] = {}
        self.next_use: dict[int, int] = {}

    def get(self, wave_id: int, next_use: int) -> np.ndarray:
        """The waveform of ``wave_id``, which the timeline will ask for again at row ``next_use``."""
        wave = self.waves.get(wave_id)
        if wave is None:
            wave = self.renderer.synthesize(wave_id, self.stride)
            self.waves[wave_id] = wave
            self.size += wave.nbytes
        self.next_use[wave_id] = next_use
        while self.size > self.budget and len(self.waves) > 1:
            farthest = max(self.next_use, key=self.next_use.__getitem__)
            self.size -= self.waves.pop(farthest).nbytes
            del self.next_use[farthest]
        return wave


@dataclass(frozen=True)
class _Timeline:
    """Every sounding note in 28 bytes (start sample, waveform id, channel gains, reverb send), sorted by start,
    and for each the row where its waveform is used next."""

    notes: np.ndarray
    n_samples: int
    next_use: np.ndarray

    @classmethod
    def of(cls, notes: np.ndarray, n_samples: int) -> _Timeline:
        rows = np.arange(len(notes))
        order = np.lexsort((rows, notes["wave"]))  # by waveform, then by row
        following = np.full(len(notes), np.iinfo(np.int64).max, np.int64)
        same = notes["wave"][order[1:]] == notes["wave"][order[:-1]]
        following[order[:-1][same]] = order[1:][same]
        return cls(notes, n_samples, following)

    def placed(self, cache: _WaveCache) -> Iterator[_Placed]:
        """The notes in order of start, with their waveforms (rendered or reused as they are needed)."""
        stride = cache.stride
        for i in range(0, len(self.notes), _TIMELINE_SLICE):
            part = self.notes[i : i + _TIMELINE_SLICE]
            columns = (part[name].tolist() for name in ("start", "wave", "left", "right", "send"))
            rows = zip(*columns, self.next_use[i : i + _TIMELINE_SLICE].tolist(), strict=True)
            for start, wave_id, left, right, send, next_use in rows:
                wave = cache.get(wave_id, next_use)
                yield _Placed(start, min(self.n_samples, start + len(wave) * stride), wave, left, right, send)


@dataclass(frozen=True, slots=True)
class _Placed:
    """A note placed on the timeline: its samples ``[start, end)``, waveform, channel gains and reverb send."""

    start: int
    end: int
    wave: np.ndarray
    left: float
    right: float
    send: float


def _windows(placed: Iterable[_Placed], n: int, block: int) -> Iterator[tuple[int, int, list[_Placed]]]:
    """``(start, end, notes sounding in [start, end))`` for consecutive windows of ``block`` samples; ``placed``
    must come in order of start."""
    active: list[_Placed] = []
    upcoming = iter(placed)
    pending = next(upcoming, None)
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        while pending is not None and pending.start < b1:
            active.append(pending)
            pending = next(upcoming, None)
        yield b0, b1, active
        active = [p for p in active if p.end > b1]


def _mix(active: list[_Placed], b0: int, b1: int, stride: int = 1) -> np.ndarray:
    """Every ``stride``-th sample of ``[b0, b1)`` (``b0`` a multiple of ``stride``) of the notes sounding there, as
    ``(rows, 3)`` float32: left, right and the reverb send. Waves are at the same stride as the mix."""
    out = np.zeros((-(-(b1 - b0) // stride), 3), dtype=np.float32)
    first = b0 // stride
    for p in active:
        hi = min(p.end, b1)
        k0, k1 = -(-max(p.start, b0) // stride), -(-hi // stride)
        if k1 <= k0:
            continue
        offset = -(-p.start // stride)  # the wave's first sample sits at the first stride point at or after start
        segment = p.wave[k0 - offset : k1 - offset]
        rows = slice(k0 - first, k0 - first + len(segment))
        out[rows, 0] += p.left * segment
        out[rows, 1] += p.right * segment
        if p.send:
            out[rows, 2] += p.send * segment
    return out


def _finish(out: np.ndarray, offset: int, n: int, fade_in: int, fade_out: int) -> np.ndarray:
    """Bend peaks above ``SOFT_KNEE`` smoothly toward ``PEAK_CEILING`` (never past it) and fade in and out, in
    place, on samples ``[offset, offset + len(out))`` of ``n``."""
    loud = np.abs(out) > SOFT_KNEE
    if loud.any():
        over = out[loud]
        span = PEAK_CEILING - SOFT_KNEE
        out[loud] = np.sign(over) * (SOFT_KNEE + span * np.tanh((np.abs(over) - SOFT_KNEE) / span))
    end = offset + len(out)
    if offset < fade_in:
        i = np.arange(offset, min(end, fade_in), dtype=np.float32)
        out[: len(i)] *= (i / max(1, fade_in - 1))[:, None]
    if end > n - fade_out:
        first = max(offset, n - fade_out)
        j = np.arange(first - (n - fade_out), end - (n - fade_out), dtype=np.float32)
        out[first - offset :] *= np.square(1 - j / max(1, fade_out - 1))[:, None]
    return out
