"""Keyboard comping: voice-led voicings played in a style's rhythm.

The voicing of each chord is chosen once, at the change, as the candidate that moves
least from the previous one (:mod:`backline.arrange.voicing`); notes are cut at the
next change, so nothing is held across it. Every chord gets at least one attack, a
pushed chord is attacked where it starts, a hit is one short chord, N.C. is silence.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from backline.arrange.events import NoteEvent, make_note
from backline.arrange.roles._common import (
    EPS,
    Grid,
    bar_density_grid,
    base_velocity,
    build_regions,
    clamp_vel,
    held_length,
    params_for_bar,
    voicing_range,
)
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.voicing import choose_voicing, resolves_to_minor

__all__ = ["Comping", "PATTERNS", "DEFAULT_VOICING", "comp_rhythm"]

#: pattern -> the voicing style it uses unless the part says ``voicing``.
DEFAULT_VOICING: dict[str, str] = {
    "jazz": "rootless",
    "jazz-ballad": "rootless",
    "bossa": "rootless",
    "waltz": "rootless",
    "pop": "triad",
    "pop-ballad": "open",
    "rock": "triad",
    "funk": "close",
    "gospel": "open",
    "montuno": "triad",
    "organ": "close",
    "arpeggio": "open",
    "reggae": "triad",
    "stabs": "close",
}
PATTERNS = tuple(DEFAULT_VOICING)

Hit = tuple[float, float, float]  # (time in bar, duration, accent)

_JAZZ4: list[list[Hit]] = [
    [(0, 1.5, 1.0), (1.5, 0.5, 0.9)],  # Charleston
    [(1.5, 1.0, 1.0)],
    [(0, 0.5, 0.9), (2.5, 1.0, 1.0)],
    [(1, 0.5, 0.9), (2.5, 0.5, 1.0)],
    [(1.5, 0.5, 0.9), (3, 0.75, 0.95)],
    [(0, 2, 0.9)],
    [(0.5, 0.5, 0.9), (2, 1, 0.95)],
    [(1, 1.5, 0.95), (3.5, 0.5, 0.9)],
    [(2.5, 1.5, 1.0)],
]
_JAZZ3: list[list[Hit]] = [
    [(0, 1, 0.95)],
    [(1, 0.5, 0.9), (2, 0.75, 0.9)],
    [(1.5, 1, 0.95)],
    [(0, 1.5, 0.9), (2, 0.5, 0.85)],
    [(1, 1, 0.9)],
    [(0.5, 0.5, 0.9), (2, 1, 0.9)],
]
_BOSSA4 = ([(0, 1, 1.0), (1.5, 1, 0.9), (3, 1, 0.95)], [(1, 1, 0.9), (2.5, 1.5, 0.95)])
_MONTUNO4 = (
    [(0, 0.45, 1.0), (1, 0.45, 0.85), (1.5, 0.45, 0.9), (2.5, 0.45, 0.9), (3, 0.45, 0.85), (3.5, 0.45, 0.9)],
    [(0.5, 0.45, 0.9), (1, 0.45, 0.85), (2, 0.45, 0.9), (2.5, 0.45, 0.85), (3.5, 0.45, 0.9)],
)


def _even(length: float, step: float, dur: float, strong: float = 1.0, weak: float = 0.85) -> list[Hit]:
    n = max(1, round(length / step))
    return [(i * step, dur, strong if (i * step) % 1 < EPS else weak) for i in range(n)]


def _group_rhythm(pattern: str, size: float, bar_no: int, rng: random.Random, dens: float) -> list[Hit]:
    """A rhythm for a 2-, 3- or 4-beat group (4/4 tables, truncated or waltz versions)."""
    if pattern in ("jazz", "bossa") and (pattern == "jazz" or size != 4):
        cells = _JAZZ3 if abs(size - 3) < EPS else _JAZZ4
        cell = list(rng.choice(cells))
        if dens > 0.7 and rng.random() < 0.5:
            extra = rng.choice(cells)
            times = {c[0] for c in cell}
            cell = sorted(cell + [c for c in extra if c[0] not in times])
        elif dens < 0.3 and len(cell) > 1:
            cell = cell[:1]
        return [c for c in cell if c[0] < size - EPS]
    if pattern == "bossa":
        return list(_BOSSA4[bar_no % 2])
    if pattern == "montuno":
        return [c for c in _MONTUNO4[bar_no % 2] if c[0] < size - EPS]
    if pattern == "jazz-ballad":
        if dens > 0.6 and size >= 4:
            return [(0, 2.5, 0.9), (2.5, 1.5, 0.8)]
        return [(0, size, 0.9)]
    if pattern in ("pop", "rock"):
        if dens >= 0.6 or pattern == "rock":
            return _even(size, 0.5, 0.45)
        return _even(size, 1.0, 0.9)
    if pattern == "pop-ballad":
        if dens < 0.35 or size < 4:
            return [(0, size, 0.9)]
        return [(0, 2, 1.0), (2, 2, 0.85)]
    if pattern == "funk":
        base = [
            (0, 0.25, 1.0),
            (0.75, 0.25, 0.8),
            (1.5, 0.25, 0.85),
            (2.5, 0.25, 0.9),
            (2.75, 0.25, 0.8),
            (3.5, 0.25, 0.85),
        ]
        return [c for c in base if c[0] < size - EPS]
    if pattern == "gospel":
        base = [(0, 1.5, 1.0), (1.5, 0.5, 0.85), (2, 1, 0.95), (3, 0.5, 0.85), (3.5, 0.5, 0.9)]
        return [c for c in base if c[0] < size - EPS]
    if pattern == "organ":
        if dens > 0.65 and size >= 4:
            return [(0, 2, 0.9), (2, 2, 0.85)]
        return [(0, size, 0.9)]
    if pattern == "arpeggio":
        return _even(size, 0.5, 0.5, 0.95, 0.8)
    if pattern == "reggae":
        base = [(1, 0.3, 1.0), (3, 0.3, 1.0)]
        if dens > 0.6:
            base += [(1.5, 0.25, 0.75), (3.5, 0.25, 0.75)]
        return sorted(c for c in base if c[0] < size - EPS)
    if pattern == "waltz":
        if abs(size - 3) < EPS:
            return [(1, 0.8, 0.9), (2, 0.8, 0.85)]
        return [(c, 0.8, 0.9) for c in range(1, int(size))] or [(0, 0.8, 0.9)]
    if pattern == "stabs":
        return [(0, 0.4, 1.0), (2.5, 0.4, 0.95)] if dens > 0.45 and size >= 3 else [(0, 0.4, 1.0)]
    return _even(size, 1.0, 0.9)


def comp_rhythm(pattern: str, grid: Grid, bar_no: int, rng: random.Random, dens: float) -> list[Hit]:
    """Attack times (from the bar start), durations and accents for one bar."""
    if grid.compound:
        n = len(grid.pulses)
        # a waltz pattern in 6/8 or 9/8 comps like jazz (one chord per dotted quarter at
        # most), not every eighth: the bar is in two (or three), not six
        if pattern in ("pop", "rock", "gospel", "funk", "montuno", "reggae", "stabs"):
            if pattern == "reggae":
                return [(p + 0.5, 0.3, 0.9) for p, _ in grid.pulses]
            if dens < 0.4:
                return [(p, 1.4, 1.0 if i == 0 else 0.9) for i, (p, _) in enumerate(grid.pulses)]
            return [(i * 0.5, 0.45, 1.0 if i % 3 == 0 else 0.75) for i in range(3 * n)]
        if pattern == "arpeggio":
            return _even(grid.length, 0.5, 0.5, 0.95, 0.8)
        if pattern in ("jazz", "bossa", "waltz"):
            picks = [
                (p + rng.choice((0.0, 1.0)), 0.9, 0.9)
                for p, _ in grid.pulses
                if rng.random() < 0.5 + 0.3 * dens
            ]
            return picks or [(0.0, 1.4, 0.9)]
        return (
            [(0.0, grid.length, 0.9)]
            if n <= 2
            else [(0.0, 1.5 * (n // 2), 0.9), (1.5 * (n // 2), 1.5 * (n - n // 2), 0.85)]
        )
    groups = grid.groups
    if all(g[1] >= 2 - EPS and abs(g[1] - round(g[1])) < EPS for g in groups):
        out: list[Hit] = []
        for gi, (gs, glen) in enumerate(groups):
            for t, d, a in _group_rhythm(pattern, glen, bar_no + gi, rng, dens):
                out.append((gs + t, d, a))
        return out
    # odd eighth groupings: one attack per pulse (sparser for jazz)
    if pattern == "arpeggio":
        return _even(grid.length, 0.5, 0.5, 0.95, 0.8)
    out = []
    for i, (ps, pl) in enumerate(grid.pulses):
        if (
            pattern in ("jazz", "bossa", "jazz-ballad", "organ", "pop-ballad")
            and i
            and rng.random() > 0.5 * (1 + dens) - 0.25
        ):
            continue
        out.append((ps, pl * 0.9, 1.0 if i == 0 else 0.85))
    return out


class Comping:
    """Keys comping.

    Params: ``pattern`` (one of :data:`PATTERNS`; default ``pop``), ``voicing``
    (``rootless``, ``drop2``, ``shell``, ``triad``, ``open``; default per pattern),
    ``density`` 0-1 (scaled by the bar's intensity).
    """

    name = "comping"
    PARAMS: dict[str, object] = {"pattern": "pop", "voicing": None, "density": 0.5}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Notes for the whole song (see the module docstring)."""
        lo, hi = voicing_range(spec, 48, 88, "keyboard voicings")
        regions = build_regions(bars)
        nreg = len(regions)
        pcache: dict[str, dict[str, object]] = {}
        notes: list[NoteEvent] = []
        prev: tuple[int, ...] | None = None
        voiced: dict[int, tuple[int, ...]] = {}
        ri = 0
        busy_until = -1.0
        for bar in bars:
            bs = float(bar.start)
            blen = float(bar.beats)
            be = bs + blen
            while ri < nreg and regions[ri].end <= bs + EPS:
                ri += 1
            params = params_for_bar(spec, bar, pcache)
            pattern = str(params.get("pattern", "pop"))
            vstyle = str(params.get("voicing") or DEFAULT_VOICING.get(pattern, "triad"))
            dens, grid = bar_density_grid(bar, params)
            if bar.last_bar:
                hits: list[Hit] = [(0.0, blen, 0.95)]
            else:
                hits = comp_rhythm(pattern, grid, bar.index, rng, dens)
            vel0 = base_velocity(bar, 45, 100)
            j = ri
            while j < nreg and regions[j].start < be - EPS:
                reg = regions[j]
                j += 1
                if reg.chord is None or reg.facts is None or reg.facts.bass_only:
                    continue
                v = voiced.get(id(reg))
                if v is None:
                    # a montuno doubles its top voice in octaves: the root up there (the
                    # tumbao bass anticipates, so the piano's octaves name the chord)
                    top_pcs = frozenset((reg.facts.root,)) if pattern == "montuno" else None
                    to_minor = resolves_to_minor(reg.facts, reg.next_chord_facts)
                    v = choose_voicing(reg.chord, vstyle, prev, lo, hi, top=top_pcs, to_minor=to_minor)
                    voiced[id(reg)] = v
                    if v:
                        prev = v
                if not v:
                    continue
                starts_here = reg.start >= bs - EPS
                if reg.hit or reg.fermata:
                    if starts_here:
                        for p in v:
                            notes.append(
                                make_note(reg.start, held_length(reg, reg.start), p, clamp_vel(vel0 + 12))
                            )
                    continue
                rs = max(reg.start, bs)
                re_ = min(reg.end, be)
                inside = [h for h in hits if rs - EPS <= bs + h[0] < re_ - EPS]
                if (
                    starts_here
                    and (reg.push or not inside)
                    and not (inside and abs(bs + inside[0][0] - reg.start) < EPS)
                ):
                    nxt = bs + inside[0][0] if inside else re_
                    dur = nxt - reg.start
                    if reg.push and not inside:
                        dur = min(reg.end, be + 1.0) - reg.start
                    inside.insert(0, (reg.start - bs, max(dur, 0.25), 1.0))
                for n_i, (t, d, acc) in enumerate(inside):
                    at = bs + t
                    is_start = starts_here and abs(at - reg.start) < EPS
                    if at < busy_until - EPS and not is_start:
                        continue
                    end = min(at + d, reg.end)
                    if end - at <= EPS:
                        continue
                    vel = clamp_vel(vel0 * acc)
                    if pattern == "arpeggio":
                        k = (bar.index * 8 + round(t * 2)) % (2 * len(v) - 2 if len(v) > 2 else len(v))
                        idx = k if k < len(v) else 2 * len(v) - 2 - k
                        notes.append(make_note(at, end - at, v[idx], vel))
                    elif pattern == "montuno" and len(v) >= 3:
                        if n_i % 2 == 0:
                            top = v[-1]
                            group = [top - 12, top] if top - 12 >= lo else [top]
                        else:
                            group = list(v[1:-1])
                        for p in group:
                            notes.append(make_note(at, end - at, p, vel))
                    else:
                        for p in v:
                            notes.append(make_note(at, end - at, p, vel))
                    busy_until = end
        return notes
