"""The effects of the mix, each streaming (state carried from one chunk to the next, so a track of any length costs
the same memory and the output does not depend on how it is cut): a stereo convolution reverb, a compressor and a
guitar distortion. The filters are scipy's; the reverb is a uniformly partitioned convolution with scipy's FFT."""

from __future__ import annotations

import math

import numpy as np
from scipy import fft
from scipy import signal as dsp


def room(rate: int, seconds: float, seed: int) -> np.ndarray:
    """A stereo impulse response ``(n, 2)``: decaying noise, independent per channel (so the reverb widens the
    image), darker as it decays (high-passed at 180 Hz, low-passed at 7 kHz), 60 dB down at ``seconds``, after a
    12 ms pre-delay; each channel has unit energy."""
    rng = np.random.default_rng(seed ^ 0x5EED)
    n = max(64, int(seconds * rate))
    t = np.arange(n, dtype=np.float64) / rate
    noise = rng.standard_normal((n, 2))
    ir = noise * np.exp(-t * (math.log(1000.0) / seconds))[:, None]
    ir = dsp.sosfilt(dsp.butter(2, (180, min(7000, 0.45 * rate)), btype="band", fs=rate, output="sos"), ir, axis=0)
    ir = np.concatenate([np.zeros((int(0.012 * rate), 2)), ir])
    ir /= np.sqrt(np.square(ir).sum(axis=0, keepdims=True))
    return ir.astype(np.float32)


class Reverb:
    """Convolves a mono send with a stereo impulse response, ``partition`` samples at a time (uniformly
    partitioned overlap-save: no latency, and the history of the last ``len(ir)`` samples is all it keeps)."""

    def __init__(self, ir: np.ndarray, partition: int) -> None:
        self.p = partition
        parts = -(-len(ir) // partition)
        padded = np.zeros((parts * partition, 2), np.float32)
        padded[: len(ir)] = ir
        blocks = padded.reshape(parts, partition, 2)
        # spectra of each partition, zero-padded to 2P: (parts, 2, P + 1)
        self.spectra = fft.rfft(blocks, n=2 * partition, axis=1).transpose(0, 2, 1).astype(np.complex64)
        self.history = np.zeros((parts, partition + 1), np.complex64)  # input spectra, newest at self.newest
        self.newest = 0
        self.previous = np.zeros(partition, np.float32)

    def process(self, send: np.ndarray) -> np.ndarray:
        """The stereo wet signal ``(P, 2)`` for the next ``P`` samples of ``send`` (``len(send) <= P``)."""
        x = np.zeros(self.p, np.float32)
        x[: len(send)] = send
        spectrum = fft.rfft(np.concatenate([self.previous, x]))
        self.previous = x
        parts = len(self.history)
        self.newest = (self.newest - 1) % parts
        self.history[self.newest] = spectrum
        order = (self.newest + np.arange(parts)) % parts  # history[order[k]] is the input k partitions ago
        wet = np.einsum("kf,kcf->cf", self.history[order], self.spectra)
        return fft.irfft(wet, n=2 * self.p, axis=1)[:, self.p :].T.astype(np.float32)


class Compressor:
    """A feed-forward RMS compressor over hops of ``hop`` samples (both channels): above ``threshold`` (linear RMS)
    the level is reduced by ``1 - 1/ratio`` of the excess in dB, with ``attack_s`` and ``release_s`` smoothing;
    the gain is interpolated between hops."""

    def __init__(self, rate: int, threshold: float, ratio: float, attack_s: float, release_s: float, hop: int):
        self.hop = hop
        self.threshold_db = 20 * math.log10(threshold)
        self.slope = 1 - 1 / ratio
        self.attack = math.exp(-hop / (attack_s * rate))
        self.release = math.exp(-hop / (release_s * rate))
        self.reduction_db = 0.0
        self.gain = 1.0

    def process(self, block: np.ndarray) -> np.ndarray:
        """Compress ``block`` ``(n, 2)`` in place (``n`` a multiple of ``hop``, except at the end)."""
        n = len(block)
        hops = -(-n // self.hop)
        if n % self.hop:
            padded = np.zeros((hops * self.hop, 2), np.float32)
            padded[:n] = block
        else:
            padded = block
        frames = padded.reshape(hops, 2 * self.hop)
        power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / (2 * self.hop)
        levels = (10 * np.log10(np.maximum(power, 1e-12))).tolist()
        gains = [self.gain]
        reduction = self.reduction_db
        for level in levels:
            target = max(0.0, level - self.threshold_db) * self.slope
            coefficient = self.attack if target > reduction else self.release
            reduction = coefficient * reduction + (1 - coefficient) * target
            gains.append(10 ** (-reduction / 20))
        self.reduction_db = reduction
        self.gain = gains[-1]
        if min(gains) < 1.0:
            ramp = np.interp(np.arange(1, n + 1, dtype=np.float32) / self.hop, np.arange(hops + 1), gains)
            block *= ramp.astype(np.float32)[:, None]
        return block


def distort(wave: np.ndarray, amount: float, rate: int) -> np.ndarray:
    """An amp's overdrive: gain into a tanh curve, then a cabinet's roll-off above 5 kHz; ``amount`` 0..1."""
    if amount <= 0 or not len(wave):
        return wave
    drive = 1 + 30 * amount
    peak = float(np.max(np.abs(wave))) or 1.0
    shaped = np.tanh(wave * (drive / peak)) * (peak * 0.6)
    cabinet = dsp.butter(2, min(5000, 0.45 * rate), fs=rate, output="sos")
    return dsp.sosfilt(cabinet, shaped).astype(np.float32)


class Tone:
    """The master's colour: ``tone`` < 0 darkens (a low-pass at 1.2 kHz), > 0 brightens (a +8 dB shelf above
    2 kHz, made as the signal plus its high-passed part); 0 leaves it alone. Filter state runs across chunks."""

    def __init__(self, rate: int, tone: float) -> None:
        self.tone = tone
        if tone < 0:
            self.sos = dsp.butter(2, min(1200, 0.45 * rate), fs=rate, output="sos")
        else:
            self.sos = dsp.butter(2, min(2000, 0.45 * rate), btype="high", fs=rate, output="sos")
        self.state = np.zeros((len(self.sos), 2, 2))

    def process(self, block: np.ndarray) -> np.ndarray:
        if not self.tone:
            return block
        filtered, self.state = dsp.sosfilt(self.sos, block, axis=0, zi=self.state)
        if self.tone < 0:
            return filtered.astype(np.float32)
        return (block + 1.5 * self.tone * filtered).astype(np.float32)
