"""Offline synthesizer speed and memory.

Prints, for 30 s and 300 s tracks in mp3_44100_128: the wall time to compose + render + encode, the real-time
factor (track length / wall time; goal >= 50x for a 30 s MP3, issue 17), the peak traced memory of one job, and,
as a baseline run in the same process, the time LAME alone takes to encode the very same rendered track (so the
share of the time that is Songy's own composing and rendering is visible).

    .venv/bin/python bench/synth.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
import tracemalloc

import numpy as np

from songy.adapters.codecs import encode
from songy.adapters.synth.generator import render, stream
from songy.domain.formats import OutputFormat
from songy.ports.audio import AudioSpec

FORMAT = OutputFormat.parse("mp3_44100_128")
PROMPT = "upbeat electronic dance music with synthesizers, bass and drums, 124 bpm"


def job(length_ms: int) -> int:
    """What the worker does: compose, render block by block and encode as the blocks arrive."""
    return sum(len(chunk) for chunk in encode(stream(AudioSpec(PROMPT, length_ms, FORMAT, "music_v1")), FORMAT))


_RENDERED: dict[int, np.ndarray] = {}


def baseline(length_ms: int) -> int:
    """LAME alone, on the very samples the job renders (rendered once, outside the timing)."""
    return sum(len(chunk) for chunk in encode(_RENDERED[length_ms], FORMAT))


def best_time(fn, length_ms: int, repeat: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times, size = [], 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        size = fn(length_ms)
        times.append(time.perf_counter() - start)
    return min(times), size


def peak_memory(length_ms: int) -> int:
    gc.collect()
    tracemalloc.start()
    job(length_ms)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"# synth bench: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, {FORMAT.name}")
    columns = ("length", "wall s", "x realtime", "LAME-only s", "render share", "peak MiB", "MiB/min", "mp3 KiB")
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, (8, 8, 11, 12, 13, 9, 8, 8), strict=True)))
    for seconds in (30, 300):
        length_ms = seconds * 1000
        wall, size = best_time(job, length_ms, args.repeat)
        _RENDERED[length_ms] = render(AudioSpec(PROMPT, length_ms, FORMAT, "music_v1"))
        lame, _ = best_time(baseline, length_ms, args.repeat)
        peak = peak_memory(length_ms) / 2**20
        print(
            f"{seconds:>7}s {wall:>8.3f} {seconds / wall:>10.0f}x {lame:>12.3f} {1 - lame / wall:>12.0%} "
            f"{peak:>9.1f} {peak / (seconds / 60):>8.1f} {size / 1024:>8.0f}"
        )


if __name__ == "__main__":
    main()
