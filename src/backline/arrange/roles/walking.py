"""Walking bass: one note per pulse that leads from chord to chord.

Each chord starts on its bass note (slash bass, else root) at the change; strong beats
(1 and 3 in 4/4) get the root, fifth or third (the root again on the downbeat of a
chord held over the bar line; beat 3 the root or fifth before the third), weak beats
scale tones on the way; the line stays under D3 when the range allows; the last note
before a change approaches the next chord's bass note from a half or whole step (or,
now and then, from its fifth). The line never repeats a note when it can move, turns
around before the edges of the range, and walks in 3 in a jazz waltz.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from backline.arrange.events import NoteEvent, make_note
from backline.arrange.roles._common import (
    EPS,
    ChordFacts,
    bar_grid,
    base_velocity,
    build_regions,
    clamp_vel,
    held_length,
    nearest_pitch,
    params_for_bar,
)
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.roles.bass import bass_range

__all__ = ["WalkingBass", "PATTERNS"]

#: ``walk`` walks every bar; ``two-then-walk`` plays half notes when the bar's intensity is
#: below 40 or its variation is A, and walks otherwise.
PATTERNS = ("walk", "two-then-walk")

#: The top of the walking line: a walking bass lives in E1..D3.
_CEILING = 50


class _Slot:
    __slots__ = ("down", "dur", "last", "strong", "t", "vel")

    def __init__(
        self, t: float, dur: float, strong: bool, vel: float, last: bool, down: bool = False
    ) -> None:
        self.down = down  # the bar's downbeat
        self.t = t
        self.dur = dur
        self.strong = strong
        self.vel = vel
        self.last = last


def _bar_slots(bar: BarContext, mode: str) -> list[_Slot]:
    bs = float(bar.start)
    blen = float(bar.beats)
    grid = bar_grid(bar.time) if abs(float(bar.time.bar_beats) - blen) < EPS else bar_grid(bar.time, blen)
    vel = base_velocity(bar, 58, 108)
    if bar.last_bar:
        return [_Slot(bs, blen, True, vel, True)]
    if mode == "two":
        strong = list(grid.strong)
        out = []
        for i, s in enumerate(strong):
            e = strong[i + 1] if i + 1 < len(strong) else blen
            out.append(_Slot(bs + s, e - s, True, vel if i == 0 else vel * 0.92, False, i == 0))
        return out
    st = grid.strong
    return [
        _Slot(bs + ps, pl, any(abs(ps - s) < EPS for s in st), vel if ps == 0 else vel * 0.9, False, ps == 0)
        for ps, pl in grid.pulses
    ]


class WalkingBass:
    """Jazz walking bass.

    Params: ``pattern`` (``walk`` or ``two-then-walk``), ``chromatic`` 0-1 (how often the
    approach note is chromatic; chromatic notes outside the chord-scale are also kept
    under a small budget so the line stays in the harmony).
    """

    name = "walking"
    PARAMS: dict[str, object] = {"pattern": "walk", "chromatic": 0.5}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Notes for the whole song (see the module docstring)."""
        lo, hi = bass_range(spec)
        # the line keeps under D3 (the register where a walking bass sits), when the range allows
        hi = min(hi, max(_CEILING, lo + 19))
        home = min(max(lo + 12, 36), hi - 10)
        regions = build_regions(bars)
        pcache: dict[str, dict[str, object]] = {}
        # 1. slots (one per pulse, split at chord changes)
        slots: list[_Slot] = []
        chromatic = 0.5
        for bar in bars:
            params = params_for_bar(spec, bar, pcache)
            pat = str(params.get("pattern", "walk"))
            chromatic = float(params.get("chromatic", 0.5))  # type: ignore[arg-type]
            mode = "walk"
            if pat == "two-then-walk" and (bar.intensity < 40 or bar.variation == "A"):
                mode = "two"
            slots.extend(_bar_slots(bar, mode))
        # split slots at region starts that fall inside them
        starts = [r.start for r in regions]
        out_slots: list[_Slot] = []
        k = 0
        for s in slots:
            end = s.t + s.dur
            while k < len(starts) and starts[k] <= s.t + EPS:
                k += 1
            cur = s
            kk = k
            while kk < len(starts) and starts[kk] < end - EPS:
                x = starts[kk]
                out_slots.append(_Slot(cur.t, x - cur.t, cur.strong, cur.vel, cur.last, cur.down))
                cur = _Slot(x, end - x, False, s.vel * 0.95, s.last)
                kk += 1
            out_slots.append(cur)
        slots = out_slots
        # 2. walk region by region
        notes: list[NoteEvent] = []
        planned: dict[int, int] = {}
        prev = float(home)
        direction = 1
        total = 0
        outside = 0
        budget = 0.05 * chromatic
        si = 0
        ns = len(slots)
        for reg in regions:
            while si < ns and slots[si].t < reg.start - EPS:
                si += 1
            rs: list[_Slot] = []
            sj = si
            while sj < ns and slots[sj].t < reg.end - EPS:
                rs.append(slots[sj])
                sj += 1
            f = reg.facts
            if f is None or not rs:
                continue
            if reg.hit or reg.fermata:
                p = planned.get(id(reg)) or nearest_pitch(f.bass, prev, lo, hi)
                s0 = rs[0]
                notes.append(make_note(s0.t, held_length(reg, s0.t), p, clamp_vel(s0.vel + 10)))
                prev = p
                continue
            # the bass note at the change
            p0 = planned.get(id(reg))
            if p0 is None:
                p0 = nearest_pitch(f.bass, 0.6 * prev + 0.4 * home, lo, hi)
                if p0 == int(prev) and p0 + 12 <= hi and len(rs) > 1:
                    p0 += 12
            if p0 > hi - 5:
                direction = -1
            elif p0 < lo + 5:
                direction = 1
            elif rng.random() < 0.3:
                direction = -direction
            pitches: list[int] = [p0]
            nxt = reg.next
            approach = (
                len(rs) >= 2
                and nxt is not None
                and nxt.facts is not None
                and abs(nxt.start - reg.end) < EPS
                and not rs[-1].last
            )
            target: int | None = None
            a_pitch: int | None = None
            if approach:
                assert nxt is not None and nxt.facts is not None
                target = planned.get(id(nxt))
                if target is None:
                    span_len = len(rs)
                    ref = p0 + direction * min(7, 2 * span_len)
                    target = nearest_pitch(nxt.facts.bass, ref, lo, hi)
                    if target > hi - 3 and target - 12 >= lo:
                        target -= 12
                    elif target < lo + 3 and target + 12 <= hi:
                        target += 12
                    planned[id(nxt)] = target
                allow_out = (outside + 1) <= budget * (total + 8)
                a_pitch = _approach(
                    f, nxt.facts, target, p0, rs[-1].strong, chromatic, allow_out, lo, hi, rng
                )
            n_mid = len(rs) - 1 - (1 if approach else 0)
            goal = a_pitch if a_pitch is not None else p0 + direction * 5
            arch = 0.0
            if a_pitch is not None and abs(a_pitch - p0) < 3 and n_mid >= 1:
                arch = 5.0 * direction
            last = p0
            for m in range(n_mid):
                frac = (m + 1) / (n_mid + 1)
                x = p0 + (goal - p0) * frac + arch * math.sin(math.pi * frac)
                slot = rs[1 + m]
                avoid = a_pitch if m == n_mid - 1 else None
                q = _choose_tone(f, x, last, avoid, slot.strong, lo, hi, rng, slot.down)
                pitches.append(q)
                last = q
            if a_pitch is not None:
                if a_pitch == last:
                    a_pitch = _approach(f, nxt.facts, target, last, True, 0.0, False, lo, hi, rng) if nxt and nxt.facts and target is not None else a_pitch  # fmt: skip
                pitches.append(a_pitch)
            for s, p in zip(rs, pitches, strict=False):
                notes.append(make_note(s.t, s.dur, p, clamp_vel(s.vel)))
                total += 1
                if p % 12 not in f.scale:
                    outside += 1
            prev = pitches[-1]
            si = sj
        return notes


def _approach(
    f: ChordFacts, nf: ChordFacts, target: int, prev: int, strong: bool, chromatic: float,
    allow_out: bool, lo: int, hi: int, rng: random.Random,
) -> int:  # fmt: skip
    """The note before a change: a half/whole step (or the fifth) into ``target``."""
    from_below = prev < target or (prev == target and rng.random() < 0.5)
    if strong:
        # on a strong beat the approach must still be a chord tone of this chord: the root,
        # fifth or third (the triad names the chord), else any chord tone
        third = frozenset(() if f.third is None else (f.third,))
        for pcs in (_triad(f) - third, third, f.tones):
            for step in (-1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6, 6, -7, 7):
                q = target + step
                if lo <= q <= hi and q % 12 in pcs and q != prev:
                    return q
        return nearest_pitch(f.bass, prev, lo, hi)
    order_half = (-1, 1) if from_below else (1, -1)
    order_whole = (-2, 2) if from_below else (2, -2)
    roll = rng.random()
    options: list[int] = []
    if roll < chromatic:
        options += [target + s for s in order_half]
        options += [target + s for s in order_whole]
    else:
        options += [target + s for s in order_whole]
        options += [target + s for s in order_half]
    if rng.random() < 0.1:
        five = target + 7 if target + 7 <= hi else target - 5
        options.insert(0, five)
    # in order: a scale note, or a chromatic half step when the roll and the budget allow
    for q in options:
        if not lo <= q <= hi or q == prev:
            continue
        if q % 12 in f.scale or (allow_out and roll < chromatic and abs(q - target) == 1):
            return q
    for q in options:
        if lo <= q <= hi and q % 12 in f.scale:
            return q
    return nearest_pitch(f.bass, target + 3, lo, hi)  # pragma: no cover


def _triad(f: ChordFacts) -> frozenset[int]:
    """The bass note, root, fifth and third of ``f``: the strong-beat notes of the line."""
    return frozenset(pc for pc in (f.bass, f.root, f.fifth, f.third) if pc is not None)


def _choose_tone(
    f: ChordFacts, x: float, prev: int, avoid: int | None, strong: bool, lo: int, hi: int,
    rng: random.Random, down: bool = False,
) -> int:  # fmt: skip
    pcs = _triad(f) if strong else f.scale
    cx = round(x)
    best: list[tuple[float, int]] = []
    for q in range(max(lo, cx - 7), min(hi, cx + 7) + 1):
        if q % 12 not in pcs or q in (prev, avoid):
            continue
        cost = abs(q - x)
        if strong and q % 12 not in (f.bass, f.root):
            # a bar's downbeat inside a long chord takes its bass note again; beat 3 the
            # root or the fifth before the third
            cost += 6.0 if down else (4.0 if q % 12 != f.fifth else 0.0)
        if abs(q - prev) > 9:
            cost += 4
        best.append((cost, q))
    if not best:
        return nearest_pitch(f.bass, x, lo, hi)
    best.sort()
    if len(best) > 1 and rng.random() < 0.25 and best[1][0] - best[0][0] < 1.5:
        return best[1][1]
    return best[0][1]
