"""Rendering: notes become a stereo float32 signal of exactly the requested number of samples, block by block."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from songy.adapters.synth.composer import HAT, KICK, OPEN_HAT, SNARE, Composition, Note

# voice -> (gain, pan in -1..1)
MIX = {
    "drums": (0.9, 0.0),
    "bass": (0.8, 0.0),
    "piano": (0.45, -0.2),
    "synth": (0.35, 0.15),
    "pad": (0.22, 0.0),
    "strings": (0.25, -0.35),
    "organ": (0.2, 0.25),
    "guitar": (0.3, 0.35),
    "bells": (0.25, 0.45),
}
DRUM_PAN = {KICK: 0.0, SNARE: 0.05, HAT: 0.3, OPEN_HAT: 0.3}
TARGET_RMS = 0.12  # about -18.4 dBFS
PEAK_CEILING = 0.89  # about -1 dBFS
SOFT_KNEE = 0.6  # above this, peaks are bent smoothly toward PEAK_CEILING
MASTER_PROBE_STRIDE = 7
MASTER_BLOCK = 1 << 15


def midi_hz(pitch: int) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


class Renderer:
    """Renders a composition at one sample rate, block by block, in two passes over the notes.

    The first pass mixes only every ``MASTER_PROBE_STRIDE``-th sample to measure the DC offset and loudness; the
    second mixes each block of ``MASTER_BLOCK`` samples in full, masters it with that gain and hands it on. A track
    of any length therefore costs a few blocks of memory, not its whole float32 signal (~100 MiB for 300 s).
    Waveforms are synthesized once per (voice, pitch, length) and shared by every note that uses them.
    """

    def __init__(self, sample_rate: int, brightness: float, seed: int) -> None:
        self.sr = sample_rate
        self.brightness = brightness
        self._noise = np.random.default_rng(seed).standard_normal(sample_rate).astype(np.float32)
        self._waves: list[np.ndarray] = []
        self._wave_ids: dict[tuple[str, int, int], int] = {}

    def stream(self, composition: Composition, n_samples: int, block: int = MASTER_BLOCK) -> Iterator[np.ndarray]:
        """The mastered signal as consecutive ``(<= block, 2)`` float32 arrays, ``n_samples`` in all."""
        fade_in = min(n_samples // 4, int(0.02 * self.sr))
        fade_out = min(n_samples // 4, int(min(2.0, composition.length_s * 0.1) * self.sr))
        timeline = self._timeline(composition, n_samples)
        del composition  # the compact timeline is all that is kept while rendering
        dc, gain = _loudness(timeline.placed(), n_samples)
        for b0, b1, active in _windows(timeline.placed(), n_samples, block):
            yield _master(_mix(active, b0, b1), b0, n_samples, dc, gain, fade_in, fade_out)

    def _timeline(self, composition: Composition, n_samples: int) -> _Timeline:
        """The sounding notes as one array sorted by start sample, each pointing at its (shared) waveform."""
        rows = []
        for note in composition.notes:
            start = round(note.start * self.sr)
            if start >= n_samples:
                continue
            gain, pan = MIX[note.voice]
            if note.voice == "drums":
                pan = DRUM_PAN[note.pitch]
            angle = (pan + 1.0) * math.pi / 4.0
            level = gain * note.velocity
            rows.append((start, self._wave_id(note), math.cos(angle) * level, math.sin(angle) * level))
        notes = np.array(rows, dtype=_TIMELINE_ROW)
        notes.sort(order="start", kind="stable")
        return _Timeline(notes, self._waves, n_samples)

    def _wave_id(self, note: Note) -> int:
        n = 0 if note.voice == "drums" else max(16, int(note.duration * self.sr))  # a drum hit ignores length
        key = (note.voice, note.pitch, n)
        wave_id = self._wave_ids.get(key)
        if wave_id is None:
            wave_id = self._wave_ids[key] = len(self._waves)
            self._waves.append(self._synthesize(note.voice, note.pitch, n))
        return wave_id

    def _synthesize(self, voice: str, pitch: int, n: int) -> np.ndarray:
        if voice == "drums":
            return self._drum(pitch)
        tail = {"piano": 0.6, "pad": 0.5, "strings": 0.35, "guitar": 0.5, "bells": 1.2}.get(voice, 0.05)
        total = n + int(tail * self.sr)
        t = np.arange(total, dtype=np.float32) / self.sr
        f = midi_hz(pitch)
        nyquist = self.sr / 2
        harmonics = max(1, int(2 + 14 * self.brightness))

        def partials(amps: list[tuple[float, float]], decay: float = 0.0, detune: float = 0.0) -> np.ndarray:
            wave = np.zeros(total, dtype=np.float32)
            for ratio, amp in amps:
                freq = f * ratio * (1 + detune)
                if freq >= nyquist * 0.95:
                    continue
                env = np.exp(-t * decay * (1 + 0.5 * ratio)) if decay else 1.0
                wave += (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32) * env
            return wave

        if voice == "piano":
            slope = 2.5 - 1.5 * self.brightness  # brighter = flatter spectrum
            wave = partials([(k, 1 / k**slope) for k in range(1, harmonics + 1)], decay=0.6)
            env = _adsr(total, n, self.sr, 0.004, 0.0, 1.0, 0.25)
        elif voice == "guitar":
            slope = 1.8 - self.brightness
            wave = partials([(k, 1 / k**slope) for k in range(1, harmonics + 1)], decay=2.0)
            env = _adsr(total, n, self.sr, 0.002, 0.0, 1.0, 0.2)
        elif voice == "synth":
            wave = partials([(k, 1 / k) for k in range(1, harmonics + 1)])
            wave *= (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t)).astype(np.float32)
            env = _adsr(total, n, self.sr, 0.01, 0.12, 0.7, 0.05)
        elif voice in ("pad", "strings"):
            amps = [(k, 1 / k**1.2) for k in range(1, max(2, harmonics // 2) + 1)]
            wave = sum((partials(amps, detune=d) for d in (-0.004, 0.0, 0.004)), np.zeros(total, np.float32)) / 3
            attack = 0.35 if voice == "pad" else 0.12
            env = _adsr(total, n, self.sr, attack, 0.2, 0.85, tail)
        elif voice == "organ":
            wave = partials([(1, 1.0), (2, 0.6), (3, 0.4), (4, 0.25), (6, 0.15 * self.brightness), (8, 0.1)])
            env = _adsr(total, n, self.sr, 0.01, 0.0, 1.0, 0.05)
        elif voice == "bells":
            wave = partials([(1, 1.0), (2.76, 0.5), (5.4, 0.25), (8.93, 0.12)], decay=1.5)
            env = _adsr(total, n, self.sr, 0.002, 0.0, 1.0, tail)
        else:  # bass
            wave = partials([(1, 1.0), (2, 0.25 + 0.3 * self.brightness), (3, 0.1 + 0.15 * self.brightness)])
            env = _adsr(total, n, self.sr, 0.005, 0.15, 0.75, 0.04)
        return (wave * env).astype(np.float32)

    def _drum(self, kind: int) -> np.ndarray:
        sr = self.sr
        if kind == KICK:
            n = int(0.35 * sr)
            t = np.arange(n, dtype=np.float32) / sr
            freq = 45 + 110 * np.exp(-t * 30)
            phase = 2 * np.pi * np.cumsum(freq) / sr
            return (np.sin(phase) * np.exp(-t * 9)).astype(np.float32)
        if kind == SNARE:
            n = int(0.22 * sr)
            t = np.arange(n, dtype=np.float32) / sr
            noise = self._noise[:n] * np.exp(-t * 22) * 0.6
            tone = np.sin(2 * np.pi * 185 * t) * np.exp(-t * 30) * 0.5
            return (noise + tone).astype(np.float32)
        length = 0.25 if kind == OPEN_HAT else 0.06
        n = int(length * sr)
        t = np.arange(n, dtype=np.float32) / sr
        bright = np.diff(self._noise[: n + 1])  # a crude high-pass: hats are all top end
        level = 0.1 + 0.2 * self.brightness  # dark mixes keep the cymbals down
        return (bright * np.exp(-t * (12 if kind == OPEN_HAT else 70)) * level).astype(np.float32)


_TIMELINE_ROW = np.dtype([("start", np.int64), ("wave", np.int32), ("left", np.float32), ("right", np.float32)])
_TIMELINE_SLICE = 1024


@dataclass(frozen=True)
class _Timeline:
    """Every sounding note in 24 bytes (start sample, waveform id, channel gains), sorted by start: a 300 s
    track's thousands of notes cost ~200 KiB instead of a Python object each."""

    notes: np.ndarray
    waves: list[np.ndarray]
    n_samples: int

    def placed(self) -> Iterator[_Placed]:
        """The notes in order of start, made into :class:`_Placed` a slice at a time, as they are needed."""
        for i in range(0, len(self.notes), _TIMELINE_SLICE):
            part = self.notes[i : i + _TIMELINE_SLICE]
            columns = (part[name].tolist() for name in ("start", "wave", "left", "right"))
            for start, wave_id, left, right in zip(*columns, strict=True):
                wave = self.waves[wave_id]
                yield _Placed(start, min(self.n_samples, start + len(wave)), wave, left, right)


@dataclass(frozen=True, slots=True)
class _Placed:
    """A note placed on the timeline: its samples ``[start, end)``, waveform and per-channel gains."""

    start: int
    end: int
    wave: np.ndarray
    left: float
    right: float


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
    """Every ``stride``-th sample of ``[b0, b1)`` (``b0`` a multiple of ``stride``) of the notes sounding there,
    as ``(rows, 2)`` float32: the whole window with ``stride`` 1, the loudness probe with more."""
    out = np.zeros((-(-(b1 - b0) // stride), 2), dtype=np.float32)
    first = b0 // stride
    for p in active:
        hi = min(p.end, b1)
        k0, k1 = -(-max(p.start, b0) // stride), -(-hi // stride)
        if k1 > k0:
            segment = p.wave[k0 * stride - p.start : hi - p.start : stride]
            out[k0 - first : k1 - first, 0] += p.left * segment
            out[k0 - first : k1 - first, 1] += p.right * segment
    return out


def _loudness(placed: Iterable[_Placed], n: int) -> tuple[np.ndarray, np.float32]:
    """(DC offset per channel, gain to ``TARGET_RMS``), measured on every ``MASTER_PROBE_STRIDE``-th sample,
    mixed window by window and accumulated in float64."""
    stride = MASTER_PROBE_STRIDE
    total, squares, count = np.zeros(2), np.zeros(2), 0
    for b0, b1, active in _windows(placed, n, stride * MASTER_BLOCK):  # b0 is a multiple of the stride
        probe = _mix(active, b0, b1, stride)
        total += probe.sum(axis=0, dtype=np.float64)
        squares += np.square(probe, dtype=np.float64).sum(axis=0)
        count += len(probe)
    if not count:
        return np.zeros(2, np.float32), np.float32(1.0)
    dc = total / count
    rms = float(np.sqrt(max(0.0, float(np.mean(squares / count - dc**2)))))
    return dc.astype(np.float32), np.float32(TARGET_RMS / rms if rms > 1e-9 else 1.0)


def _master(
    out: np.ndarray, offset: int, n: int, dc: np.ndarray, gain: np.float32, fade_in: int, fade_out: int
) -> np.ndarray:
    """Master one block (samples ``[offset, offset + len(out))`` of ``n``) in place: remove DC, level, bend peaks
    above ``SOFT_KNEE`` smoothly toward ``PEAK_CEILING`` (never past it), fade in and out."""
    out -= dc
    out *= gain
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
        out[first - offset :] *= (1 - j / max(1, fade_out - 1))[:, None]
    return out


def _adsr(total: int, held: int, sr: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    """An envelope of ``total`` samples: attack/decay/sustain while ``held``, then release to zero."""
    env = np.full(total, sustain, dtype=np.float32)
    a = max(1, min(held, int(attack * sr)))
    env[:a] = np.linspace(0, 1, a, dtype=np.float32)
    d = min(held - a, int(decay * sr))
    if d > 0:
        env[a : a + d] = np.linspace(1, sustain, d, dtype=np.float32)
    elif decay == 0:
        env[a:held] = 1.0 if sustain == 1.0 else sustain
    level = float(env[held - 1]) if held > 0 else 0.0
    r = total - held
    if r > 0:
        env[held:] = level * np.linspace(1, 0, r, dtype=np.float32) ** 2
    return env
