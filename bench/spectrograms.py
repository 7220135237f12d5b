"""A spectrogram of one render per genre, as PNG files for docs/synthesizer.md (numpy and zlib only).

Each image is 20 s of "<genre> music" at 22,050 Hz: time left to right, frequency bottom to top on a logarithmic
axis from 40 Hz to 11 kHz (gridlines at 100 Hz, 1 kHz and 10 kHz), level in dB from -80 (black) to 0 (white)
relative to the loudest bin.

    .venv/bin/python -m bench.spectrograms [docs/spectrograms]
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import numpy as np

from songy.adapters.synth.generator import render
from songy.adapters.synth.style import GENRES
from songy.domain.formats import OutputFormat
from songy.ports.audio import AudioSpec

RATE = 22_050
WIDTH, HEIGHT = 480, 160
LEVELS = 24  # colours of the palette: an indexed PNG of a few KB
LOW, HIGH = 40.0, 11_000.0
# black -> purple -> orange -> pale yellow
STOPS = np.array([[0, 0, 0], [80, 18, 123], [200, 60, 80], [251, 140, 30], [252, 253, 191]], float)


def spectrogram(samples: np.ndarray) -> np.ndarray:
    """``(HEIGHT, WIDTH)`` levels in 0..1 (-80..0 dB) on a log-frequency axis."""
    mono = samples.mean(axis=1)
    size = 2048
    hops = np.linspace(0, len(mono) - size, WIDTH).astype(int)
    window = np.hanning(size)
    frames = np.stack([np.abs(np.fft.rfft(mono[h : h + size] * window)) for h in hops], axis=1)
    freqs = np.fft.rfftfreq(size, 1 / RATE)
    rows = np.geomspace(LOW, HIGH, HEIGHT)[::-1]
    image = np.stack([np.interp(rows, freqs, frames[:, x]) for x in range(WIDTH)], axis=1)
    db = 20 * np.log10(np.maximum(image, 1e-9) / image.max())
    return np.clip((db + 80) / 80, 0, 1)


def palette() -> np.ndarray:
    """``LEVELS`` RGB colours through the stops, then a lighter copy of each for the gridlines."""
    position = np.linspace(0, len(STOPS) - 1, LEVELS)
    low = np.minimum(position.astype(int), len(STOPS) - 2)
    frac = (position - low)[:, None]
    colours = STOPS[low] * (1 - frac) + STOPS[low + 1] * frac
    return np.concatenate([colours, colours * 0.5 + 64]).astype(np.uint8)


def indices(levels: np.ndarray) -> np.ndarray:
    """Levels 0..1 to palette indices, the rows of 100 Hz, 1 kHz and 10 kHz in the lighter half (gridlines)."""
    index = np.round(levels * (LEVELS - 1)).astype(np.uint8)
    rows = np.geomspace(LOW, HIGH, HEIGHT)[::-1]
    for line in (100, 1000, 10000):
        index[int(np.argmin(np.abs(rows - line)))] += LEVELS
    return index


def png(index: np.ndarray, colours: np.ndarray) -> bytes:
    """An 8-bit indexed-colour PNG of ``index`` ``(height, width)`` over ``colours``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    height, width = index.shape
    raw = b"".join(b"\x00" + index[y].tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", colours.tobytes())
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/spectrograms")
    out.mkdir(parents=True, exist_ok=True)
    fmt = OutputFormat.parse(f"pcm_{RATE}")
    for genre in GENRES:
        prompt = f"{genre.name} music"
        samples = render(AudioSpec(prompt, 20_000, fmt, "music_v1"))
        path = out / f"{genre.name.replace(' ', '-')}.png"
        path.write_bytes(png(indices(spectrogram(samples)), palette()))
        print(f"{path}: {prompt}")


if __name__ == "__main__":
    main()
