"""The offline AudioGenerator: composes and renders from the prompt, no network, no model weights."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from songy.adapters.codecs import Signal, encode
from songy.adapters.synth.composer import compose
from songy.adapters.synth.renderer import Renderer
from songy.adapters.synth.style import read_style
from songy.ports.audio import EXACT, AudioSpec, OutputTolerance


def prompt_seed(prompt: str) -> int:
    """A stable seed from the prompt text, so the same prompt gives the same piece."""
    return int.from_bytes(hashlib.sha256(prompt.strip().lower().encode()).digest()[:4], "big")


def stream(spec: AudioSpec) -> Signal:
    """The stereo float32 signal for ``spec`` at the format's sample rate, exactly ``length_ms`` long, rendered
    block by block as it is consumed."""
    seed = spec.seed if spec.seed is not None else prompt_seed(spec.prompt)
    style = read_style(spec.prompt, seed)
    rate = spec.output_format.sample_rate
    n_samples = round(spec.length_ms * rate / 1000)
    composition = compose(style, n_samples / rate, seed)
    return Signal(n_samples, Renderer(rate, style.brightness, seed).stream(composition, n_samples))


def render(spec: AudioSpec) -> np.ndarray:
    """The whole ``(n, 2)`` float32 signal of :func:`stream` in one array (for tests and analysis)."""
    return stream(spec).collect()


class SynthAudioGenerator:
    """Implements :class:`songy.ports.audio.AudioGenerator`; the CPU work runs in a thread, and the track is
    rendered, encoded and handed on block by block, so memory does not grow with its length. Its output is
    exact and deterministic: the stored track is checked to the sample (within what the codec allows)."""

    tolerance: OutputTolerance = EXACT

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        # One thread renders the whole track: its allocations stay in one malloc arena instead of fragmenting
        # the arenas of every pool thread that happens to pick up the next block.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="songy-synth") as thread:
            signal = await loop.run_in_executor(thread, stream, spec)
            chunks = encode(signal, spec.output_format)
            sentinel = object()  # not b"": the encoders yield empty chunks, and the empty bytes object is a singleton
            while True:
                chunk = await loop.run_in_executor(thread, next, chunks, sentinel)
                if chunk is sentinel:
                    break
                if chunk:
                    yield chunk
