"""The electric/upright bass for pattern styles: root/fifth, syncopated, latin, funk, ...

Every chord change gets the chord's bass note (the slash bass, else the root) at the
exact change time, including changes on beat 3 and pushed chords; the other notes of a
pattern are the chord's fifth, octave, third, seventh or a scale step chosen from the
chord itself (never assuming major). N.C. rests; a hit plays one short note and rests.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from backline.arrange.events import NoteEvent, make_note
from backline.arrange.roles._common import (
    EPS,
    ChordFacts,
    Grid,
    Region,
    bar_density_grid,
    base_velocity,
    build_regions,
    clamp_vel,
    held_length,
    nearest_pitch,
    params_for_bar,
)
from backline.arrange.roles.base import BarContext, PartSpec
from backline.errors import StyleError

__all__ = ["Bass", "PATTERNS", "bass_range", "bar_pattern"]

# (time in the group, duration, kind, accent). Kinds: R bass note, 5 fifth above,
# L fifth below, 8 octave, 3 third, 7 seventh (else octave), 6 sixth/scale step,
# A approach into the next chord's bass note, T0..T3 arpeggio tones, N the next chord's
# bass note anticipated and tied over the bar line (the tumbao; else the octave).
Ev = tuple[float, float, str, float]

PAT4: dict[str, list[Ev]] = {
    "root": [(0, 2, "R", 1.0), (2, 2, "R", 0.9)],
    "root5": [(0, 2, "R", 1.0), (2, 2, "5", 0.9)],
    "two-feel": [(0, 2, "R", 1.0), (2, 2, "5", 0.9)],
    "syncopated": [(0, 1.5, "R", 1.0), (1.5, 1, "R", 0.85), (2.5, 1, "5", 0.9), (3.5, 0.5, "8", 0.8)],
    "eighths": [(i * 0.5, 0.45, "R", 1.0 if i % 2 == 0 else 0.82) for i in range(8)],
    "tumbao": [(0, 1.5, "R", 1.0), (1.5, 1.5, "5", 0.9), (3, 1, "N", 0.95)],
    "bossa": [(0, 1.5, "R", 1.0), (1.5, 0.5, "5", 0.82), (2, 1.5, "5", 0.95), (3.5, 0.5, "R", 0.82)],
    "samba": [
        (0, 0.75, "R", 1.0), (0.75, 0.25, "R", 0.8), (1, 1, "L", 0.95),
        (2, 0.75, "R", 1.0), (2.75, 0.25, "R", 0.8), (3, 1, "L", 0.95),
    ],
    "reggae": [(0, 1, "R", 1.0), (1, 0.5, "R", 0.8), (2.5, 0.5, "3", 0.85), (3, 1, "5", 0.9)],
    "boom-chick": [(0, 1, "R", 1.0), (2, 1, "L", 0.95)],
    "funk": [
        (0, 0.5, "R", 1.0), (0.75, 0.25, "8", 0.8), (1.5, 0.25, "R", 0.85), (1.75, 0.25, "7", 0.75),
        (2, 0.5, "R", 0.95), (2.75, 0.25, "5", 0.8), (3.5, 0.25, "8", 0.82), (3.75, 0.25, "A", 0.75),
    ],
    "motown": [(0, 1.5, "R", 1.0), (1.5, 0.5, "R", 0.8), (2, 1, "5", 0.9), (3, 0.5, "6", 0.8), (3.5, 0.5, "A", 0.85)],
    "arpeggio": [(0, 1, "T0", 1.0), (1, 1, "T1", 0.85), (2, 1, "T2", 0.9), (3, 1, "T3", 0.85)],
    "pedal": [(0, 4, "R", 1.0)],
}  # fmt: skip

PAT3: dict[str, list[Ev]] = {
    "root": [(0, 3, "R", 1.0)],
    "pedal": [(0, 3, "R", 1.0)],
    "root5": [(0, 2, "R", 1.0), (2, 1, "5", 0.85)],
    "two-feel": [(0, 2, "R", 1.0), (2, 1, "5", 0.85)],
    "boom-chick": [(0, 1, "R", 1.0)],
    "arpeggio": [(0, 1, "T0", 1.0), (1, 1, "T1", 0.85), (2, 1, "T2", 0.85)],
    "eighths": [(i * 0.5, 0.45, "R", 1.0 if i % 2 == 0 else 0.82) for i in range(6)],
    "syncopated": [(0, 1.5, "R", 1.0), (1.5, 1.5, "5", 0.85)],
    "funk": [(0, 0.5, "R", 1.0), (0.75, 0.25, "8", 0.8), (1.5, 0.5, "R", 0.85), (2.5, 0.5, "5", 0.8)],
}

#: The patterns this role plays (the contract vocabulary).
PATTERNS = tuple(PAT4)

_SPARSE = {"root", "root5", "two-feel", "boom-chick", "reggae", "pedal"}
_COMPOUND_BUSY = [("R", "3"), ("5", "6"), ("7", "6"), ("5", "3")]


def bass_range(spec: PartSpec) -> tuple[int, int]:
    """The playing range: the spec's range, or E1..G3 when the spec leaves it open."""
    lo = spec.low if spec.low > 0 else 28
    hi = spec.high if spec.high < 127 else 55
    if hi - lo < 12:
        raise StyleError(f"part {spec.name!r}: range {lo}..{hi} is narrower than an octave")
    return lo, hi


def _group_events(pattern: str, size: float) -> list[Ev]:
    if abs(size - 4) < EPS:
        return PAT4.get(pattern, PAT4["root5"])
    if abs(size - 3) < EPS:
        return PAT3.get(pattern, PAT3["root5"])
    base = PAT4.get(pattern, PAT4["root5"])
    out: list[Ev] = []
    for t, d, k, a in base:
        if t < size - EPS:
            out.append((t, min(d, size - t), k, a))
    return out or [(0.0, size, "R", 1.0)]


def bar_pattern(pattern: str, grid: Grid, last: bool = False) -> list[Ev]:
    """The pattern's events for one bar of ``grid`` (times from the bar start)."""
    if last:
        return [(0.0, grid.length, "R", 1.0)]
    if grid.compound:
        n = len(grid.pulses)
        if pattern in ("root", "pedal"):
            if n >= 4:
                return [(0.0, 1.5 * (n // 2), "R", 1.0), (1.5 * (n // 2), 1.5 * (n - n // 2), "R", 0.9)]
            return [(0.0, grid.length, "R", 1.0)]
        if pattern == "eighths":
            return [(i * 0.5, 0.45, "R", 1.0 if i % 3 == 0 else 0.8) for i in range(round(grid.length * 2))]
        if pattern in _SPARSE:
            out: list[Ev] = [(0.0, 1.5, "R", 1.0)]
            for i in range(1, n):
                out.append((i * 1.5, 1.5, "5" if i == n // 2 else "8" if i % 2 else "R", 0.85))
            return out
        out = []
        for i in range(n):
            k1, k2 = _COMPOUND_BUSY[i % 4]
            out.append((i * 1.5, 1.0, k1, 1.0 if i == 0 else 0.9))
            out.append((i * 1.5 + 1.0, 0.5, k2, 0.75))
        return out
    if (
        len(grid.groups) == 1
        and abs(grid.groups[0][1] - grid.length) < EPS
        and grid.length in (2.0, 3.0, 4.0)
    ):
        return _group_events(pattern, grid.length)
    if all(abs(g[1] - round(g[1])) < EPS for g in grid.groups) and all(g[1] >= 2 for g in grid.groups):
        out = []
        for gi, (gs, glen) in enumerate(grid.groups):
            for t, d, kind, acc in _group_events(pattern, glen):
                out.append((gs + t, d, kind, acc if gi == 0 else acc * 0.92))
        return out
    # odd eighth groupings (7/8, 5/8) and other grids: one note per pulse
    out = []
    for i, (ps, pl) in enumerate(grid.pulses):
        if i == 0:
            out.append((ps, pl, "R", 1.0))
        elif pattern in _SPARSE and ps not in grid.strong:
            continue
        else:
            out.append((ps, pl * 0.9, ("5", "8", "3", "5")[(i - 1) % 4], 0.85))
    return out


class Bass:
    """Pattern bass (every style that does not walk).

    Params: ``pattern`` (one of :data:`PATTERNS`; default ``root5``), ``density`` 0-1
    (lower drops the weaker notes of the pattern; scaled by the bar's intensity).
    """

    name = "bass"
    PARAMS: dict[str, object] = {"pattern": "root5", "density": 0.5}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Notes for the whole song (see the module docstring)."""
        lo, hi = bass_range(spec)
        home = min(max(lo + 10, 36), hi - 10)
        regions = build_regions(bars)
        notes: list[NoteEvent] = []
        pcache: dict[str, dict[str, object]] = {}
        ri = 0
        prev = float(home)
        busy_until = -1.0
        last_root: dict[int, int] = {}  # id(region) -> pitch of its bass note
        nreg = len(regions)
        tied_to = -1.0  # a tumbao's beat-4 note rings over this bar line: no note there
        for bi, bar in enumerate(bars):
            bs = float(bar.start)
            blen = float(bar.beats)
            be = bs + blen
            while ri < nreg and regions[ri].end <= bs + EPS:
                ri += 1
            params = params_for_bar(spec, bar, pcache)
            pattern = str(params.get("pattern", "root5"))
            following = bars[bi + 1] if bi + 1 < len(bars) else None
            can_tie = (
                following is not None
                and not following.last_bar
                and str(params_for_bar(spec, following, pcache).get("pattern", "root5")) == pattern
            )
            dens, grid = bar_density_grid(bar, params)
            evs = bar_pattern(pattern, grid, last=bar.last_bar)
            if dens < 0.3 and len(evs) > 2:
                evs = [e for e in evs if e[3] >= 0.85] or evs[:1]
            if pattern == "boom-chick" and bar.index % 2 and not grid.compound:
                evs = [(t, d, "5" if k == "L" else k, a) for t, d, k, a in evs]
            elif pattern == "two-feel" and rng.random() < 0.35 and len(evs) == 2 and evs[1][1] >= 2:
                evs = [evs[0], (evs[1][0], 1.0, evs[1][2], evs[1][3]), (evs[1][0] + 1.0, 1.0, "A", 0.85)]
            vel0 = base_velocity(bar, 55, 110)
            j = ri
            while j < nreg and regions[j].start < be - EPS:
                reg = regions[j]
                j += 1
                f = reg.facts
                if f is None:
                    continue
                rs = max(reg.start, bs)
                re_ = min(reg.end, be)
                starts_here = reg.start >= bs - EPS
                if reg.hit or reg.fermata:
                    if starts_here:
                        p = nearest_pitch(f.bass, 0.5 * prev + 0.5 * home, lo, hi)
                        notes.append(
                            make_note(reg.start, held_length(reg, reg.start), p, clamp_vel(vel0 + 12))
                        )
                        prev = p
                    continue
                inside = [e for e in evs if rs - EPS <= bs + e[0] < re_ - EPS]
                if starts_here and not (inside and abs(bs + inside[0][0] - reg.start) < EPS):
                    nxt = inside[0][0] + bs if inside else re_
                    dur = nxt - reg.start
                    if reg.push and nxt >= be - EPS:
                        dur = min(reg.end, be + 1.0) - reg.start
                    inside.insert(0, (reg.start - bs, dur, "R", 1.0))
                for t, d, kind, acc in inside:
                    at = bs + t
                    if at < busy_until - EPS and not (starts_here and abs(at - reg.start) < EPS):
                        continue
                    end = min(at + d, reg.end)
                    if end - at <= EPS:
                        continue
                    is_change = starts_here and abs(at - reg.start) < EPS
                    if abs(at - tied_to) < EPS and (kind == "R" or is_change):
                        continue  # the anticipated bass note is tied over: rest on 1
                    root_p = last_root.get(id(reg))
                    if root_p is None:
                        root_p = nearest_pitch(f.bass, 0.5 * prev + 0.5 * home, lo, hi)
                        last_root[id(reg)] = root_p
                    if kind == "N" and not is_change:
                        target = None
                        tie_end = be
                        if not can_tie or reg.hit or reg.fermata:
                            pass
                        elif reg.end > be + EPS:  # the chord goes on: its own bass note, early
                            target, tie_end = root_p, min(reg.end, be + 1.5)
                        else:
                            anticip = _anticipation_target(reg, be)
                            if anticip is not None and anticip.facts is not None:
                                target = last_root.get(id(anticip))
                                if target is None:
                                    target = nearest_pitch(
                                        anticip.facts.bass, 0.5 * prev + 0.5 * home, lo, hi
                                    )
                                    last_root[id(anticip)] = target
                                tie_end = min(anticip.end, be + 1.5)
                        if target is not None:
                            # rings through the next downbeat up to the 5th on 2&
                            notes.append(make_note(at, tie_end - at, target, clamp_vel(vel0 * acc)))
                            tied_to = be
                            prev = target
                            busy_until = tie_end
                            continue
                        kind = "8"
                    if is_change or kind == "R":
                        p = root_p
                    else:
                        strong = any(abs(t - s) < EPS for s in grid.strong)
                        p = _pick(kind, f, reg, root_p, prev, at + d, lo, hi, strong, last_root, home)
                    notes.append(make_note(at, end - at, p, clamp_vel(vel0 * acc)))
                    prev = p
                    busy_until = end
        return notes


def _anticipation_target(reg: Region, bar_end: float) -> Region | None:
    """The chord a tumbao anticipates from beat 4: the next chord when it starts at the
    next bar line right after ``reg`` and is a plain sounding chord (no hit, fermata or
    push: those have their own attack), else None."""
    nxt = reg.next
    if (
        nxt is None
        or nxt.facts is None
        or nxt.facts.bass_only
        or nxt.hit
        or nxt.fermata
        or nxt.push
        or abs(reg.end - bar_end) > EPS
        or abs(nxt.start - reg.end) > EPS
    ):
        return None
    return nxt


def _fit(p: int, lo: int, hi: int) -> int:
    while p > hi:
        p -= 12
    while p < lo:
        p += 12
    return p


def _pick(
    kind: str, f: ChordFacts, reg: Region, root_p: int, prev: float, note_end: float,
    lo: int, hi: int, strong: bool, roots: dict[int, int], home: int,
) -> int:  # fmt: skip
    fifth = f.fifth if f.fifth is not None else f.bass
    if kind == "5":
        return _fit(root_p + (fifth - f.bass) % 12, lo, hi)
    if kind == "L":
        p = root_p - (12 - (fifth - f.bass) % 12) % 12
        if (fifth - f.bass) % 12 == 0:
            p = root_p - 12
        return p if p >= lo else _fit(p + 12, lo, hi)
    if kind == "8":
        return root_p + 12 if root_p + 12 <= hi else (root_p - 12 if root_p - 12 >= lo else root_p)
    if kind == "3":
        pc = f.third if f.third is not None else fifth
        return _fit(root_p + (pc - f.bass) % 12, lo, hi)
    if kind == "7":
        if f.seventh is None:
            return root_p + 12 if root_p + 12 <= hi else root_p
        return _fit(root_p + (f.seventh - f.bass) % 12, lo, hi)
    if kind.startswith("T"):
        order = [
            f.bass,
            f.third if f.third is not None else fifth,
            fifth,
            f.seventh if f.seventh is not None else f.bass,
        ]
        i = int(kind[1:]) % 4
        if i == 3 and f.seventh is None:
            return root_p + 12 if root_p + 12 <= hi else root_p
        return _fit(root_p + (order[i] - f.bass) % 12, lo, hi)
    if strong:
        return _fit(root_p + (fifth - f.bass) % 12, lo, hi)
    if kind == "6":
        pc = (f.root + 9) % 12
        if pc not in f.scale:
            pc = fifth
        return _fit(root_p + (pc - f.bass) % 12, lo, hi)
    # "A": a step into the next chord's bass note when it comes right after this note
    nxt = reg.next
    if (
        nxt is not None
        and nxt.facts is not None
        and abs(nxt.start - reg.end) < EPS
        and nxt.start - note_end < 0.5 + EPS
    ):
        target = roots.get(id(nxt))
        if target is None:
            target = nearest_pitch(nxt.facts.bass, 0.5 * prev + 0.5 * home, lo, hi)
            roots[id(nxt)] = target
        for step in ((-1, 1) if prev < target else (1, -1)) + ((-2, 2) if prev < target else (2, -2)):
            q = target + step
            if lo <= q <= hi and q % 12 in f.scale and q != target:
                return q
    pc = fifth if f.third is None else f.third
    return _fit(root_p + (pc - f.bass) % 12, lo, hi)
