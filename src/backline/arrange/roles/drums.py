"""The drummer: groove grids per variation, fills, crashes, hits and pushes, intros, endings.

Params (from the style's ``[drums]`` tables; the loader puts them in ``spec.params``):

- ``grids``: grid name -> :class:`~backline.arrange.styles.model.DrumGrid`; names are
  ``A``, ``B`` (main variations), ``fill`` (and optionally ``fill_B``), ``intro`` (the
  count-in bar of a drums-only intro), ``ending`` (the final bar); ``A:3/4`` etc. give a
  grid for one meter.
- ``kit``: ``standard``, ``room``, ``jazz``, ``brushes`` or ``power`` (the part's program).
- ``crash`` (default true): crash cymbal and kick on section downbeats and on pushes.
- ``meter_strict`` (default false): a grid written for another meter raises
  :class:`~backline.errors.StyleError` instead of being adapted.
- ``clave`` (default false; the part's ``params``): the grids' bars follow one song-wide
  count (bar 1 of a 2-bar grid on odd bars of the song, intro included) instead of
  restarting at each section, so that an odd-length section or a pickup never crosses the
  clave; a style that sets it gives 2-bar fill grids (the fill bar keeps its side).

Meter adaptation (the choice made here): a grid written for one meter plays a bar of
another by *scaling* when both have the same number of counted pulses (4/4 <-> 12/8,
3/4 <-> 9/8, 2/4 <-> 6/8), otherwise by *tiling and cutting* the grid in quarter notes
(a 4/4 groove over a 3/4 bar plays its first three beats; over 5/4 it adds beat one
again), which is what drummers do over an odd bar. Styles that care (waltzes, the
5/4 and 7/8 styles) give native grids.

Intensity scales velocities (0.7x at 0, 1.3x at 100; above 100 compressed, see
:func:`velocity`) and below 25 drops ghost notes.
Hits: crash, kick and snare on the hit, then only cymbal time (quietly) until the next
chord; N.C. hits (stops) are left silent (the engine silences the whole band there).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from backline.arrange.events import NoteEvent, make_note
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.styles.model import DrumGrid
from backline.errors import StyleError
from backline.model.song import TimeSignature

__all__ = ["Drums", "adapt_grid", "velocity"]

KICK, SNARE, CRASH = 36, 38, 49
_TIME_KEEPERS = frozenset({42, 44, 51, 53, 70})
_LONG = frozenset({49, 57, 51, 52, 55, 46})
GHOST = 60
KNEE, KNEE_SLOPE = 100.0, 0.3


@lru_cache(maxsize=1024)
def adapt_grid(
    grid: DrumGrid, num: int, den: int, strict: bool = False
) -> tuple[tuple[tuple[float, int, int], ...], ...]:
    """The grid's strokes for a bar of ``num/den``: one tuple of (offset, key, velocity)
    per bar of the grid (see the module docstring for how other meters are adapted)."""
    target = TimeSignature(num, den)
    src = grid.meter
    src_len = float(grid.bar_beats)
    tgt_len = float(target.bar_beats)
    same = src.numerator == num and src.denominator == den
    if not same and strict:
        raise StyleError(
            f"this style's drum grid is written in {src} and cannot play a {target} bar "
            f"(the style sets meter_strict); choose a style for {target}"
        )
    out: list[tuple[tuple[float, int, int], ...]] = []
    for b in range(grid.bars):
        lo, hi = b * src_len, (b + 1) * src_len
        strokes = [
            (h.offset - lo, h.pitch, h.velocity) for h in grid.hits if lo - 1e-9 <= h.offset < hi - 1e-9
        ]
        if same or abs(src_len - tgt_len) < 1e-9:
            res = strokes
        elif src.pulses == target.pulses and src.pulses > 1:
            k = tgt_len / src_len
            res = [(o * k, p, v) for o, p, v in strokes]
        else:
            res = []
            rep = 0
            while rep * src_len < tgt_len - 1e-9:
                for o, p, v in strokes:
                    t = o + rep * src_len
                    if t < tgt_len - 1e-9:
                        res.append((t, p, v))
                rep += 1
        out.append(tuple(sorted(res)))
    return tuple(out)


def velocity(v: float) -> int:
    """A stroke's velocity from its grid level times the intensity gain: unchanged up to
    :data:`KNEE`, then compressed (slope :data:`KNEE_SLOPE`), so that an accent (``X`` 115)
    at full intensity (x1.3) lands near 115 and not on 127: accents keep their contrast
    with normal strokes and leave headroom for the humanisation spread."""
    if v > KNEE:
        v = KNEE + (v - KNEE) * KNEE_SLOPE
    return max(1, min(127, int(v)))


def _grid_for(grids: Mapping[str, DrumGrid], names: Sequence[str], time: TimeSignature) -> DrumGrid:
    ts = str(time)
    for n in names:
        g = grids.get(f"{n}:{ts}")
        if g is not None:
            return g
    for n in names:
        g = grids.get(n)
        if g is not None:
            return g
    g = grids.get("A")
    if g is None:
        raise StyleError("the drums part has no grids (give at least [drums.A])")
    return g


class Drums:
    """The drums role (see the module docstring)."""

    name = "drums"
    PARAMS: dict[str, Any] = {"kit": "standard", "grids": {}, "crash": True, "meter_strict": False}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Drum notes for the whole song on the straight grid."""
        params = {**self.PARAMS, **spec.params}
        grids: Mapping[str, DrumGrid] = params["grids"]
        strict = bool(params.get("meter_strict", False))
        crash_on = bool(params.get("crash", True))
        clave = bool(params.get("clave", False))
        lo, hi = spec.low, spec.high
        notes: list[NoteEvent] = []
        bar_in_section = 0
        # song-wide bar count from the chart's first bar: a clave style's phase never restarts
        phase = -next((i for i, b in enumerate(bars) if b.kind == "body"), 0)
        in_hit = False
        held_until = -1.0  # end of the fermata being held (a piece continuing it is no new hold)
        held_chord: object = None
        for bar in bars:
            if bar.section_start:
                bar_in_section = 0
            if bar.kind == "intro" and not bar.chords:
                names: tuple[str, ...] = ("intro",)
            elif bar.kind == "ending" and bar.last_bar:
                names = ("ending",)
            elif bar.fill and not bar.last_bar:
                names = ("fill_B", "fill") if bar.variation == "B" else ("fill",)
            else:
                names = (bar.variation, "A")
            grid = _grid_for(grids, names, bar.time)
            loops = adapt_grid(grid, bar.time.numerator, bar.time.denominator, strict)
            strokes = loops[(phase if clave else bar_in_section) % len(loops)]
            b0 = float(bar.start)
            gain = 0.7 + 0.6 * bar.intensity / 100.0
            ghosts = bar.intensity >= 25
            # windows of this bar: hits (accent then time only) and where hits keep resting
            hit_from: list[tuple[float, float]] = []
            accents: list[float] = []
            cont_push = False
            held: list[tuple[float, float]] = []  # fermatas: crash and kick, then let ring
            for sp in bar.chords:
                s, e = float(sp.start), float(sp.start + sp.duration)
                if sp.fermata:
                    held.append((s, e))
                    if not (abs(s - held_until) < 1e-9 and sp.chord is held_chord and s == b0):
                        v = velocity(112 * gain)
                        ring = max(e, s + 1.0) - s
                        notes.append(make_note(s, ring, CRASH, v))
                        notes.append(make_note(s, 0.5, KICK, v))
                    held_until, held_chord = e, sp.chord
                    in_hit = False
                    continue
                if sp.hit and sp.chord is not None:
                    in_hit = True
                    hit_from.append((s, e))
                    accents.append(s)
                elif sp.chord is None and sp.hit:
                    in_hit = False
                elif sp.chord is None:
                    if in_hit:
                        hit_from.append((s, e))
                else:
                    in_hit = False
                    if sp.push and sp.start > bar.start:
                        accents.append(s)
                    elif sp.push and sp.start == bar.start:
                        cont_push = True
            for off, pitch, vel in strokes:
                if not ghosts and vel < GHOST:
                    continue
                t = b0 + off
                if any(s - 1e-9 <= t < e - 1e-9 for s, e in held):
                    continue
                quiet = False
                for s, e in hit_from:
                    if s - 1e-9 <= t < e - 1e-9:
                        quiet = True
                        break
                if quiet and pitch not in _TIME_KEEPERS:
                    continue
                vf = vel * gain * (0.6 if quiet else 1.0)
                notes.append(make_note(t, 0.5 if pitch in _LONG else 0.25, pitch, velocity(vf)))
            if (
                crash_on
                and bar.section_start
                and not cont_push
                and bar.kind != "intro"
                and names[0] != "ending"
            ):
                accents.append(b0)
            for t in accents:
                v = velocity(112 * gain)
                notes.append(make_note(t, 1.0, CRASH, v))
                notes.append(make_note(t, 0.25, KICK, v))
                if t in [s for s, _ in hit_from]:
                    notes.append(make_note(t, 0.25, SNARE, v))
            bar_in_section += 1
            phase += 1
        out = [n for n in notes if lo <= n.pitch <= hi]
        out.sort(key=lambda n: (n.start, n.pitch))
        # the same key struck twice at one instant (a crash over a grid crash): keep one
        dedup: list[NoteEvent] = []
        for n in out:
            if dedup and dedup[-1].pitch == n.pitch and abs(dedup[-1].start - n.start) < 1e-6:
                if n.velocity > dedup[-1].velocity:
                    dedup[-1] = n
                continue
            dedup.append(n)
        return dedup
