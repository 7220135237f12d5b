"""Composing: a Style and a length become sections, chords, a bass line, a melody and a drum pattern."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from songy.adapters.synth.style import Style

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
PROGRESSIONS_MAJOR = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 3), (0, 3, 0, 4))
PROGRESSIONS_MINOR = ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4))
KICK, SNARE, HAT, OPEN_HAT = 0, 1, 2, 3
MELODY_PREFERENCE = ("synth", "piano", "guitar", "bells", "strings", "organ", "pad")


@dataclass(frozen=True, slots=True)
class Note:
    """One event: ``pitch`` is a MIDI note number, or a drum id for the ``drums`` voice."""

    start: float
    duration: float
    pitch: int
    voice: str
    velocity: float


@dataclass(frozen=True)
class Section:
    name: str
    start: float
    end: float
    energy: float


@dataclass(frozen=True)
class Composition:
    style: Style
    length_s: float
    sections: tuple[Section, ...]
    notes: tuple[Note, ...]
    melody_voice: str


def compose(style: Style, length_s: float, seed: int) -> Composition:
    """A deterministic piece for (style, length, seed)."""
    rng = random.Random(seed)
    beat = 60.0 / style.bpm
    bar = 4 * beat
    sections = _sections(length_s, bar)
    scale = MINOR if style.minor else MAJOR
    progression = rng.choice(PROGRESSIONS_MINOR if style.minor else PROGRESSIONS_MAJOR)
    melody_voice = next((v for v in MELODY_PREFERENCE if v in style.instruments), style.instruments[0])
    motifs = {name: _motif(rng, style) for name in ("intro", "verse", "chorus", "outro")}

    notes: list[Note] = []
    bar_index = 0
    for section in sections:
        t = section.start
        while t < section.end - 1e-9:
            degree = progression[bar_index % len(progression)]
            chord = [style.root + 48 + _scale_note(scale, degree + step) for step in (0, 2, 4)]
            notes += _harmony(style, chord, t, bar, beat, section, rng)
            if "bass" in style.instruments:
                notes += _bass(style, chord[0] - 12, t, beat, section)
            if "drums" in style.instruments and section.name != "intro":
                notes += _drums(style, t, beat, section, rng)
            if section.name in ("verse", "chorus") or (section.name == "intro" and melody_voice == "pad"):
                notes += _melody(style, scale, degree, motifs[section.name], melody_voice, t, beat, section, rng)
            t += bar
            bar_index += 1
    notes = [n for n in notes if n.start < length_s]
    return Composition(style, length_s, tuple(sections), tuple(notes), melody_voice)


def _sections(length_s: float, bar: float) -> tuple[Section, ...]:
    bars = max(1, math.ceil(length_s / bar))
    intro = 2 if bars >= 8 else (1 if bars >= 4 else 0)
    outro = 2 if bars >= 10 else (1 if bars >= 5 else 0)
    plan: list[tuple[str, int, float]] = []
    if intro:
        plan.append(("intro", intro, 0.35))
    middle = bars - intro - outro
    i = 0
    while middle > 0:
        name, energy = ("verse", 0.65) if i % 2 == 0 else ("chorus", 1.0)
        take = min(4, middle)
        plan.append((name, take, energy))
        middle -= take
        i += 1
    if outro:
        plan.append(("outro", outro, 0.45))
    sections, start = [], 0.0
    for name, count, energy in plan:
        end = min(length_s, start + count * bar)
        sections.append(Section(name, start, end, energy))
        start = end
    return tuple(s for s in sections if s.end > s.start)


def _scale_note(scale: tuple[int, ...], index: int) -> int:
    octave, step = divmod(index, len(scale))
    return 12 * octave + scale[step]


def _motif(rng: random.Random, style: Style) -> list[tuple[float, int, float]]:
    """A one-bar rhythm of (beat offset, scale step, length in beats), reused with variation."""
    slots = [i / 2 for i in range(8)]
    keep = 0.35 + 0.5 * style.density
    chosen = [s for s in slots if s == 0 or rng.random() < keep]
    motif, step = [], rng.choice((0, 2, 4))
    for i, start in enumerate(chosen):
        nxt = chosen[i + 1] if i + 1 < len(chosen) else 4.0
        step = max(-2, min(9, step + rng.choice((-2, -1, -1, 1, 1, 2, 0, 3))))
        motif.append((start, step, nxt - start))
    return motif


def _harmony(
    style: Style, chord: list[int], t: float, bar: float, beat: float, section: Section, rng: random.Random
) -> list[Note]:
    notes: list[Note] = []
    vel = 0.5 + 0.4 * section.energy
    for voice in ("pad", "strings", "organ"):
        if voice in style.instruments:
            notes += [Note(t, bar, p + (12 if voice == "strings" else 0), voice, vel) for p in chord]
    if "piano" in style.instruments:
        hits = (0.0, 1.0, 2.0, 3.0) if style.density > 0.55 else (0.0, 1.5, 3.0)
        for h in hits if section.name != "intro" else (0.0, 2.0):
            length = beat * (2.0 if section.name == "intro" else 0.9)
            notes += [Note(t + h * beat, length, p + 12, "piano", vel * 0.8) for p in chord]
    if "guitar" in style.instruments:
        strums = (0.0, 1.0, 1.5, 2.5, 3.0) if style.density > 0.6 else (0.0, 2.0)
        for s in strums:
            for k, p in enumerate([*chord, chord[0] + 12]):
                notes.append(Note(t + s * beat + 0.012 * k, beat * 1.5, p + 12, "guitar", vel * 0.7))
    if "bells" in style.instruments and rng.random() < 0.5 + 0.3 * style.density:
        notes.append(Note(t + rng.choice((0.0, 2.0)) * beat, beat * 2, rng.choice(chord) + 36, "bells", vel * 0.6))
    return notes


def _bass(style: Style, root: int, t: float, beat: float, section: Section) -> list[Note]:
    if style.density > 0.75 and section.energy > 0.5:
        steps = [i / 2 for i in range(8)]
    elif style.density > 0.45:
        steps = [0.0, 1.0, 2.0, 3.0]
    else:
        steps = [0.0, 2.0]
    gap = steps[1] - steps[0] if len(steps) > 1 else 4.0
    vel = 0.7 + 0.3 * section.energy
    return [
        Note(t + s * beat, gap * beat * 0.9, root + (12 if i % 4 == 3 and gap < 1 else 0), "bass", vel)
        for i, s in enumerate(steps)
    ]


def _drums(style: Style, t: float, beat: float, section: Section, rng: random.Random) -> list[Note]:
    four_on_floor = style.genre in ("house", "techno")
    if style.genre == "drum and bass":
        kicks, snares = (0.0, 2.5), (1.0, 3.0)
    elif style.genre == "hip hop":
        kicks, snares = (0.0, 1.75, 2.5), (1.0, 3.0)
    else:
        kicks, snares = ((0.0, 1.0, 2.0, 3.0) if four_on_floor else (0.0, 2.0)), (1.0, 3.0)
    hat_step = 0.25 if style.density > 0.75 else 0.5
    vel = 0.6 + 0.4 * section.energy
    notes = [Note(t + k * beat, 0.3, KICK, "drums", vel) for k in kicks]
    if section.name != "outro":
        notes += [Note(t + s * beat, 0.25, SNARE, "drums", vel * 0.9) for s in snares]
    h = 0.0
    while h < 4.0:
        swing = style.swing * hat_step if (h / hat_step) % 2 == 1 else 0.0
        pitch = OPEN_HAT if four_on_floor and h % 1 == 0.5 else HAT
        notes.append(Note(t + (h + swing) * beat, 0.08, pitch, "drums", vel * (0.45 + 0.2 * rng.random())))
        h += hat_step
    return notes


def _melody(
    style: Style,
    scale: tuple[int, ...],
    degree: int,
    motif: list[tuple[float, int, float]],
    voice: str,
    t: float,
    beat: float,
    section: Section,
    rng: random.Random,
) -> list[Note]:
    base = style.root + 60 + (12 if section.name == "chorus" else 0) - (12 if voice == "pad" else 0)
    notes = []
    for offset, step, length in motif:
        varied = step + (rng.choice((-1, 1)) if rng.random() < 0.15 else 0)
        pitch = base + _scale_note(scale, degree + varied)
        notes.append(Note(t + offset * beat, length * beat * 0.95, pitch, voice, 0.55 + 0.35 * section.energy))
    return notes
