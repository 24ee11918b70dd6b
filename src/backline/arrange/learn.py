"""Learn a groove from a 1-4 bar MIDI loop, as arranger keyboards do.

- **Drums** (:func:`learn_drum_grid`): every note is mapped to a drum voice and
  quantised onto a step grid (sixteenths, eighth triplets or eighths, whichever fits
  best) -> a :class:`~backline.arrange.styles.model.DrumGrid` that a style can use as
  its A or B groove (:func:`style_with_drum_grid`, or :meth:`DrumGrid.to_toml` for a
  style file).
- **Bass or keys** (:func:`learn_pattern`): a pattern written over a stated source
  chord (``"C7"``, ``"Cmaj7"``...). Each note is classified by its function in that
  chord - root, third, fifth, seventh, a scale step of the chord-scale, or a chromatic
  interval - with its octave; the :class:`PatternRole` (role name ``"pattern"``) plays
  the same functions over whatever chord the chart has (the root becomes the chart's
  bass note, the third the chord's third, sus or not, and so on), so the loop follows
  any chart. :func:`pattern_part_toml` writes the part for a style file.
"""

from __future__ import annotations

import io
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from backline.arrange.events import NoteEvent
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.styles.model import DRUM_VOICES, DrumGrid, Style
from backline.errors import StyleError
from backline.model.chord import Chord, parse_chord
from backline.model.song import TimeSignature

__all__ = [
    "LoopNote",
    "read_loop",
    "learn_drum_grid",
    "LearnedPattern",
    "learn_pattern",
    "PatternRole",
    "pattern_part_toml",
    "style_with_drum_grid",
    "style_with_part",
    "degree_interval",
]

_VOICE_OF: dict[int, str] = {}
for _name, _key in DRUM_VOICES.items():
    _VOICE_OF.setdefault(_key, _name)


@dataclass(frozen=True, slots=True)
class LoopNote:
    start: float
    duration: float
    pitch: int
    velocity: int
    channel: int


def read_loop(source: str | os.PathLike[str] | bytes) -> tuple[list[LoopNote], TimeSignature]:
    """The notes (in quarter-note beats) and time signature of a MIDI file."""
    import mido

    try:
        if isinstance(source, bytes):
            mid = mido.MidiFile(file=io.BytesIO(source))
        else:
            mid = mido.MidiFile(str(source))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise StyleError(
            f"{source if not isinstance(source, bytes) else 'MIDI data'}: not a MIDI file: {exc}"
        ) from None
    tpb = mid.ticks_per_beat
    ts = TimeSignature(4, 4)
    notes: list[LoopNote] = []
    for track in mid.tracks:
        now = 0
        open_: dict[tuple[int, int], tuple[int, int]] = {}
        for msg in track:
            now += msg.time
            if msg.type == "time_signature":
                ts = TimeSignature(msg.numerator, msg.denominator)
            elif msg.type == "note_on" and msg.velocity > 0:
                open_[(msg.channel, msg.note)] = (now, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                started = open_.pop((msg.channel, msg.note), None)
                if started is not None:
                    t0, vel = started
                    notes.append(LoopNote(t0 / tpb, max(now - t0, 1) / tpb, msg.note, vel, msg.channel))
        for (ch, note), (t0, vel) in open_.items():
            notes.append(LoopNote(t0 / tpb, max(now - t0, 1) / tpb, note, vel, ch))
    notes.sort(key=lambda n: (n.start, n.pitch))
    if not notes:
        raise StyleError("the MIDI loop has no notes")
    return notes, ts


def _loop_bars(notes: Sequence[LoopNote], ts: TimeSignature) -> int:
    bar = float(ts.bar_beats)
    last = max(n.start for n in notes)
    bars = max(1, math.ceil((last + 1e-6) / bar))
    if bars > 4:
        raise StyleError(f"the loop is {bars} bars of {ts}; learn from a loop of 1 to 4 bars")
    return bars


def learn_drum_grid(
    source: str | os.PathLike[str] | bytes, *, steps: int | None = None, channel: int | None = 9
) -> DrumGrid:
    """A drum grid from a MIDI drum loop (notes of ``channel``; None = every channel).

    ``steps`` per quarter note: None picks 4, 3 or 2, whichever quantises best.
    Velocities become the digits 1-9 of the grid (velocity / 14).
    """
    notes, ts = read_loop(source)
    if channel is not None:
        notes = [n for n in notes if n.channel == channel]
        if not notes:
            raise StyleError(f"no drum notes on MIDI channel {channel + 1}")
    if steps is None:
        best = None
        for s in (2, 4, 3):
            err = sum(abs(n.start * s - round(n.start * s)) / s for n in notes)
            if best is None or err < best[0] - 1e-6:
                best = (err, s)
        assert best is not None
        steps = best[1]
    bars = _loop_bars(notes, ts)
    bar_steps_f = ts.bar_beats * steps
    if bar_steps_f.denominator != 1:
        raise StyleError(f"{steps} steps per beat do not divide a bar of {ts}")
    total = int(bar_steps_f) * bars
    rows: dict[str, list[int]] = {}
    for n in notes:
        voice = _VOICE_OF.get(n.pitch)
        if voice is None:
            raise StyleError(
                f"drum note {n.pitch} at beat {n.start:g} has no voice name in backline's kit map "
                f"(known keys: {', '.join(str(k) for k in sorted(_VOICE_OF))})"
            )
        i = round(n.start * steps) % total
        row = rows.setdefault(voice, [0] * total)
        row[i] = max(row[i], n.velocity)
    voices = tuple(
        (v, "".join("." if x == 0 else str(max(1, min(9, round(x / 14)))) for x in row))
        for v, row in sorted(rows.items(), key=lambda kv: DRUM_VOICES[kv[0]])
    )
    return DrumGrid(ts, steps, voices, bars)


@dataclass(frozen=True)
class LearnedPattern:
    """A bass/keys loop as chord functions: (offset beats, duration, token, octave, velocity).

    ``token``: ``"1"``, ``"3"``, ``"5"``, ``"7"`` (chord functions), ``"s<k>"`` (k-th step of
    the chord-scale, from 0), or ``"c<n>"`` (n semitones above the root, kept literally).
    ``base`` is the MIDI note of the root the octaves count from.
    """

    events: tuple[tuple[float, float, str, int, int], ...]
    length: float
    meter: TimeSignature
    base: int

    def params(self) -> dict[str, Any]:
        return {
            "pattern": "learned",
            "events": [list(e) for e in self.events],
            "length": self.length,
            "meter": str(self.meter),
            "base": self.base,
        }


def _functions(ch: Chord) -> dict[str, int]:
    q = ch.quality
    ivs = set(q.intervals)
    found = next((i for i in (4, 3) if i in ivs), None)
    third: int = found if found is not None else (5 if 5 in ivs else (2 if 2 in ivs else 7))
    fifth = next((i for i in (7, 6, 8) if i in ivs), 7)
    seventh = next((i for i in (10, 11, 9) if i in ivs and (i != 9 or q.seventh == "bb7" or q.six)), 12)
    return {"1": 0, "3": third, "5": fifth, "7": seventh}


def _scale_steps(ch: Chord) -> list[int]:
    r = ch.root_pc
    return sorted({(pc - r) % 12 for pc in ch.scale})


def degree_interval(token: str, chord: Chord) -> int:
    """Semitones above the chord's root for a learned token over ``chord`` (the "1" of a
    slash chord is its bass note)."""
    if token == "1":
        return (chord.bass_pc - chord.root_pc) % 12
    f = _functions(chord)
    if token in f:
        return f[token]
    if token.startswith("s"):
        steps = _scale_steps(chord)
        k = int(token[1:])
        return steps[k % len(steps)] + 12 * (k // len(steps))
    if token.startswith("c"):
        return int(token[1:])
    raise StyleError(f"unknown learned degree {token!r}")


def learn_pattern(
    source: str | os.PathLike[str] | bytes, chord: str | Chord = "C", *, channel: int | None = None
) -> LearnedPattern:
    """A bass or keys loop written over ``chord`` -> a pattern that follows any chart."""
    src = parse_chord(chord) if isinstance(chord, str) else chord
    notes, ts = read_loop(source)
    notes = [n for n in notes if (channel is None and n.channel != 9) or n.channel == channel]
    if not notes:
        raise StyleError("the loop has no pitched notes (drums are on channel 10)")
    bars = _loop_bars(notes, ts)
    f = _functions(src)
    by_iv = {v % 12: k for k, v in f.items() if k != "1"}
    by_iv[0] = "1"
    steps = _scale_steps(src)
    r = src.root_pc
    lowest = min(n.pitch for n in notes)
    base = lowest - ((lowest - r) % 12)
    events = []
    for n in notes:
        iv = (n.pitch - r) % 12
        octave = (n.pitch - base) // 12
        if iv in by_iv:
            tok = by_iv[iv]
            if tok == "7" and f["7"] == 12:
                tok = "1"
        elif iv in steps:
            tok = f"s{steps.index(iv)}"
        else:
            tok = f"c{iv}"
        events.append((round(n.start, 6), round(n.duration, 6), tok, int(octave), int(n.velocity)))
    return LearnedPattern(tuple(events), float(ts.bar_beats) * bars, ts, base)


class PatternRole:
    """Plays a learned pattern (role ``"pattern"``) over the chart's chords.

    Params: ``events``, ``length``, ``meter``, ``base`` (see :class:`LearnedPattern`).
    The loop restarts at each section; in bars of another length it is cut or repeats
    from its start. N.C. rests; a hit plays only the note at the hit.
    """

    name = "pattern"
    PARAMS: dict[str, Any] = {"events": [], "length": 4.0, "base": 36}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Notes for the whole song."""
        params = {**self.PARAMS, **spec.params}
        events = [tuple(e) for e in params["events"]]
        length = float(params["length"])
        base = int(params["base"])
        out: list[NoteEvent] = []
        pos_in_loop = 0.0
        for bar in bars:
            if bar.section_start:
                pos_in_loop = 0.0
            b0, blen = float(bar.start), float(bar.beats)
            for off, dur, tok, octave, vel in events:
                rel = float(off) - pos_in_loop
                if rel < 0:
                    rel += length
                if rel >= blen - 1e-9:
                    continue
                t = b0 + rel
                sp = bar.chord_at(t)  # type: ignore[arg-type]
                if sp is None or sp.chord is None:
                    continue
                if sp.hit and abs(float(sp.start) - t) > 1e-6:
                    continue
                ch = sp.chord
                root = base + ((ch.root_pc - base) % 12)
                if root - base > 6:
                    root -= 12
                pitch = root + degree_interval(str(tok), ch) + 12 * int(octave)
                while pitch < spec.low:
                    pitch += 12
                while pitch > spec.high:
                    pitch -= 12
                if not spec.low <= pitch <= spec.high:
                    continue
                d = min(float(dur), float(sp.start + sp.duration) - t)
                out.append(NoteEvent(t, max(d, 0.05), pitch, int(vel)))
            pos_in_loop = (pos_in_loop + blen) % length
        return out


def pattern_part_toml(
    pattern: LearnedPattern, name: str = "bass", program: int = 33, low: int = 28, high: int = 60
) -> str:
    """A ``[[parts]]`` table for a style file that plays ``pattern``."""
    ev = ", ".join(f'[{o:g}, {d:g}, "{t}", {k}, {v}]' for o, d, t, k, v in pattern.events)
    return (
        f'[[parts]]\nname = "{name}"\nrole = "pattern"\nprogram = {program}\nrange = [{low}, {high}]\n'
        f'params = {{ length = {pattern.length:g}, meter = "{pattern.meter}", base = {pattern.base}, '
        f"events = [{ev}] }}\n"
    )


def style_with_drum_grid(style: Style, grid: DrumGrid, variation: str = "A") -> Style:
    """``style`` with its drum grid for ``variation`` replaced by ``grid``."""
    grids = {**style.drums, variation: grid}
    parts = tuple(
        replace(p, params={**p.params, "grids": grids}) if p.role == "drums" else p for p in style.parts
    )
    return replace(style, drums=grids, parts=parts)


def style_with_part(style: Style, spec: PartSpec, *, replace_name: str | None = None) -> Style:
    """``style`` with ``spec`` added, or replacing the part called ``replace_name``."""
    if replace_name is None:
        return replace(style, parts=(*style.parts, spec))
    if replace_name not in {p.name for p in style.parts}:
        raise StyleError(f"style {style.name} has no part {replace_name!r}")
    return replace(style, parts=tuple(spec if p.name == replace_name else p for p in style.parts))
