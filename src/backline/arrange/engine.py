"""The arranger: ``arrange(song, style)`` -> :class:`~backline.arrange.events.Arrangement`.

Pipeline (one direction, pure data): transpose and re-tempo the chart if asked ->
pick the style (``--style`` or the chart's style hint and meter) -> lay out the played
bars (:mod:`backline.arrange.context`) -> every part's role generates notes on the
straight grid -> the same post-processing for every part (:mod:`backline.arrange.feel`:
clean-up, swing, humanisation, ranges, overlaps) -> the arrangement.
"""

from __future__ import annotations

import bisect
import importlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from backline.arrange.context import Layout, build_layout
from backline.arrange.events import Arrangement, NoteEvent, NoteSeq, Part, PlanBar
from backline.arrange.feel import (
    clean_up,
    fix_overlaps_array,
    humanise_array,
    notes_to_array,
    swing_array,
)
from backline.arrange.roles.base import PartSpec, Role, part_rng
from backline.arrange.roles.pad import swell_controls
from backline.arrange.styles.model import Style
from backline.arrange.styles.registry import StyleRegistry
from backline.errors import ArrangeError, StyleError
from backline.model.pitch import parse_key
from backline.model.song import Song, TimeSignature

__all__ = ["arrange", "resolve_style", "transpose_to", "tempo_warnings", "EXTRA_ROLES", "TEMPO_MARGIN"]

#: Roles provided outside ``roles/`` (looked up after the injected ``roles`` and before
#: :data:`backline.arrange.roles.ROLE_CLASSES`).
EXTRA_ROLES: dict[str, str] = {"pattern": "backline.arrange.learn:PatternRole"}

_ROLE_CACHE: dict[str, Role] = {}


def _role(name: str, injected: Mapping[str, Role] | None) -> Role:
    if injected and name in injected:
        return injected[name]
    cached = _ROLE_CACHE.get(name)
    if cached is not None:
        return cached
    if name in EXTRA_ROLES:
        mod, cls = EXTRA_ROLES[name].split(":")
        role: Role = getattr(importlib.import_module(mod), cls)()
    else:
        from backline.arrange.roles import get_role

        role = get_role(name)
    _ROLE_CACHE[name] = role
    return role


def transpose_to(song: Song, key: str) -> Song:
    """``song`` moved to ``key`` (``"Bb"``, ``"Gm"``); ArrangeError for a key not understood."""
    try:
        parse_key(key)
    except ValueError:
        raise ArrangeError(f"not a key: {key!r} (write e.g. Bb, F#m, Eb major)") from None
    from backline.model.transpose import transpose_song

    if song.key is None:
        # the chart states no key: take the key the arranger hears (first chord's root and mode)
        from backline.arrange.context import song_key

        song = replace(song, key=song_key(song))
    return transpose_song(song, to_key=key)


def resolve_style(song: Song, style: str | Style | None, registry: StyleRegistry) -> tuple[Style, str]:
    """The style object and why it was chosen."""
    if isinstance(style, Style):
        return style, "given"
    if style:
        return registry.get(style), f"--style {style}"
    return registry.match(song.style, song.time_signature, names_first=_names_styles(song.source))


#: Chart formats whose style field holds backline's style names (docs/chart-format.md);
#: iReal Pro's style names follow iReal's own conventions (a plain "Waltz" is a jazz waltz).
_OWN_STYLE_NAMES = (".chart", ".json", ".cho", ".chopro", ".chordpro", ".crd", ".pro",
                    ".musicxml", ".xml", ".mxl", ".mid", ".midi")  # fmt: skip


def _names_styles(source: str) -> bool:
    """Whether a song read from ``source`` names its style with backline's names."""
    return source.lower().endswith(_OWN_STYLE_NAMES)


def arrange(
    song: Song,
    style: str | Style | None = None,
    *,
    registry: StyleRegistry | None = None,
    seed: int = 0,
    key: str | None = None,
    tempo: float | None = None,
    intro: bool = True,
    ending: bool = True,
    parts: Sequence[str] | None = None,
    roles: Mapping[str, Role] | None = None,
    timings: dict[str, float] | None = None,
) -> Arrangement:
    """Arrange ``song`` in ``style`` (name, :class:`Style`, or None: the chart's style hint).

    ``key`` transposes first; ``tempo`` sets the first bar's tempo (others scale with it);
    ``intro``/``ending`` switch the style's intro and ending; ``parts`` keeps only the
    named parts; ``roles`` overrides role strategies by role name (for extensions and tests).
    ``timings``, when given, gets the seconds spent per stage added to it (``layout``,
    ``roles``, ``feel``), for benchmarks. The same inputs and ``seed`` give the same arrangement.
    """
    reg = registry if registry is not None else StyleRegistry.default()
    if key:
        song = transpose_to(song, key)
    if tempo is not None:
        if not 10 <= tempo <= 400:
            raise ArrangeError(f"tempo {tempo:g} BPM is outside 10..400")
        song = song.with_tempo(tempo)
    st, reason = resolve_style(song, style, reg)
    specs = list(st.parts)
    if parts is not None:
        wanted = list(parts)
        unknown = [p for p in wanted if p not in {s.name for s in specs}]
        if unknown:
            raise StyleError(
                f"style {st.name} has no part {unknown[0]!r}; parts: {', '.join(s.name for s in specs)}"
            )
        specs = [s for s in specs if s.name in wanted]
    clock = time.perf_counter
    t0 = clock()
    layout = build_layout(song, st, intro=intro, ending=ending)
    t1 = clock()
    for spec in specs:
        if not (roles and spec.role in roles) and spec.role not in EXTRA_ROLES:
            from backline.arrange.roles import ROLE_CLASSES

            if spec.role not in ROLE_CLASSES:
                where = f" ({st.source})" if st.source else ""
                raise StyleError(
                    f"style {st.name!r}{where}: part {spec.name!r} has an unknown role {spec.role!r}; "
                    f"known roles: {', '.join(sorted({*ROLE_CLASSES, *EXTRA_ROLES}))}"
                )
    played = [_generate(spec, layout, seed, roles) for spec in specs]
    t2 = clock()
    out_parts = _post_process(specs, played, layout, st, seed)
    t3 = clock()
    if timings is not None:
        for name, secs in (("layout", t1 - t0), ("roles", t2 - t1), ("feel", t3 - t2)):
            timings[name] = timings.get(name, 0.0) + secs
    return Arrangement(
        song=song,
        style=st.name,
        seed=seed,
        parts=out_parts,
        bars=layout.plan,
        tempo_map=layout.tempo_map,
        markers=layout.markers,
        chart_start_beat=layout.chart_start_beat,
        extra={
            "style_reason": reason,
            "intro": layout.intro_kind,
            "ending": layout.ending_kind,
            "warnings": tempo_warnings(layout.plan, st, reg),
        },
    )


#: How far past a style's tempo range a song may go before it is said (15 %: the ranges are
#: where the grooves were made to sit, and a little outside them still sounds right).
TEMPO_MARGIN = 0.15


def tempo_warnings(plan: Sequence[PlanBar], style: Style, registry: StyleRegistry) -> list[str]:
    """A warning when the song's tempo lies far outside ``style``'s range (a bossa at 300,
    a ballad at 180), naming the styles of its family that play that tempo and meter."""
    tempos = [b.tempo for b in plan if b.tempo > 0]
    if not tempos:
        return []
    lo, hi = style.tempo_range
    if max(tempos) > hi * (1 + TEMPO_MARGIN):
        t, where = max(tempos), "above"
    elif min(tempos) < lo / (1 + TEMPO_MARGIN):
        t, where = min(tempos), "below"
    else:
        return []
    meter = TimeSignature(plan[0].numerator, plan[0].denominator)
    fits = [
        o.name
        for o in registry
        if o.family == style.family
        and o.name != style.name
        and o.tempo_range[0] <= t <= o.tempo_range[1]
        and o.supports(meter)
    ]
    hint = f"; {' or '.join(fits)} plays it" if fits else ""
    return [
        f"{t:g} BPM is far {where} the {style.name} style's range ({lo:g}-{hi:g} BPM): "
        f"its grooves were made for that range{hint}"
    ]


def _generate(spec: PartSpec, layout: Layout, seed: int, roles: Mapping[str, Role] | None) -> np.ndarray:
    """The role's notes after the clean-up, range-checked, as an array sorted by (start, pitch)."""
    role = _role(spec.role, roles)
    notes: list[NoteEvent] = role.generate(layout.bars, spec, part_rng(seed, spec.name))
    notes = clean_up(notes, layout.windows, is_drum=spec.is_drum)
    if spec.is_drum and layout.windows.nc:
        notes = _rest_in_nc(notes, _breaks(layout))
    a = notes_to_array(notes)
    lo, hi = spec.low, spec.high
    if len(a):
        out_of_range = (a[:, 2] < lo) | (a[:, 2] > hi)
        if out_of_range.any():
            bad = int(a[np.argmax(out_of_range), 2])
            raise ArrangeError(
                f"the {spec.role} role played MIDI note {bad} outside the {spec.name} range {lo}..{hi}"
            )
        a = a[np.lexsort((a[:, 2], a[:, 0]))]
    return a


#: An N.C. stretch this many bars long or longer is a drum (or percussion) feature: the
#: drums keep time through it while the rest of the band lays out (an 8-bar N.C. intro
#: of a latin chart played as 10 s of silence looks like a dead rig). A shorter one is
#: a break: the whole band rests, drums included.
NC_DRUMS_PLAY_BARS = 4


def _breaks(layout: Layout) -> list[tuple[float, float]]:
    """The N.C. windows in which the drums rest: those shorter than
    :data:`NC_DRUMS_PLAY_BARS` bars (counted in bars of the meter where they start)."""
    starts = [pb.start_beat for pb in layout.plan]
    out = []
    for a, b in layout.windows.nc:
        k = max(0, bisect.bisect_right(starts, a + 1e-9) - 1)
        bar = layout.plan[k].beats if layout.plan else 4.0
        if b - a < NC_DRUMS_PLAY_BARS * bar - 1e-6:
            out.append((a, b))
    return out


def _rest_in_nc(notes: list[NoteEvent], nc: Sequence[tuple[float, float]]) -> list[NoteEvent]:
    """The drums rest in an N.C. break (no chord: the band rests): no stroke starts inside
    the window (the crash of the chord before may ring into it; the stop of ``N.C.!`` is
    silenced by the clean-up as before)."""
    if not nc:
        return notes
    starts = [s for s, _ in nc]
    out: list[NoteEvent] = []
    for n in notes:
        k = bisect.bisect_right(starts, n.start + 1e-9) - 1
        if k >= 0 and n.start < nc[k][1] - 1e-9:
            continue
        out.append(n)
    return out


def _post_process(
    specs: Sequence[PartSpec], arrays: Sequence[np.ndarray], layout: Layout, st: Style, seed: int
) -> tuple[Part, ...]:
    """Swing (one pass over all parts: it is a pure time warp), then per part humanisation
    (each part's own seeded generator) and the overlap fix; the parts with their notes."""
    arrays = list(arrays)
    if st.feel != "straight" and arrays:
        ratio: float | None
        if st.feel == "shuffle":
            ratio = 2.0
        else:
            ratio = st.swing  # None: from each bar's tempo
        lens = [len(a) for a in arrays]
        swung = swing_array(np.concatenate(arrays), layout.grid, ratio, sixteenths=st.feel == "swing16")
        arrays = np.split(swung, np.cumsum(lens)[:-1])
    hum = st.humanise
    end = layout.grid.end
    out: list[Part] = []
    for spec, a in zip(specs, arrays, strict=True):
        a = humanise_array(
            a,
            layout.grid,
            part_rng(seed, spec.name + "#feel").getrandbits(63),
            timing_ms=hum.timing_ms,
            push_ms=hum.offset_ms(spec.name, spec.role),
            velocity_sd=hum.velocity,
        )
        a = fix_overlaps_array(a, end)
        out.append(
            Part(
                name=spec.name,
                role=spec.role,
                program=spec.program,
                channel=spec.channel,
                notes=NoteSeq(a),
                is_drum=spec.is_drum,
                bank=128 if spec.is_drum else 0,
                gain_db=spec.gain_db,
                pan=spec.pan,
                reverb=spec.reverb,
                low_note=spec.low,
                high_note=spec.high,
                controls=swell_controls(layout.bars, spec, a[:, 0]) if spec.role == "pad" else (),
            )
        )
    return tuple(out)
