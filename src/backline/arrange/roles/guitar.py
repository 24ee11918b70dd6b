"""Rhythm guitar: strums on real chord shapes, Freddie-Green fours, funk chanks, skanks...

Chord shapes come from a search over the six strings (E2 A2 D3 G3 B3 E4) within a
four-fret span, the chord's bass note on the lowest sounding string, with its 3rd and
7th; the shape used for a chord is the one closest to the previous shape. A strum is
played as onsets staggered across the strings (down strokes low to high, up strokes high
to low on fewer strings), a few milliseconds apart depending on the tempo. Freddie Green
plays root-7-3 / root-3-7 shells with the root on the low string; the bossa thumb plays the
root on beat 1 (the fifth on 3, or the new chord's bass when the chord changes there)
under a root-3-7 shell plucked by the fingers.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from functools import lru_cache

from backline.arrange.events import NoteEvent, make_note
from backline.arrange.roles._common import (
    EPS,
    ChordFacts,
    Grid,
    bar_density_grid,
    base_velocity,
    build_regions,
    chord_facts,
    clamp_vel,
    held_length,
    params_for_bar,
)
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.voicing import choose_voicing, voice_leading_cost
from backline.model.chord import Chord

__all__ = ["Guitar", "PATTERNS", "STRINGS", "guitar_shapes", "strum_rhythm"]

#: Open-string pitches, low to high.
STRINGS = (40, 45, 50, 55, 59, 64)
#: Patterns this role plays.
PATTERNS = ("strum", "strum8", "freddie", "chank", "skank", "arpeggio", "power", "bossa", "boom-chick")

# (time in bar, duration, stroke, accent); strokes: D down, U up, F Freddie shell,
# C chank (muted top strings), S skank (top strings), P power chord, B bass note, A arpeggio.
Stroke = tuple[float, float, str, float]

_STRUM4: list[Stroke] = [(0, 1, "D", 1.0), (1, 0.5, "D", 0.8), (1.5, 1, "U", 0.7), (2.5, 0.5, "U", 0.72), (3, 0.5, "D", 0.85), (3.5, 0.5, "U", 0.7)]  # fmt: skip


def _even(length: float, step: float, dur: float, stroke: str, alt: str | None = None) -> list[Stroke]:
    n = max(1, round(length / step))
    return [
        (i * step, dur, alt if alt and i % 2 else stroke, 1.0 if (i * step) % 1 < EPS else 0.78)
        for i in range(n)
    ]


def _group(pattern: str, size: float, bar_no: int, dens: float) -> list[Stroke]:
    if pattern == "strum":
        if dens < 0.35:
            return [(0.0, 2.0, "D", 1.0), (2.0, 2.0, "D", 0.85)][: 1 if size < 3 else 2]
        if abs(size - 3) < EPS:
            return [(0.0, 1.0, "D", 1.0), (1.0, 1.0, "D", 0.8), (2.0, 0.5, "D", 0.8), (2.5, 0.5, "U", 0.7)]
        return [s for s in _STRUM4 if s[0] < size - EPS]
    if pattern == "strum8":
        return _even(size, 0.5, 0.5, "D", "U")
    if pattern == "freddie":
        return _even(size, 1.0, 0.45, "F")
    if pattern == "chank":
        base = [(0, 0.2, "C", 1.0), (0.75, 0.15, "C", 0.75), (1.5, 0.15, "C", 0.85), (2, 0.2, "C", 0.95), (2.75, 0.15, "C", 0.75), (3.5, 0.15, "C", 0.85)]  # fmt: skip
        return [s for s in base if s[0] < size - EPS]
    if pattern == "skank":
        out = [(float(b), 0.3, "S", 1.0) for b in range(1, int(size), 2)]
        if dens > 0.65:
            out += [(b + 0.5, 0.2, "S", 0.7) for b in range(int(size))]
        return sorted(out)
    if pattern == "arpeggio":
        return _even(size, 0.5, 1.0, "A")
    if pattern == "power":
        return _even(size, 0.5, 0.4, "P")
    if pattern == "bossa":
        bass = [(0.0, 1.0, "B", 1.0)] + ([(2.0, 1.0, "B", 0.9)] if size >= 3 else [])
        chords = [(0.5, 0.5, "S", 0.8), (1.5, 0.5, "S", 0.85)] if bar_no % 2 == 0 else [(1.0, 0.5, "S", 0.8), (2.5, 0.5, "S", 0.85)]  # fmt: skip
        if size >= 4:
            chords += [(3.0, 0.5, "S", 0.8)] if bar_no % 2 == 0 else [(3.5, 0.5, "S", 0.8)]
        return sorted(bass + [c for c in chords if c[0] < size - EPS])
    if pattern == "boom-chick":
        return [(float(b), 0.4, "S", 0.9) for b in range(1, int(size), 2)] or [(0.0, 0.4, "S", 0.9)]
    return _even(size, 1.0, 0.9, "D")


def strum_rhythm(pattern: str, grid: Grid, bar_no: int, dens: float) -> list[Stroke]:
    """The strokes of one bar (times from the bar start)."""
    if grid.compound:
        if pattern == "arpeggio":
            return _even(grid.length, 0.5, 1.0, "A")
        if pattern in ("skank", "boom-chick"):
            return [(p + 0.5, 0.3, "S", 0.9) for p, _ in grid.pulses]
        if pattern == "chank":
            return [(p, 0.2, "C", 1.0) for p, _ in grid.pulses] + [
                (p + 1.0, 0.15, "C", 0.75) for p, _ in grid.pulses
            ]
        stroke = "P" if pattern == "power" else "F" if pattern == "freddie" else "D"
        out = [(p, 1.0, stroke, 1.0 if i == 0 else 0.88) for i, (p, _) in enumerate(grid.pulses)]
        if dens >= 0.4 and stroke == "D":
            out += [(p + 1.0, 0.5, "U", 0.7) for p, _ in grid.pulses]
        return sorted(out)
    if all(g[1] >= 2 - EPS and abs(g[1] - round(g[1])) < EPS for g in grid.groups):
        out = []
        for gi, (gs, glen) in enumerate(grid.groups):
            for t, d, s, a in _group(pattern, glen, bar_no + gi, dens):
                out.append((gs + t, d, s, a))
        return sorted(out)
    if pattern == "arpeggio":
        return _even(grid.length, 0.5, 1.0, "A")
    stroke = {"power": "P", "freddie": "F", "chank": "C", "skank": "S", "boom-chick": "S"}.get(pattern, "D")
    return [(ps, pl * 0.9, stroke, 1.0 if i == 0 else 0.85) for i, (ps, pl) in enumerate(grid.pulses)]


@lru_cache(maxsize=4096)
def guitar_shapes(chord: Chord) -> tuple[tuple[int, ...], ...]:
    """Playable shapes for ``chord`` (sounding pitches, low to high), best first.

    Four to six strings, fretted notes within a four-fret span, the chord's bass note on
    the lowest string, the 3rd and the 7th present when the chord has them.
    """
    f = chord_facts(chord)
    return _shapes(f.bass, f.root, f.tones, f.third, f.seventh, f.fifth)


@lru_cache(maxsize=4096)
def _shapes(
    bass: int, root: int, tones: frozenset[int], third: int | None, seventh: int | None, fifth: int | None
) -> tuple[tuple[int, ...], ...]:
    required = {bass}
    if third is not None:
        required.add(third)
    if seventh is not None:
        required.add(seventh)
    found: dict[tuple[int, ...], float] = {}
    for low_string in (0, 1, 2):
        for pos in range(0, 11):
            window = range(max(1, pos), pos + 4)
            opts: list[list[int]] = []
            for s in range(low_string, 6):
                open_p = STRINGS[s]
                o: list[int] = []
                if s == low_string:
                    o = [fr for fr in ([0] if pos <= 3 else []) + list(window) if (open_p + fr) % 12 == bass]
                else:
                    if pos <= 3 and open_p % 12 in tones:
                        o.append(0)
                    o += [fr for fr in window if (open_p + fr) % 12 in tones]
                    if s == low_string + 1 and low_string == 0:
                        o.append(-1)  # the classic muted 5th string of a 6th-string shape
                if not o:
                    o = [-1] if s != low_string else []
                opts.append(o)
            if not opts[0]:
                continue
            # depth-first over the strings
            stack: list[tuple[int, list[int]]] = [(0, [])]
            while stack:
                i, chosen = stack.pop()
                if i == len(opts):
                    pitches = [STRINGS[low_string + k] + fr for k, fr in enumerate(chosen) if fr >= 0]
                    fretted = [fr for fr in chosen if fr > 0]
                    if fretted and max(fretted) - min(fretted) > 3:
                        continue
                    if len(pitches) < 4 or any(b <= a for a, b in itertools.pairwise(pitches)):
                        continue
                    pcs = {p % 12 for p in pitches}
                    if not required <= pcs:
                        continue
                    score = (
                        len(pitches) * 0.6 - chosen.count(-1) * 1.5 - (min(fretted) if fretted else 0) * 0.15
                    )
                    if fifth is not None and fifth in pcs:
                        score += 0.5
                    score += 0.3 * len(pcs & tones)
                    # the top three strings should not be all the same pitch class
                    key = tuple(pitches)
                    if score > found.get(key, -1e9):
                        found[key] = score
                    continue
                for fr in opts[i]:
                    stack.append((i + 1, [*chosen, fr]))
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(k for k, _ in ranked[:8])


def _freddie(f: ChordFacts) -> tuple[int, ...]:
    r = 40 + (f.bass - 40) % 12  # bass note on the low strings: E2..D#3
    sev = f.seventh if f.seventh is not None else (f.fifth if f.fifth is not None else f.root)
    third = f.third if f.third is not None else (f.fifth if f.fifth is not None else f.root)
    a = r + (sev - f.bass) % 12
    b = r + 12 + (third - f.bass) % 12
    if b - a > 9:
        b -= 12
    return tuple(sorted({r, a, b}))


class Guitar:
    """Rhythm guitar.

    Params: ``pattern`` (one of :data:`PATTERNS`; default ``strum``), ``density`` 0-1.
    """

    name = "guitar"
    PARAMS: dict[str, object] = {"pattern": "strum", "density": 0.5}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Notes for the whole song (see the module docstring)."""
        lo = max(spec.low, 40)
        hi = min(spec.high, 88)
        regions = build_regions(bars)
        nreg = len(regions)
        pcache: dict[str, dict[str, object]] = {}
        notes: list[NoteEvent] = []
        prev_shape: tuple[int, ...] | None = None
        shapes: dict[int, tuple[int, ...]] = {}
        uppers: dict[int, tuple[int, ...]] = {}
        prev_upper: tuple[int, ...] | None = None
        ri = 0
        for bar in bars:
            bs = float(bar.start)
            blen = float(bar.beats)
            be = bs + blen
            while ri < nreg and regions[ri].end <= bs + EPS:
                ri += 1
            params = params_for_bar(spec, bar, pcache)
            pattern = str(params.get("pattern", "strum"))
            dens, grid = bar_density_grid(bar, params)
            strokes = (
                [(0.0, blen, "D", 0.95)] if bar.last_bar else strum_rhythm(pattern, grid, bar.index, dens)
            )
            vel0 = base_velocity(bar, 45, 100)
            ms = bar.tempo / 60000.0  # beats per millisecond
            j = ri
            while j < nreg and regions[j].start < be - EPS:
                reg = regions[j]
                j += 1
                f = reg.facts
                if reg.chord is None or f is None or f.bass_only:
                    continue
                shape = shapes.get(id(reg))
                if shape is None:
                    shape = self._shape(reg.chord, f, pattern, prev_shape, lo, hi)
                    shapes[id(reg)] = shape
                    if shape:
                        prev_shape = shape
                if not shape:
                    continue
                starts_here = reg.start >= bs - EPS
                rs = max(reg.start, bs)
                re_ = min(reg.end, be)
                if reg.hit or reg.fermata:
                    if starts_here:
                        self._emit(
                            notes,
                            reg.start,
                            held_length(reg, reg.start),
                            shape,
                            "D",
                            vel0 + 12,
                            9 * ms,
                            reg.end,
                        )
                    continue
                inside = [s for s in strokes if rs - EPS <= bs + s[0] < re_ - EPS]
                if starts_here and not (inside and abs(bs + inside[0][0] - reg.start) < EPS):
                    nxt = bs + inside[0][0] if inside else re_
                    if reg.push or not inside:
                        inside.insert(0, (reg.start - bs, max(nxt - reg.start, 0.25), "D", 1.0))
                for t, d, stroke, acc in inside:
                    at = bs + t
                    end = min(at + d, reg.end)
                    if end - at <= EPS:
                        continue
                    vel = vel0 * acc
                    if pattern == "arpeggio" or stroke == "A":
                        k = round(t * 2) % 8
                        idx = (0, 2, 3, 4, 3, 2, 1, 2)[k] % len(shape)
                        notes.append(make_note(at, end - at, shape[idx], clamp_vel(vel)))
                    elif stroke == "B":
                        p = shape[0]
                        # the fifth on 3, unless the chord changes there: then the thumb
                        # plays the new chord's bass with the bassist
                        if t >= 2 - EPS and f.fifth is not None and abs(at - reg.start) > EPS:
                            p5 = shape[0] + (f.fifth - f.bass) % 12
                            p = p5 - 12 if p5 - 12 >= lo else p5
                        notes.append(make_note(at, end - at, p, clamp_vel(vel)))
                    elif stroke == "S" and pattern == "bossa":
                        # the fingers pluck a root-3-7 shell over the thumb (the root names the chord)
                        upper = uppers.get(id(reg))
                        if upper is None:
                            upper = choose_voicing(
                                reg.chord, "shell", prev_upper, max(lo, 50), min(hi, 74), center=61.0
                            ) or (shape[-3:] if len(shape) > 3 else shape)
                            uppers[id(reg)] = upper
                            prev_upper = upper
                        self._emit(notes, at, end - at, upper, "U", vel, 5.5 * ms, reg.end)
                    elif stroke in ("S", "C"):
                        self._emit(notes, at, end - at, shape[-3:] if len(shape) > 3 else shape, "U" if stroke == "S" else "D", vel * (0.8 if stroke == "C" else 1.0), 5.5 * ms, reg.end)  # fmt: skip
                    else:
                        gap = (6 if stroke == "U" else 9) * ms
                        self._emit(notes, at, end - at, shape, stroke, vel, gap, reg.end)
        return notes

    @staticmethod
    def _shape(
        chord: Chord, f: ChordFacts, pattern: str, prev: tuple[int, ...] | None, lo: int, hi: int
    ) -> tuple[int, ...]:
        return _pick_shape(chord, pattern, prev, lo, hi)

    @staticmethod
    def _emit(
        notes: list[NoteEvent], at: float, dur: float, shape: Sequence[int], stroke: str,
        vel: float, per_string: float, limit: float,
    ) -> None:  # fmt: skip
        order = shape if stroke != "U" else tuple(reversed(shape))[:4]
        end = min(at + dur, limit)
        v = clamp_vel(vel)
        append = notes.append
        t = at
        for p in order:
            if end - t <= 1e-5:
                break
            append(make_note(t, end - t, p, v))
            t += per_string
            v = v - 1 if v > 2 else v


@lru_cache(maxsize=16384)
def _pick_shape(
    chord: Chord, pattern: str, prev: tuple[int, ...] | None, lo: int, hi: int
) -> tuple[int, ...]:
    f = chord_facts(chord)
    if pattern == "freddie":
        v = _freddie(f)
    elif pattern == "power":
        r = 40 + (f.root - 40) % 12
        top = f.fifth if f.fifth is not None else (f.third if f.third is not None else f.root)
        v = (r, r + (top - f.root) % 12 or 12, r + 12)
        v = tuple(sorted(set(v)))
        if f.bass != f.root:
            b = 40 + (f.bass - 40) % 12
            v = tuple(sorted({b, *(p if p > b else p + 12 for p in v)}))
    else:
        cands = [s for s in guitar_shapes(chord) if s[0] >= lo and s[-1] <= hi]
        if not cands:
            return choose_voicing(chord, "triad", prev, max(lo, 48), min(hi, 79))
        best = cands[0]
        if prev is not None:
            best = min(
                cands[:5], key=lambda s: (voice_leading_cost(prev, s) * 0.5 - 2.0 * (s in cands[:2]), s)
            )
        v = best
    if v and (v[0] < lo or v[-1] > hi):
        return tuple(p for p in v if lo <= p <= hi)
    return v
