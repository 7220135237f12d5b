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


# Krumhansl-Kessler key profiles (C major, C minor), as used by the Krumhansl-Schmuckler key-finding algorithm
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def chroma(samples: np.ndarray, rate: int, low: float = 55.0, high: float = 2000.0) -> np.ndarray:
    """The energy of each pitch class (C = 0) from ``low`` to ``high`` Hz, from 4096-sample frames, normalised to
    sum 1."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    size, hop = 4096, 2048
    freqs = np.fft.rfftfreq(size, 1 / rate)
    band = (freqs >= low) & (freqs <= high)
    classes = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    window = np.hanning(size)
    energy = np.zeros(12)
    for start in range(0, max(1, len(mono) - size + 1), hop):
        frame = mono[start : start + size]
        if len(frame) < size:
            frame = np.pad(frame, (0, size - len(frame)))
        spectrum = np.abs(np.fft.rfft(frame * window))[band] ** 2
        energy += np.bincount(classes, weights=spectrum, minlength=12)
    total = energy.sum()
    return energy / total if total > 0 else energy


def estimate_key(samples: np.ndarray, rate: int) -> tuple[int, bool]:
    """(tonic pitch class, minor) whose key profile correlates best with the chroma of the whole signal."""
    profile = chroma(samples, rate)
    best = max(
        ((tonic, minor) for tonic in range(12) for minor in (False, True)),
        key=lambda k: np.corrcoef(profile, np.roll(MINOR_PROFILE if k[1] else MAJOR_PROFILE, k[0]))[0, 1],
    )
    return best


def relative_key(tonic: int, minor: bool) -> tuple[int, bool]:
    return ((tonic + 3) % 12, False) if minor else ((tonic + 9) % 12, True)


def strongest_triad(profile: np.ndarray) -> tuple[int, bool]:
    """(root, minor) of the major or minor triad whose three pitch classes hold the most of ``profile``."""
    return max(
        ((root, minor) for root in range(12) for minor in (False, True)),
        key=lambda k: profile[k[0]] + profile[(k[0] + (3 if k[1] else 4)) % 12] + profile[(k[0] + 7) % 12],
    )


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def side_to_mid_db(samples: np.ndarray) -> float:
    """Energy of the side channel (L - R) over the mid (L + R), in dB: -inf for mono."""
    mid, side = samples[:, 0] + samples[:, 1], samples[:, 0] - samples[:, 1]
    return 10 * np.log10(
        max(float(np.square(side, dtype=np.float64).sum()), 1e-20) / float(np.square(mid, dtype=np.float64).sum())
    )


def channel_correlation(samples: np.ndarray) -> float:
    return float(np.corrcoef(samples[:, 0], samples[:, 1])[0, 1])


def low_share(samples: np.ndarray, rate: int, cutoff: float = 250.0) -> float:
    """The share of the energy below ``cutoff`` Hz."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    return float(power[freqs < cutoff].sum() / power.sum())
