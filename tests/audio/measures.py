"""Measurements of decoded audio used by the synthesizer and format tests."""

from __future__ import annotations

import numpy as np


def dbfs(value: float) -> float:
    return 20 * np.log10(max(value, 1e-12))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def quietest_second_dbfs(samples: np.ndarray, rate: int) -> float:
    """RMS level of the quietest whole second (the last partial second counts if it is at least 0.5 s)."""
    levels = []
    for start in range(0, len(samples), rate):
        window = samples[start : start + rate]
        if len(window) >= rate // 2:
            levels.append(dbfs(rms(window)))
    return min(levels)


def onset_envelope(samples: np.ndarray, rate: int, hop_s: float = 0.01) -> np.ndarray:
    """Positive change of energy per hop, relative to the mean energy: high where notes and hits start."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    hop = int(rate * hop_s)
    frames = len(mono) // hop
    energy = np.square(mono[: frames * hop].astype(np.float64)).reshape(frames, hop).sum(axis=1)
    return np.maximum(np.diff(energy), 0.0) / max(float(energy.mean()), 1e-12)


def estimate_bpm(samples: np.ndarray, rate: int, low: float = 50, high: float = 200) -> float:
    """The beat tempo from the autocorrelation of the onset envelope, folded into [low, high)."""
    envelope = onset_envelope(samples, rate)
    envelope = envelope - envelope.mean()
    correlation = np.correlate(envelope, envelope, mode="full")[len(envelope) - 1 :]
    hop_s = 0.01
    lags = np.arange(len(correlation))
    valid = (lags >= int(60 / high / hop_s)) & (lags <= int(60 / low / hop_s))
    best_lag = int(lags[valid][np.argmax(correlation[valid])])
    bpm = 60.0 / (best_lag * hop_s)
    while bpm < low:
        bpm *= 2
    while bpm >= high:
        bpm /= 2
    return bpm


def onsets_per_second(samples: np.ndarray, rate: int, threshold: float = 1.0) -> float:
    """How many onsets (local peaks of the envelope with a jump of ``threshold`` x the mean energy) per second."""
    envelope = onset_envelope(samples, rate)
    peaks = (envelope[1:-1] > threshold) & (envelope[1:-1] >= envelope[:-2]) & (envelope[1:-1] > envelope[2:])
    return float(peaks.sum()) / (len(samples) / rate)


def spectral_centroid(samples: np.ndarray, rate: int) -> float:
    """The brightness of the sound, in Hz."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    spectrum = np.abs(np.fft.rfft(mono))
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    return float((spectrum * freqs).sum() / max(spectrum.sum(), 1e-12))
