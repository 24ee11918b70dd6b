"""Pads, strings and choir: sustained voice-led chords that swell into sections.

One voicing (3-5 voices, mid register) per chord, held until the next change: the root
in the lowest pad voice at every change (so the strings name the chord even over a
rootless piano), the upper voices chosen to move least from the last chord. In the bar before a new section the pad swells: the
chord is re-attacked on each pulse with rising velocity. ``choir`` doubles the top
voice an octave lower for an "aah" layer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from backline.arrange.events import NoteEvent, make_note
from backline.arrange.roles._common import (
    EPS,
    bar_grid,
    base_velocity,
    build_regions,
    clamp_vel,
    held_length,
    params_for_bar,
    voicing_range,
)
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.voicing import choose_voicing

__all__ = ["Pad", "PATTERNS"]

#: ``sustain`` holds (swelling only into louder sections), ``swell`` swells into every
#: section, ``choir`` is sustain with the top voice doubled an octave lower.
PATTERNS = ("sustain", "swell", "choir")


class Pad:
    """Sustained pad / strings / choir.

    Params: ``pattern`` (one of :data:`PATTERNS`; default ``sustain``), ``voicing``
    (default ``close``; ``open`` spreads it).
    """

    name = "pad"
    PARAMS: dict[str, object] = {"pattern": "sustain", "voicing": "close"}

    def generate(self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random) -> list[NoteEvent]:
        """Notes for the whole song (see the module docstring)."""
        lo, hi = voicing_range(spec, 50, 86, "a pad")
        regions = build_regions(bars)
        pcache: dict[str, dict[str, object]] = {}
        # swell windows: the bar before a section start
        swell: list[tuple[float, float, tuple[tuple[float, float], ...], float]] = []
        for i, bar in enumerate(bars[:-1]):
            nb = bars[i + 1]
            if not nb.section_start or nb.kind == "ending":
                continue
            pat = str(params_for_bar(spec, bar, pcache).get("pattern", "sustain"))
            if pat == "swell" or nb.intensity >= bar.intensity + 10:
                grid = bar_grid(bar.time)
                swell.append((float(bar.start), float(bar.end), grid.pulses, base_velocity(nb, 40, 95)))
        notes: list[NoteEvent] = []
        prev: tuple[int, ...] | None = None
        wi = 0
        for reg in regions:
            if reg.chord is None or reg.facts is None or reg.facts.bass_only:
                continue
            bar = bars[reg.first_bar]
            params = params_for_bar(spec, bar, pcache)
            pattern = str(params.get("pattern", "sustain"))
            vstyle = str(params.get("voicing", "close"))
            # the root in the lowest pad voice at every change, the upper voices led from the last chord
            v = choose_voicing(
                reg.chord,
                vstyle,
                prev,
                lo,
                hi,
                center=66.0 if pattern != "choir" else 64.0,
                lowest=reg.facts.root,
            )
            if not v:
                continue
            prev = v
            voices = list(v)
            if len(voices) < 3:  # power chords and bare intervals: add the octave
                top = voices[0] + 12
                voices.append(top if top <= hi and top not in voices else voices[-1] - 12)
                voices.sort()
            if pattern == "choir" and v[-1] - 12 >= lo and v[-1] - 12 not in voices:
                voices = sorted([*voices, v[-1] - 12])
            vel = base_velocity(bar, 38, 88)
            if reg.hit or reg.fermata:
                for p in voices:
                    notes.append(make_note(reg.start, held_length(reg, reg.start), p, clamp_vel(vel + 10)))
                continue
            # hold, broken only by swell windows inside the region
            t = reg.start
            while wi < len(swell) and swell[wi][1] <= reg.start + EPS:
                wi += 1
            k = wi
            while t < reg.end - EPS:
                w = swell[k] if k < len(swell) else None
                if w is not None and w[0] < reg.end - EPS:
                    ws, we, pulses, target = w
                    if t < ws - EPS:
                        for p in voices:
                            notes.append(make_note(t, ws - t, p, clamp_vel(vel)))
                        t = ws
                    n = len(pulses)
                    for pi, (ps, pl) in enumerate(pulses):
                        a = ws + ps
                        e = min(a + pl, reg.end, we)
                        if e <= t + EPS or a >= reg.end - EPS:
                            continue
                        a = max(a, t)
                        ramp = 0.6 * vel + (target + 10 - 0.6 * vel) * (pi + 1) / n
                        for p in voices:
                            notes.append(make_note(a, e - a, p, clamp_vel(ramp)))
                    t = min(we, reg.end)
                    if we <= reg.end + EPS:
                        k += 1
                    else:
                        break
                    continue
                for p in voices:
                    notes.append(make_note(t, reg.end - t, p, clamp_vel(vel)))
                t = reg.end
        notes.sort(key=lambda n: (n.start, n.pitch))
        return notes
