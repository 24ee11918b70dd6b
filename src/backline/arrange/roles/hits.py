"""Horn-section accents: close 3-4 voice stabs on hits, pushes and big downbeats.

The section plays only where a band's horns would punctuate: the chart's hits, its
pushed chords, the downbeat of a high-intensity section (intensity >= 70) and the
final chord. Everywhere else it is silent.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from backline.arrange.events import NoteEvent, make_note
from backline.arrange.roles._common import (
    EPS,
    base_velocity,
    build_regions,
    clamp_vel,
    params_for_bar,
    voicing_range,
)
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.voicing import choose_voicing

__all__ = ["HornHits", "PATTERNS"]

PATTERNS = ("stabs",)

#: Sections at or above this intensity get a stab on their downbeat.
LOUD = 70


class HornHits:
    """Horn stabs.

    Params: ``pattern`` (``stabs``), ``length`` (beats a stab lasts; default 0.5),
    ``downbeats`` (also stab the downbeats of loud sections; default true).
    """

    name = "hits"
    PARAMS: dict[str, object] = {"pattern": "stabs", "length": 0.5, "downbeats": True}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Notes for the whole song (see the module docstring)."""
        lo, hi = voicing_range(spec, 55, 84, "horn voicings")
        regions = build_regions(bars)
        pcache: dict[str, dict[str, object]] = {}
        notes: list[NoteEvent] = []
        prev: tuple[int, ...] | None = None
        ri = 0
        nreg = len(regions)
        for bar in bars:
            bs = float(bar.start)
            be = float(bar.end)
            params = params_for_bar(spec, bar, pcache)
            length = float(params.get("length", 0.5))  # type: ignore[arg-type]
            downbeats = bool(params.get("downbeats", True))
            while ri < nreg and regions[ri].end <= bs + EPS:
                ri += 1
            vel = base_velocity(bar, 70, 115)
            j = ri
            while j < nreg and regions[j].start < be - EPS:
                reg = regions[j]
                j += 1
                if reg.chord is None or reg.facts is None or reg.facts.bass_only:
                    continue
                starts_here = reg.start >= bs - EPS
                at: float | None = None
                dur = length
                accent = 1.0
                if bar.last_bar and (reg.end >= be - EPS):
                    at = max(reg.start, bs)
                    dur = be - at
                    accent = 0.9
                elif starts_here and reg.fermata:
                    at = reg.start
                    dur = reg.end - at
                elif starts_here and (reg.hit or reg.push):
                    at = reg.start
                    accent = 1.1
                elif (
                    downbeats
                    and bar.section_start
                    and bar.kind == "body"
                    and bar.intensity >= LOUD
                    and reg.start <= bs + EPS
                ):
                    at = bs
                if at is None:
                    continue
                v = choose_voicing(reg.chord, "close", prev, lo, hi, center=71.0)
                if not v:
                    continue
                prev = v
                end = min(at + dur, reg.end)
                for p in v:
                    notes.append(make_note(at, end - at, p, clamp_vel(vel * accent)))
        return notes
