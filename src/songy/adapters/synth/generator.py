"""The offline AudioGenerator: composes and renders from the prompt, no network, no model weights."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import numpy as np

from songy.adapters.codecs import encode
from songy.adapters.synth.composer import compose
from songy.adapters.synth.renderer import Renderer
from songy.adapters.synth.style import read_style
from songy.ports.audio import AudioSpec


def prompt_seed(prompt: str) -> int:
    """A stable seed from the prompt text, so the same prompt gives the same piece."""
    return int.from_bytes(hashlib.sha256(prompt.strip().lower().encode()).digest()[:4], "big")


def render(spec: AudioSpec) -> np.ndarray:
    """The ``(n, 2)`` float32 signal for ``spec`` at the format's sample rate, exactly ``length_ms`` long."""
    seed = spec.seed if spec.seed is not None else prompt_seed(spec.prompt)
    style = read_style(spec.prompt, seed)
    rate = spec.output_format.sample_rate
    n_samples = round(spec.length_ms * rate / 1000)
    composition = compose(style, n_samples / rate, seed)
    return Renderer(rate, style.brightness, seed).render(composition, n_samples)


class SynthAudioGenerator:
    """Implements :class:`songy.ports.audio.AudioGenerator`; the CPU work runs in a thread."""

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        samples = await asyncio.to_thread(render, spec)
        chunks = encode(samples, spec.output_format)
        sentinel = b""
        while True:
            chunk = await asyncio.to_thread(next, chunks, sentinel)
            if chunk is sentinel:
                break
            if chunk:
                yield chunk
