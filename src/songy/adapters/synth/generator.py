"""The offline AudioGenerator: composes and renders from the prompt, no network, no model weights."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from songy.adapters.codecs import Signal, encode
from songy.adapters.synth import soundfont
from songy.adapters.synth.composer import Composition, compose
from songy.adapters.synth.renderer import Renderer
from songy.adapters.synth.style import Interpretation, interpret
from songy.ports.audio import EXACT, AudioSpec, OutputTolerance


def prompt_seed(prompt: str) -> int:
    """A stable seed from the prompt text, so the same prompt gives the same piece."""
    return int.from_bytes(hashlib.sha256(prompt.strip().lower().encode()).digest()[:4], "big")


def seed_of(spec: AudioSpec) -> int:
    return spec.seed if spec.seed is not None else prompt_seed(spec.prompt)


def interpretation(spec: AudioSpec, font_path: str | None = None) -> Interpretation:
    """What the synthesizer makes of ``spec``'s prompt (genre, tempo, key, mode, instruments, mood, and the words
    it did not understand), as recorded with the generation and printed by ``songy synth --explain``."""
    _, reading = interpret(spec.prompt, seed_of(spec))
    font = soundfont.load(font_path)
    missing = [i for i in reading.instruments if not font.has(0 if i["role"] != "drums" else 128, int(i["program"]))]
    if missing:  # a SoundFont without some General MIDI program: say so (the renderer plays nothing for it)
        notes = tuple(f"{i['name']} (GM {i['program']}): not in the SoundFont {font.name}" for i in missing)
        return Interpretation(**{**reading.__dict__, "notes": reading.notes + notes})
    return reading


def composition_of(spec: AudioSpec) -> Composition:
    """The composed piece for ``spec`` (for tests and analysis: sections, bars, notes, programs)."""
    style, _ = interpret(spec.prompt, seed_of(spec))
    rate = spec.output_format.sample_rate
    return compose(style, round(spec.length_ms * rate / 1000) / rate, seed_of(spec))


def stream(spec: AudioSpec, font_path: str | None = None) -> Signal:
    """The stereo float32 signal for ``spec`` at the format's sample rate, exactly ``length_ms`` long, rendered
    chunk by chunk as it is consumed; ``font_path``: a SoundFont (default: TimGM6mb, see :mod:`.soundfont`)."""
    seed = seed_of(spec)
    style, _ = interpret(spec.prompt, seed)
    rate = spec.output_format.sample_rate
    n_samples = round(spec.length_ms * rate / 1000)
    composition = compose(style, n_samples / rate, seed)
    return Signal(n_samples, Renderer(rate, soundfont.load(font_path), seed).stream(composition, n_samples))


def render(spec: AudioSpec, font_path: str | None = None) -> np.ndarray:
    """The whole ``(n, 2)`` float32 signal of :func:`stream` in one array (for tests and analysis)."""
    return stream(spec, font_path).collect()


class SynthAudioGenerator:
    """Implements :class:`songy.ports.audio.AudioGenerator`; the CPU work runs in a thread, and the track is
    rendered, encoded and handed on chunk by chunk, so memory does not grow with its length. Its output is
    exact and deterministic: the stored track is checked to the sample (MP3s carry a gapless header)."""

    tolerance: OutputTolerance = EXACT

    def __init__(self, soundfont_path: str | None = None) -> None:
        self.soundfont_path = soundfont_path
        soundfont.load(soundfont_path)  # fail at start-up on a wrong path, and keep the font loaded once

    def describe(self, spec: AudioSpec) -> dict[str, Any]:
        """The interpretation of ``spec`` as JSON-ready data: the track's status ``metadata``."""
        return interpretation(spec, self.soundfont_path).as_dict()

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        # One thread renders the whole track: its allocations stay in one malloc arena instead of fragmenting
        # the arenas of every pool thread that happens to pick up the next block.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="songy-synth") as thread:
            signal = await loop.run_in_executor(thread, stream, spec, self.soundfont_path)
            chunks = encode(signal, spec.output_format)
            sentinel = object()  # not b"": the encoders yield empty chunks, and the empty bytes object is a singleton
            while True:
                chunk = await loop.run_in_executor(thread, next, chunks, sentinel)
                if chunk is sentinel:
                    break
                if chunk:
                    yield chunk
