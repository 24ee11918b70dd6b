"""Pads, strings and choir: sustained voice-led chords that swell into sections.

One voicing (3-5 voices, mid register) per chord, held until the next change: the root
in the lowest pad voice at every change (so the strings name the chord even over a
rootless piano), the upper voices chosen to move least from the last chord. In the bar
before a new section the pad swells: the chord is held (never re-struck), a chord that
starts in that bar starts soft, the new section comes in louder, and a CC11 (expression) ramp makes the
held chord crescendo across the bar (:func:`swell_controls`). ``choir`` doubles
the top voice an octave lower for an "aah" layer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from backline.arrange.events import ControlEvent, NoteEvent, make_note
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

__all__ = ["Pad", "PATTERNS", "swell_controls"]

#: ``sustain`` holds (swelling only into louder sections), ``swell`` swells into every
#: section, ``choir`` is sustain with the top voice doubled an octave lower.
PATTERNS = ("sustain", "swell", "choir")


#: The expression (CC11) ramp of a swell bar: from :data:`SWELL_FROM` up to 127 in
#: :data:`SWELL_STEPS` even steps across the bar (127 again on the next downbeat).
SWELL_FROM, SWELL_STEPS = 64, 12
#: A chord held into a swell bar is faded to :data:`SWELL_FROM` over this share of the
#: bar, in :data:`SWELL_DIP_STEPS` steps, before the ramp; a note starting within
#: :data:`SWELL_STRUCK_BEATS` of the bar line counts as struck there (humanised).
SWELL_DIP, SWELL_DIP_STEPS, SWELL_STRUCK_BEATS = 0.25, 4, 0.1


def _swell_windows(
    bars: Sequence[BarContext], spec: PartSpec, pcache: dict[str, dict[str, object]]
) -> list[tuple[float, float, tuple[tuple[float, float], ...], float]]:
    """The swell bars (the bar before a section start, into a louder section or with the
    ``swell`` pattern): start, end, pulses, the next section's velocity."""
    swell: list[tuple[float, float, tuple[tuple[float, float], ...], float]] = []
    for i, bar in enumerate(bars[:-1]):
        nb = bars[i + 1]
        if not nb.section_start or nb.kind == "ending":
            continue
        pat = str(params_for_bar(spec, bar, pcache).get("pattern", "sustain"))
        if pat == "swell" or nb.intensity >= bar.intensity + 10:
            grid = bar_grid(bar.time)
            swell.append((float(bar.start), float(bar.end), grid.pulses, base_velocity(nb, 40, 95)))
    return swell


def swell_controls(
    bars: Sequence[BarContext], spec: PartSpec, starts: np.ndarray | None = None
) -> tuple[ControlEvent, ...]:
    """The pad's crescendos: in every swell bar a CC11 (expression) ramp from
    :data:`SWELL_FROM` up to 127, reset to 127 at the next downbeat (deterministic).

    ``starts`` are the pad's note starts (beats). A chord struck at the bar line starts
    the ramp soft at once; a chord held into the bar from before is faded down over the
    bar's first :data:`SWELL_DIP` first (a jump to the soft level would be heard as a
    drop in the middle of a held chord)."""
    out: list[ControlEvent] = []
    for ws, we, _, _ in _swell_windows(bars, spec, {}):
        struck = starts is not None and bool(np.any(np.abs(np.asarray(starts) - ws) < SWELL_STRUCK_BEATS))
        rise_from = ws
        if not struck:
            dip = (we - ws) * SWELL_DIP
            for k in range(1, SWELL_DIP_STEPS + 1):
                value = round(127 - (127 - SWELL_FROM) * k / SWELL_DIP_STEPS)
                out.append(ControlEvent(ws + dip * k / SWELL_DIP_STEPS, 11, value))
            rise_from = ws + dip
        for k in range(SWELL_STEPS):
            value = round(SWELL_FROM + (127 - SWELL_FROM) * k / SWELL_STEPS)
            if k or struck:
                out.append(ControlEvent(rise_from + (we - rise_from) * k / SWELL_STEPS, 11, value))
        out.append(ControlEvent(we, 11, 127))
    return tuple(out)


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
        swell = _swell_windows(bars, spec, pcache)
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
            # one held chord per change: a swell never re-strikes the chord (a string section
            # re-bowing every beat); a chord that starts inside a swell window starts soft
            # and the next section's downbeat brings the louder attack
            while wi < len(swell) and swell[wi][1] <= reg.start + EPS:
                wi += 1
            level: float = vel
            if wi < len(swell) and swell[wi][0] <= reg.start + EPS:
                ws, we, _, target = swell[wi]
                frac = (reg.start - ws) / max(we - ws, EPS)
                level = 0.6 * vel + (target - 0.6 * vel) * frac
            for p in voices:
                notes.append(make_note(reg.start, reg.end - reg.start, p, clamp_vel(level)))
        notes.sort(key=lambda n: (n.start, n.pitch))
        return notes
