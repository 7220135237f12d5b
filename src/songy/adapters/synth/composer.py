"""Composing: a Style and a length become a song: sections (intro, verse, chorus, bridge, ending) with their own
chord progressions, drum patterns with fills into each section, a bass line, chords, a pad, and a melody that
develops a motif within a singable range, ending on the tonic."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from songy.adapters.synth.style import Style

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
MELODY_LOW, MELODY_HIGH = 55, 84  # G3..C6: a singable range, far under the MIDI 88 ceiling
STEPS = 16  # sixteenth notes a bar

# progressions as scale degrees (0 = I/i), one chord a bar; a verse and chorus pair never share a bar's chord
VERSES = {
    False: ((0, 5, 3, 4), (0, 3, 5, 4), (0, 4, 5, 3), (0, 3, 0, 4)),
    True: ((0, 5, 2, 6), (0, 3, 6, 2), (0, 6, 5, 6), (0, 3, 0, 4)),
}
CHORUSES = {
    False: ((3, 4, 0, 5), (5, 3, 0, 4), (3, 0, 4, 5), (5, 4, 3, 0)),
    True: ((5, 6, 0, 4), (3, 5, 6, 4), (5, 2, 6, 0), (2, 6, 3, 4)),
}
BRIDGES = {False: ((1, 4, 2, 5), (5, 2, 3, 4), (3, 2, 1, 4)), True: ((3, 4, 5, 6), (5, 3, 1, 4), (1, 4, 5, 6))}

# General MIDI percussion keys
KICK, SIDE_STICK, SNARE, CLAP, HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 39, 42, 44, 46, 49, 51
TOMS = (50, 48, 47, 45, 43, 41)
SHAKER = 70


@dataclass(frozen=True, slots=True)
class Note:
    """One note of one part: ``pitch`` is a MIDI key (a GM percussion key for ``drums``)."""

    start: float
    duration: float
    pitch: int
    velocity: int
    role: str


@dataclass(frozen=True)
class Section:
    name: str
    start: float
    end: float
    first_bar: int
    bars: int
    chords: tuple[int, ...]  # scale degree of each bar


@dataclass(frozen=True)
class Composition:
    style: Style
    length_s: float
    bar_s: float
    sections: tuple[Section, ...]
    notes: tuple[Note, ...]

    def programs(self) -> dict[str, int]:
        """role -> GM program of every part that plays at least one note."""
        sounding = {n.role for n in self.notes}
        return {p.role: p.voice.program for p in self.style.parts if p.role in sounding}

    def section_bars(self, name: str) -> list[tuple[float, float]]:
        """(start, end) in seconds of every bar of the sections called ``name``, in order."""
        return [
            (s.start + i * self.bar_s, s.start + (i + 1) * self.bar_s)
            for s in self.sections
            if s.name == name
            for i in range(s.bars)
        ]


def compose(style: Style, length_s: float, seed: int) -> Composition:
    """A deterministic song for (style, length, seed)."""
    rng = random.Random(seed)
    beat = 60.0 / style.bpm
    bar = 4 * beat
    full_bars = max(1, math.floor(length_s / bar + 1e-9))
    scale = MINOR if style.minor else MAJOR
    verse = rng.choice(VERSES[style.minor])
    chorus = _distinct(rng.choice(CHORUSES[style.minor]), verse, CHORUSES[style.minor])
    bridge = _distinct(rng.choice(BRIDGES[style.minor]), verse, BRIDGES[style.minor])
    sections = _sections(full_bars, bar, {"intro": verse, "verse": verse, "chorus": chorus, "bridge": bridge})
    writer = _Writer(style, scale, beat, rng, length_s)
    motifs = {name: _motif(rng, style.energy) for name in ("verse", "chorus", "bridge")}
    previous: list[int] = []
    for index, section in enumerate(sections):
        following = sections[index + 1].name if index + 1 < len(sections) else None
        for b, degree in enumerate(section.chords):
            t = section.start + b * bar
            last_full = section.first_bar + b == full_bars - 1
            hold = length_s - t if last_full else bar  # the final tonic rings to the end of the track
            chord = _chord(style, scale, degree, previous)
            previous = chord
            writer.bar(section, b, t, hold, degree, chord, motifs.get(section.name), following, last_full)
    notes = tuple(sorted((n for n in writer.notes if n.start < length_s), key=lambda n: (n.start, n.role, n.pitch)))
    return Composition(style, length_s, bar, tuple(sections), notes)


def _distinct(choice: tuple[int, ...], verse: tuple[int, ...], options: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    """``choice``, or the first of ``options`` (or rotation of one) that differs from ``verse`` in every bar."""
    candidates = [choice, *options]
    candidates += [c[k:] + c[:k] for c in options for k in range(1, 4)]
    return next((c for c in candidates if all(a != b for a, b in zip(c, verse, strict=True))), choice)


def _sections(bars: int, bar: float, progressions: dict[str, tuple[int, ...]]) -> tuple[Section, ...]:
    """The form for ``bars`` whole bars: intro, verses and choruses (a bridge in longer songs), an ending whose
    last bar is the tonic."""
    if bars <= 2:
        plan = [("ending", bars)]
    else:
        ending = 2 if bars >= 10 else 1
        intro = 2 if bars >= 16 else (1 if bars >= 7 else 0)
        body = bars - ending - intro
        unit = 8 if bars >= 64 else 4 if body >= 8 else max(1, math.ceil(body / 2))
        order = ["verse", "chorus", "verse", "chorus", "bridge", "chorus"]
        plan = [("intro", intro)] if intro else []
        i = 0
        while body > 0:
            take = min(unit, body)
            if 0 < body - take < 2:
                take = body
            plan.append((order[i % len(order)] if i < len(order) else ("verse", "chorus")[i % 2], take))
            body -= take
            i += 1
        plan.append(("ending", ending))
    sections, first = [], 0
    for name, count in plan:
        if name == "ending":
            chords = (4, 0)[-count:] if count <= 2 else (*([0] * (count - 2)), 4, 0)
        else:
            source = progressions[name]
            chords = tuple(source[k % len(source)] for k in range(count))
        sections.append(Section(name, first * bar, (first + count) * bar, first, count, chords))
        first += count
    # lead into the ending: the bar before it is the dominant
    if len(sections) > 1 and sections[-1].bars == 1:
        before = sections[-2]
        sections[-2] = Section(before.name, before.start, before.end, before.first_bar, before.bars,
                               (*before.chords[:-1], 4))  # fmt: skip
    return tuple(sections)


def _scale_note(scale: tuple[int, ...], index: int) -> int:
    octave, step = divmod(index, len(scale))
    return 12 * octave + scale[step]


def _chord(style: Style, scale: tuple[int, ...], degree: int, previous: list[int]) -> list[int]:
    """The triad (seventh for jazz and lofi) on ``degree``, voiced near the previous chord in C3..C5."""
    size = 4 if style.genre in ("jazz", "lofi") else 3
    tones = [style.root + _scale_note(scale, degree + 2 * k) for k in range(size)]
    if style.minor and degree == 4:
        tones[1] += 1  # the dominant's leading tone (harmonic minor): V, not v
    centre = sum(previous) / len(previous) if previous else 60
    best: list[int] = []
    for inversion in range(size):
        voiced = sorted(t + 12 * (1 if k < inversion else 0) for k, t in enumerate(tones))
        for shift in (36, 48, 60):
            candidate = [p + shift for p in voiced]
            if (
                candidate[0] >= 48
                and candidate[-1] <= 76
                and (not best or abs(sum(candidate) / size - centre) < abs(sum(best) / size - centre))
            ):
                best = candidate
    return best or [t + 48 for t in tones]


def _motif(rng: random.Random, energy: float) -> list[tuple[int, int, int]]:
    """A one-bar motif: (sixteenth it starts on, scale steps above the chord's root, length in sixteenths)."""
    if energy < 0.3:
        rhythms = [(0, 8), (0, 12), (0, 10)]
    elif energy < 0.7:
        rhythms = [(0, 4, 6, 8, 12), (0, 3, 6, 8, 10, 12), (0, 4, 8, 10, 12), (0, 2, 4, 8, 12, 14)]
    else:
        rhythms = [(0, 2, 4, 6, 8, 10, 12, 14), (0, 3, 6, 8, 10, 11, 12, 14), (0, 2, 3, 6, 8, 10, 12, 13)]
    onsets = rng.choice(rhythms)
    step = rng.choice((0, 2, 4))
    motif = []
    for i, start in enumerate(onsets):
        end = onsets[i + 1] if i + 1 < len(onsets) else STEPS
        motif.append((start, step, end - start))
        step = max(-2, min(7, step + rng.choice((-2, -1, -1, 1, 1, 2, 0))))
    return motif


class _Writer:
    """Writes the parts of one bar after another."""

    def __init__(self, style: Style, scale: tuple[int, ...], beat: float, rng: random.Random, length_s: float):
        self.style = style
        self.scale = scale
        self.beat = beat
        self.six = beat / 4  # a sixteenth
        self.rng = rng
        self.length_s = length_s
        self.notes: list[Note] = []
        self.roles = set(style.roles)
        self.tonic = 60 + style.root if 60 + style.root <= 66 else 48 + style.root  # F#3..F#4

    def at(self, t: float, step: float) -> float:
        """The time of sixteenth ``step`` of the bar at ``t``, with swing on the off-beat eighths."""
        swing = self.style.swing * 2 * self.six if int(step) % 4 == 2 and step == int(step) else 0.0
        return t + step * self.six + swing

    def add(self, role: str, t: float, step: float, sixteenths: float, pitch: int, velocity: float) -> None:
        start = self.at(t, step)
        self.notes.append(Note(start, sixteenths * self.six, pitch, max(1, min(127, round(velocity))), role))

    def bar(
        self,
        section: Section,
        b: int,
        t: float,
        hold: float,
        degree: int,
        chord: list[int],
        motif: list[tuple[int, int, int]] | None,
        following: str | None,
        last_full: bool,
    ) -> None:
        name = section.name
        energy = self.style.energy
        lift = {"intro": -18, "verse": 0, "chorus": 10, "bridge": -4, "ending": 0}[name]
        velocity = 62 + 40 * energy + lift
        if last_full:  # the arranged ending: the tonic chord, bass and melody ring together
            ring = hold / self.six
            for role in ("chords", "pad"):
                if role in self.roles:
                    for p in chord:
                        self.add(role, t, 0, ring, p + (12 if role == "pad" else 0), velocity - 6)
            if "bass" in self.roles:
                self.add("bass", t, 0, ring, self._bass_root(chord), velocity)
            if "lead" in self.roles:
                self.add("lead", t, 0, ring, self._near(self.tonic + 12, [self.tonic % 12]), velocity)
            if "drums" in self.roles:
                self.add("drums", t, 0, 4, CRASH, 100)
                self.add("drums", t, 0, 2, KICK, 100)
            return
        fill = b == section.bars - 1 and following is not None and following != name
        if "drums" in self.roles and name != "intro":
            self._drums(name, t, velocity, fill)
        elif "drums" in self.roles and section.bars - 1 == b and self.style.energy > 0.5:
            self._drums("intro", t, velocity - 20, True)
        if "bass" in self.roles and not (name == "intro" and b == 0):
            self._bass(name, t, chord, velocity)
        if "chords" in self.roles:
            self._chords(name, t, chord, velocity)
        if "pad" in self.roles:
            self.add("pad", t, 0, STEPS, chord[0] + 12, velocity - 22)
            for p in chord[1:]:
                self.add("pad", t, 0, STEPS, p + 12, velocity - 22)
        if "lead" in self.roles and motif is not None:
            self._melody(name, b, t, degree, chord, motif, velocity)

    def _near(self, target: int, pitch_classes: list[int]) -> int:
        candidates = [p for p in range(MELODY_LOW, MELODY_HIGH + 1) if p % 12 in pitch_classes]
        return min(candidates, key=lambda p: (abs(p - target), p))

    def _bass_root(self, chord: list[int]) -> int:
        """The chord's root in C2..B2, whatever the voicing."""
        return 36 + self._root_pc(chord)

    @staticmethod
    def _root_pc(chord: list[int]) -> int:
        """The pitch class with a fifth (diminished on vii) and a third above it in the chord."""
        pcs = {q % 12 for q in chord}
        for p in chord:
            if ((p + 7) % 12 in pcs or (p + 6) % 12 in pcs) and ((p + 3) % 12 in pcs or (p + 4) % 12 in pcs):
                return p % 12
        return chord[0] % 12

    def _drums(self, name: str, t: float, velocity: float, fill: bool) -> None:
        genre = self.style.genre
        energy = self.style.energy
        v = min(120, velocity + 8)
        hits: list[tuple[float, int, float]] = []  # (sixteenth, key, velocity)
        if genre in ("house", "techno"):
            hits += [(s, KICK, v) for s in (0, 4, 8, 12)]
            hits += [(s, CLAP, v - 10) for s in (4, 12)]
            hits += [(s, OPEN_HAT, v - 30) for s in (2, 6, 10, 14)]
            if energy > 0.6:
                hits += [(s, HAT, v - 40 + (8 if s % 4 == 0 else 0)) for s in range(16) if s % 4 != 2]
        elif genre == "drum and bass":
            hits += [(0, KICK, v), (10, KICK, v - 10), (4, SNARE, v), (12, SNARE, v), (7, SNARE, v - 45)]
            hits += [(s, HAT, v - 35) for s in range(0, 16, 2)]
        elif genre in ("hip hop", "lofi"):
            hits += [(0, KICK, v), (7, KICK, v - 15), (10, KICK, v - 5)]
            hits += [(s, SNARE if genre == "hip hop" else SIDE_STICK, v - 5) for s in (4, 12)]
            hits += [(s, HAT, v - 35) for s in range(0, 16, 2)]
        elif genre == "jazz":
            hits += [(s, RIDE, v - 25) for s in (0, 4, 6, 8, 12, 14)]
            hits += [(s, PEDAL_HAT, v - 35) for s in (4, 12)]
            hits += [(0, KICK, v - 40), (10, SNARE, v - 50)]
        elif genre == "reggae":
            hits += [(8, KICK, v), (8, SIDE_STICK, v - 5)]
            hits += [(s, HAT, v - 35) for s in range(0, 16, 2)]
        elif genre == "metal":
            kicks = range(0, 16, 1 if energy > 0.9 and name == "chorus" else 2)
            hits += [(s, KICK, v - 10) for s in kicks]
            hits += [(s, SNARE, v) for s in (4, 12)]
            hits += [(s, RIDE if name == "chorus" else HAT, v - 25) for s in range(0, 16, 2)]
        else:  # pop, rock, folk
            hits += [(0, KICK, v), (8, KICK, v - 5)]
            if energy > 0.6:
                hits += [(10, KICK, v - 15)]
            hits += [(s, SNARE, v - (20 if genre == "folk" else 0)) for s in (4, 12)]
            step = 1 if energy > 0.85 else 2
            cymbal = OPEN_HAT if name == "chorus" and genre == "rock" else HAT
            hits += [(s, cymbal if s % 4 == 2 else HAT, v - 30 - 10 * (s % 4 != 0)) for s in range(0, 16, step)]
        if name == "bridge":
            hits = [h for h in hits if h[1] not in (CLAP, SNARE) or h[0] == 12]
        if fill:
            hits = [h for h in hits if h[0] < 12]
            toms = TOMS if genre in ("rock", "metal", "pop", "folk", "jazz") else (SNARE,) * 6
            for k, s in enumerate((12, 13, 14, 15)):
                hits.append((s, toms[min(k + 1, 5)] if k else SNARE, v - 15 + 5 * k))
        for s, key, vel in hits:
            self.add("drums", t, s, 1, key, vel)

    def _bass(self, name: str, t: float, chord: list[int], velocity: float) -> None:
        genre = self.style.genre
        energy = self.style.energy
        root = self._bass_root(chord)
        fifth = root + 7
        v = velocity + 5
        pattern: list[tuple[float, int, float]]  # (sixteenth, pitch, length)
        if energy < 0.3:  # calm: a soft held root
            pattern = [(0, root, 16)]
            v -= 20
        elif genre in ("house", "techno"):
            pattern = [(s, root, 1.6) for s in (2, 6, 10, 14)]
        elif genre == "drum and bass":
            pattern = [(0, root, 6), (6, root, 3), (10, fifth if fifth <= 52 else root, 6)]
        elif genre in ("hip hop",):
            pattern = [(0, root, 6), (7, root, 2), (10, root, 5)]
        elif genre == "jazz":
            third = root + (3 if (root + 3) % 12 in {p % 12 for p in chord} else 4)
            pattern = [(0, root, 4), (4, third, 4), (8, fifth, 4), (12, fifth + 2 if fifth + 2 <= 55 else root + 12, 4)]
        elif genre == "lofi":
            pattern = [(0, root, 7), (8, fifth, 4), (14, root + 12, 2)]
        elif genre == "reggae":
            pattern = [(0, root, 3), (6, root + 12, 2), (8, fifth, 3), (12, root, 3)]
        elif genre == "metal":  # chugging on the tonic, the chord's root on the accents
            tonic = 36 + self.style.root
            pattern = [(s, root if s in (0, 6, 12) else tonic, 0.9) for s in range(0, 16, 2)]
        elif genre == "orchestral":  # pizzicato basses on the beat
            low = fifth - 12 if fifth - 12 >= 28 else fifth
            pattern = [(0, root, 3), (4, low, 3), (8, root, 3), (12, low, 3)]
        elif energy > 0.6:
            pattern = [(s, root + (12 if s in (6, 14) else 0), 1.8) for s in range(0, 16, 2)]
        else:
            pattern = [(0, root, 6), (6, root, 2), (8, fifth, 4), (12, root, 4)]
        for s, p, length in pattern:
            self.add("bass", t, s, length, p, v)

    def _chords(self, name: str, t: float, chord: list[int], velocity: float) -> None:
        genre = self.style.genre
        energy = self.style.energy
        v = velocity - 4
        if self.style.distortion > 0.7:  # power chords (root, fifth, octave) with the third on top
            root = 40 + (self._root_pc(chord) - 40) % 12
            third = next(p for p in range(root + 15, root + 17) if p % 12 in {q % 12 for q in chord})
            voicing = [root, root + 7, root + 12, third]
            tonic = 40 + (self.style.root - 40) % 12
            pedal = [tonic, tonic + 7, tonic + 12]
            steps = range(0, 16, 2) if name != "intro" else (0,)
            for s in steps:  # the riff: the chord on the accents, palm-muted tonic chugs between them
                accent = s in (0, 6, 12) or name == "intro"
                for p in voicing if accent else pedal:
                    self.add(
                        "chords",
                        t,
                        s,
                        (1.8 if name != "intro" else 16) if accent else 0.9,
                        p,
                        v - (0 if accent else 12),
                    )
            return
        if genre == "ambient" and name != "intro":
            self._arpeggio(t, chord, v)
            return
        if genre == "orchestral" and name != "intro" and energy >= 0.3:  # a string ostinato on the beat
            rhythm = ((0, 3.6), (4, 3.6), (8, 3.6), (12, 3.6))
            for s, length in rhythm:
                for p in chord:
                    self.add("chords", t, s, length, p, v - (0 if s == 0 else 8))
            return
        if energy < 0.3 or genre in ("orchestral", "ambient") or name == "intro":
            if genre in ("orchestral", "ambient") or energy < 0.3:
                rhythm: tuple[tuple[float, float], ...] = ((0, 16),)
            else:
                rhythm = ((0, 8), (8, 8))
        elif genre in ("house", "techno"):
            rhythm = ((2, 1.5), (6, 1.5), (10, 1.5), (14, 1.5)) if genre == "techno" else ((3, 2), (6, 2), (10, 3))
        elif genre == "reggae":
            rhythm = ((4, 1.2), (12, 1.2))
        elif genre == "jazz":
            rhythm = ((0, 3), (6, 6))
        elif genre in ("rock",):
            rhythm = tuple((s, 1.8) for s in range(0, 16, 2))
        elif genre == "folk":
            self._arpeggio(t, chord, v)
            return
        elif genre in ("lofi", "hip hop"):
            rhythm = ((0, 7), (8, 6))
        elif energy > 0.6:
            rhythm = ((0, 3), (4, 3), (8, 3), (12, 3)) if name != "chorus" else tuple((s, 1.8) for s in range(0, 16, 2))
        else:
            rhythm = ((0, 6), (6, 2), (8, 8))
        for s, length in rhythm:
            for p in chord:
                self.add("chords", t, s, length, p, v)

    def _arpeggio(self, t: float, chord: list[int], velocity: float) -> None:
        pattern = [chord[0] - 12, chord[1], chord[2], chord[1]]
        for s in range(0, 16, 2):
            self.add("chords", t, s, 4, pattern[(s // 2) % 4], velocity - (0 if s % 8 == 0 else 10))

    def _melody(
        self,
        name: str,
        b: int,
        t: float,
        degree: int,
        chord: list[int],
        motif: list[tuple[int, int, int]],
        velocity: float,
    ) -> None:
        """The motif on this bar's chord: stated, answered a step higher, varied, then a cadence on a chord tone."""
        phrase_bar = b % 4
        register = {"verse": 0, "chorus": 2, "bridge": 1}.get(name, 0)
        pcs = [p % 12 for p in chord]
        root_index = (degree if degree < 4 else degree - 7) + register
        if phrase_bar == 3:  # cadence: a long chord tone
            target = self.tonic + _scale_note(self.scale, root_index)
            pitch = self._near(target, pcs)
            self.add("lead", t, 0, 6, pitch, velocity - 8)
            self.add("lead", t, 8, 8, self._near(pitch, pcs), velocity - 10)
            return
        shift = 1 if phrase_bar == 1 else 0
        notes = motif
        if phrase_bar == 2:  # vary the tail: the last notes move the other way
            notes = [*motif[:-2], *[(s, -step + 4, length) for s, step, length in motif[-2:]]]
        for s, step, length in notes:
            target = self.tonic + _scale_note(self.scale, root_index + step + shift)
            pitch = self._near(target, pcs) if s % 8 == 0 else self._in_scale(target)
            self.add("lead", t, s, length * 0.95, pitch, velocity - (0 if s % 4 == 0 else 8))

    def _in_scale(self, target: int) -> int:
        pcs = [(self.style.root + d) % 12 for d in self.scale]
        return self._near(target, pcs)
