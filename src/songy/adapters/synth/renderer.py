"""Rendering: notes become a stereo float32 signal of exactly the requested number of samples."""

from __future__ import annotations

import math

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
SOFT_KNEE = 0.6  # above this, peaks are bent smoothly toward 1.0
MASTER_PROBE_STRIDE = 7
MASTER_BLOCK = 1 << 16


def midi_hz(pitch: int) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


class Renderer:
    """Renders a composition at one sample rate; waveforms are cached per (voice, pitch, length)."""

    def __init__(self, sample_rate: int, brightness: float, seed: int) -> None:
        self.sr = sample_rate
        self.brightness = brightness
        self._noise = np.random.default_rng(seed).standard_normal(sample_rate).astype(np.float32)
        self._cache: dict[tuple[str, int, int], np.ndarray] = {}

    def render(self, composition: Composition, n_samples: int) -> np.ndarray:
        """A ``(n_samples, 2)`` float32 array, mixed, normalized, faded."""
        out = np.zeros((n_samples, 2), dtype=np.float32)
        for note in composition.notes:
            self._add(out, note)
        return self._master(out, composition)

    def _add(self, out: np.ndarray, note: Note) -> None:
        start = round(note.start * self.sr)
        if start >= len(out):
            return
        wave = self._wave(note)
        end = min(len(out), start + len(wave))
        gain, pan = MIX[note.voice]
        if note.voice == "drums":
            pan = DRUM_PAN[note.pitch]
        angle = (pan + 1.0) * math.pi / 4.0
        left, right = math.cos(angle) * gain * note.velocity, math.sin(angle) * gain * note.velocity
        segment = wave[: end - start]
        out[start:end, 0] += left * segment
        out[start:end, 1] += right * segment

    def _wave(self, note: Note) -> np.ndarray:
        n = max(16, int(note.duration * self.sr))
        key = (note.voice, note.pitch, n)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._synthesize(note.voice, note.pitch, n)
        return cached

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

    def _master(self, out: np.ndarray, composition: Composition) -> np.ndarray:
        """Level to ``TARGET_RMS``, soft-limit peaks above a knee, fade in and out; in place, without
        full-length temporaries (a 300 s stereo track is ~100 MiB of float32)."""
        probe = out[::MASTER_PROBE_STRIDE]  # loudness and DC measured on a strided view
        dc = probe.mean(axis=0, dtype=np.float64)
        rms = float(np.sqrt(np.mean(np.square(probe - dc, dtype=np.float64)))) if len(probe) else 0.0
        out -= dc.astype(np.float32)
        if rms > 1e-9:
            out *= np.float32(TARGET_RMS / rms)
        for block in range(0, len(out), MASTER_BLOCK):
            view = out[block : block + MASTER_BLOCK]
            loud = np.abs(view) > SOFT_KNEE
            if loud.any():
                over = view[loud]
                view[loud] = np.sign(over) * (
                    SOFT_KNEE + (1 - SOFT_KNEE) * np.tanh((np.abs(over) - SOFT_KNEE) / (1 - SOFT_KNEE))
                )
        peak = max(float(out.max(initial=0.0)), -float(out.min(initial=0.0)))
        if peak > PEAK_CEILING:
            out *= np.float32(PEAK_CEILING / peak)
        n = len(out)
        fade_in = min(n // 4, int(0.02 * self.sr))
        fade_out = min(n // 4, int(min(2.0, composition.length_s * 0.1) * self.sr))
        if fade_in:
            out[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)[:, None]
        if fade_out:
            out[n - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)[:, None]
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
