"""From the expanded form to the :class:`~backline.arrange.roles.base.BarContext` list.

:func:`build_layout` lays out the played bars (intro, body from
:func:`backline.model.form.expand`, ending), the chord spans with pushes applied
(a pushed chord starts an eighth early and the span before it is shortened), hits
and N.C., fills (section ends, before backward jumps, into the top after an intro,
into the ending; none before a forward skip, never two within 2 bars: :func:`_fills`),
the final chord (the key's tonic: :func:`final_chord`; a chart's own ending without a
fermata is held too), crash-worthy section starts, variation A/B and intensity per bar,
and everything the engine's post-processing needs (plan bars, tempo map, markers,
clean-up windows).

Span conventions (the roles rely on them):
- a span that continues from the previous bar is clipped to this bar; a pushed chord's
  continuation keeps ``push=True`` and starts exactly at the bar start (do not re-attack);
- the rest of a hit after its bar (the continuation of a hit span) is written as a
  chord-less span (``chord=None, hit=False``): harmonic parts rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

from backline.arrange.events import Marker, PlanBar
from backline.arrange.feel import BarGrid, Windows
from backline.arrange.own_form import has_own_ending
from backline.arrange.roles.base import BarContext, ChordSpan
from backline.arrange.styles.model import Style
from backline.errors import ArrangeError
from backline.model.chord import Chord, parse_chord
from backline.model.form import PlayedBar, TempoMap, expand
from backline.model.pitch import Key
from backline.model.song import Bar, ChordEvent, Song, song_key

__all__ = ["Layout", "build_layout", "section_type", "final_chord", "song_key"]

HALF = Fraction(1, 2)
_B_WORDS = re.compile(r"^(b\d*|chorus|refrain|bridge|solo|solos|hook|drop|climax|out ?chorus|shout)\b", re.I)


def section_type(label: str) -> str:
    """``"B"`` for chorus, bridge, solo and B sections; ``"A"`` for the rest (verse, A, C, intro...)."""
    return "B" if _B_WORDS.match(label.strip()) else "A"


@dataclass(frozen=True)
class _Slot:
    kind: str
    bar: Bar
    written: int | None
    section: str
    section_index: int
    pass_number: int
    section_start: bool
    section_intensity: int | None = None


@dataclass(frozen=True)
class Layout:
    """The laid-out song: contexts for the roles plus the plan for output and post-processing."""

    bars: tuple[BarContext, ...]
    plan: tuple[PlanBar, ...]
    tempo_map: TempoMap
    markers: tuple[Marker, ...]
    chart_start_beat: float
    windows: Windows
    grid: BarGrid
    intro_kind: str
    ending_kind: str
    key: Key


def final_chord(chords: list[Chord], key: Key | None = None) -> Chord | None:
    """The chord to end on (a non-tonic last chord the chart holds with a fermata is kept
    by the caller, which adds no ending then).

    With ``key`` (the last key in force): the last chord when its root is the key's tonic
    (it carries the chart's colour: C6, Cmaj7, C7 in a blues) or when the chart begins
    and ends on the relative key's tonic chord (:func:`_home_is_relative`), else the key's
    tonic chord, so that a last bar that is a turnaround (V7, bII7, ii, ii-V, I-vi-ii-V) or
    any other non-tonic chord resolves (see :func:`tonic_chord`). A key whose tonic the
    chart never plays is a wrong label and counts as none. Without a key: the last chord, or
    the song's first chord when the chart ends on a dominant a fifth above it or a ii-V
    into it."""
    if not chords:
        return None
    last, first = chords[-1], chords[0]
    if key is not None and not any(c.root_pc == key.tonic.pc for c in chords):
        key = None  # a label the chart never plays: The Long Black Veil, 'D', is all E, B7 and A
    if key is not None:
        if last.root_pc == key.tonic.pc and last.quality.family != "bass":
            return last
        if _home_is_relative(chords, key):
            return last
        return tonic_chord(key, chords)
    fam = last.quality.family
    if (fam == "dominant" or (fam == "sus" and last.quality.seventh == "b7")) and (
        last.root_pc - first.root_pc
    ) % 12 == 7:
        return first
    if len(chords) >= 2 and chords[-2].quality.family in ("minor", "half-diminished") and fam == "dominant":
        # ii-V at the very end resolves to the tonic a fourth above the V
        if (last.root_pc + 5) % 12 == first.root_pc:
            return first
    return last


def _home_is_relative(chords: list[Chord], key: Key) -> bool:
    """Whether the chart begins and ends on the relative key's tonic chord (a minor chord
    a minor third below a major key's tonic, a major chord a minor third above a minor
    key's): a song in the relative key under its key signature (Scarborough Fair and Shady
    Grove are 'F' in their MusicXML, Close Enough For Love 'Bb' in iReal, all ending in
    minor), which ends on that chord, not on the labelled key's tonic."""
    first, last = chords[0], chords[-1]
    rel, fam = (
        ((key.tonic.pc + 9) % 12, "minor") if key.mode == "major" else ((key.tonic.pc + 3) % 12, "major")
    )
    return all(c.root_pc == rel and c.quality.family == fam for c in (first, last))


def tonic_chord(key: Key, chords: list[Chord]) -> Chord:
    """The key's tonic chord in the chart's colour: the last chord of the chart on the tonic
    with the key's quality (major: a major chord, C6 or Cmaj7; minor: a minor one) and no
    slash bass; else a 6 chord (m6 in minor) when the chart uses sevenths, a triad when not."""
    want = "minor" if key.mode == "minor" else "major"
    for c in reversed(chords):
        if c.root_pc == key.tonic.pc and c.quality.family == want and c.bass_pc == c.root_pc:
            return c
    jazzy = any(c.quality.seventh is not None for c in chords)
    t = str(key.tonic)
    if key.mode == "minor":
        return parse_chord(f"{t}m6" if jazzy else f"{t}m")
    return parse_chord(f"{t}6" if jazzy else t)


def _ending_key(song: Song, body: list[PlayedBar]) -> Key | None:
    """The last key in force (a key change's, else the chart's), or None when the chart
    states no key at all (the key heard from the first chord is no guide to the ending)."""
    for pb in reversed(body):
        if pb.bar.key is not None:
            return pb.bar.key
    return song.key


def _fills(slots: list[_Slot]) -> list[bool]:
    """Fill bars: the last bar of the intro, of a section and of the body (into the
    ending), and the bar before a backward jump (a repeat, D.C., D.S.). A forward skip
    (into a 2nd ending or a coda) continues the phrase: no fill. Two fills are never
    within 2 bars of each other: the later one (nearer its arrival) is kept."""
    n = len(slots)
    out = [False] * n
    for i in range(n - 1):
        sl, nxt = slots[i], slots[i + 1]
        if sl.kind == "body" and nxt.kind == "body" and sl.written is not None and nxt.written is not None:
            if nxt.written > sl.written + 1:
                continue  # forward skip
            if nxt.written <= sl.written:
                out[i] = True  # backward jump
                continue
        if (nxt.kind == "body" and (nxt.section_start or sl.kind == "intro")) or (
            sl.kind == "body" and nxt.kind == "ending"
        ):
            out[i] = True
    kept = n + 10
    for i in range(n - 1, -1, -1):
        if out[i]:
            if kept - i <= 2:
                out[i] = False
            else:
                kept = i
    return out


def _turnaround(key: Key) -> list[Chord]:
    t = key.tonic
    if key.mode == "minor":
        names = [f"{t}m6", f"{t.transpose(9, 5).simplified()}m7b5", f"{t.transpose(2, 1).simplified()}m7b5",
                 f"{t.transpose(7, 4).simplified()}7b9"]  # fmt: skip
    else:
        names = [f"{t}maj7", f"{t.transpose(9, 5).simplified()}m7", f"{t.transpose(2, 1).simplified()}m7",
                 f"{t.transpose(7, 4).simplified()}7"]  # fmt: skip
    return [parse_chord(n) for n in names]


def _with_downbeat(bar: Bar, sounding: Chord | None) -> Bar:
    """A copy of ``bar`` for an intro or tag: no hits, and the chord sounding at the downbeat."""
    evs = [replace(e, hit=False, fermata=False) for e in bar.chords]
    if (not evs or evs[0].beat > 0) and sounding is not None:
        evs.insert(0, ChordEvent(Fraction(0), sounding))
    return replace(bar, chords=tuple(evs), repeat_start=False, repeat_end=0, endings=frozenset(),
                   segno=False, to_coda=False, coda=False, fine=False, jump=None, end=False)  # fmt: skip


def build_layout(song: Song, style: Style, *, intro: bool = True, ending: bool = True) -> Layout:
    """Lay out ``song`` in ``style`` (see the module docstring)."""
    tl = expand(song)
    if not tl.bars:
        raise ArrangeError(f"{song.title or song.source or 'song'}: the chart has no bars")
    key = song_key(song)
    body = list(tl.bars)
    # chord sounding at each body bar's downbeat (for copies into intro/tag)
    sounding: list[Chord | None] = []
    current: Chord | None = None
    body_chords: list[Chord] = []
    for pb in body:
        sounding.append(
            current if not (pb.bar.chords and pb.bar.chords[0].beat == 0) else pb.bar.chords[0].chord
        )
        for ev in pb.bar.chords:
            current = ev.chord
            if ev.chord is not None:
                body_chords.append(ev.chord)
    first, last = body[0].bar, body[-1].bar

    slots: list[_Slot] = []
    intro_kind = style.intro.kind if intro and style.intro.bars > 0 else "none"
    n_intro = style.intro.bars
    if intro_kind == "drums" or (intro_kind in ("vamp", "turnaround", "last") and not body_chords):
        intro_kind = "drums"
        for _ in range(n_intro):
            slots.append(
                _Slot("intro", Bar((), first.time, first.tempo, first.key), None, "intro", -1, 1, False)
            )
    elif intro_kind == "last":
        n = min(n_intro, len(body))
        for j in range(len(body) - n, len(body)):
            b = _with_downbeat(body[j].bar, sounding[j])
            slots.append(_Slot("intro", replace(b, tempo=first.tempo), None, "intro", -1, 1, False))
    elif intro_kind in ("turnaround", "vamp"):
        ta = _turnaround(key) if intro_kind == "turnaround" else [body_chords[0]]
        k = 0
        beats = first.time.bar_beats
        # a turnaround takes two chords a bar in 4/4, 12/8 and 6/8 (one a dotted quarter);
        # in other short bars (3/4, 7/8) one a bar, over as many bars as it needs to reach V
        two = beats >= 4 or (first.time.compound and first.time.pulses % 2 == 0)
        per = 2 if intro_kind == "turnaround" and two else 1
        if intro_kind == "turnaround":
            n_intro = max(n_intro, -(-len(ta) // per))
        for _ in range(n_intro):
            evs = []
            for m in range(per):
                evs.append(ChordEvent(beats * m / per, ta[k % len(ta)]))
                k += 1
            slots.append(
                _Slot(
                    "intro", Bar(tuple(evs), first.time, first.tempo, first.key), None, "intro", -1, 1, False
                )
            )
    if slots:
        slots[0] = replace(slots[0], section_start=True)
    for pb in body:
        sec = song.sections[pb.section_index]
        slots.append(_Slot("body", pb.bar, pb.written, pb.section, pb.section_index, pb.pass_number,
                           pb.section_start or pb.index == 0, sec.intensity))  # fmt: skip
    ending_kind = style.ending.kind if ending else "none"
    last_ev = next((pb.bar.chords[-1] for pb in reversed(body) if pb.bar.chords), None)
    end_key = _ending_key(song, body)
    end_chord = final_chord(body_chords, end_key)
    if last_ev is not None and last_ev.fermata:
        ending_kind = "none"  # the chart ends on a held chord: that is the ending
    elif not ending and end_chord is not None and has_own_ending(song):
        # the chart's own End/Coda/Ending without a fermata: a band still lands on a held
        # final chord (crash and kick), on the tonic: the last bar's tonic is held from
        # its attack; a last bar that does not end on the tonic gets a held tonic bar
        if body_chords[-1] is end_chord:
            evs = list(slots[-1].bar.chords)
            if not evs:
                evs = [ChordEvent(Fraction(0), end_chord, fermata=True)]
            elif evs[-1].chord is not None:
                evs[-1] = replace(evs[-1], fermata=True, hit=False)
            slots[-1] = replace(slots[-1], bar=replace(slots[-1].bar, chords=tuple(evs)))
        else:
            ending_kind = "hold"
    if end_chord is None and ending_kind != "none":
        ending_kind = "none"
    n_end_before = len(slots)
    if ending_kind == "tag":
        n = min(style.ending.bars, len(body))
        for j in range(len(body) - n, len(body)):
            slots.append(
                _Slot("ending", _with_downbeat(body[j].bar, sounding[j]), None, "ending", -1, 1, False)
            )
    if ending_kind in ("tag", "hold", "button") and end_chord is not None:
        ev = ChordEvent(Fraction(0), end_chord, hit=ending_kind == "button")
        slots.append(
            _Slot("ending", Bar((ev,), last.time, last.tempo, last.key), None, "ending", -1, 1, False)
        )
    if len(slots) > n_end_before:
        slots[n_end_before] = replace(slots[n_end_before], section_start=True)

    # --- starts, events, spans (Fractions for the values, floats for the comparisons)
    lengths = [sl.bar.time.bar_beats for sl in slots]
    starts: list[Fraction] = []
    pos = Fraction(0)
    for ln in lengths:
        starts.append(pos)
        pos += ln
    total = pos
    events: list[tuple[Fraction, ChordEvent, bool]] = []  # (start, event, pushed)
    last_f = -1.0
    for sl, b0 in zip(slots, starts, strict=True):
        for ev in sl.bar.chords:
            s = b0 + ev.beat if ev.beat else b0
            pushed = False
            if ev.push:
                ps = s - HALF
                if ps >= 0 and last_f < float(ps) - 1e-9:
                    s, pushed = ps, True
            last_f = float(s)
            events.append((s, ev, pushed))
    spans: list[tuple[Fraction, Fraction, Chord | None, bool, bool]] = []
    fspans: list[tuple[float, float]] = []
    held: list[bool] = []  # fermata per span (a held chord; N.C. with a fermata is a held rest)
    for i, (s, ev, pushed) in enumerate(events):
        e = events[i + 1][0] if i + 1 < len(events) else total
        fs, fe = float(s), float(e)
        if fe > fs + 1e-9:
            spans.append((s, e, ev.chord, pushed, ev.hit))
            fspans.append((fs, fe))
            held.append(ev.fermata and not ev.hit)
    prev_of: dict[int, Chord | None] = {}
    next_of: dict[int, Chord | None] = {}
    last_chord: Chord | None = None
    for i, sp in enumerate(spans):
        prev_of[i] = last_chord
        if sp[2] is not None:
            last_chord = sp[2]
    nxt: Chord | None = None
    for i in range(len(spans) - 1, -1, -1):
        next_of[i] = nxt
        if spans[i][2] is not None:
            nxt = spans[i][2]

    # --- variation and intensity per slot
    inten = style.intensity
    a_int, b_int = inten.get("A", 45), inten.get("B", 70)
    info: list[tuple[str, int]] = []
    for sl in slots:
        if sl.kind == "intro":
            info.append(("A", inten.get("intro", max(0, a_int - 10))))
            continue
        if sl.kind == "ending":
            info.append(info[-1] if info else ("A", a_int))
            continue
        typ = section_type(sl.section)
        val = sl.section_intensity
        if val is None:
            val = inten.get(sl.section, b_int if typ == "B" else a_int)
        info.append(("B" if typ == "B" or val > 60 else "A", val))
    # builds: the last two bars before a B-type body section rise
    for i in range(1, len(slots)):
        if slots[i].kind == "body" and slots[i].section_start and info[i][0] == "B":
            for back, add in ((1, 15), (2, 8)):
                j = i - back
                if (
                    j >= 0
                    and slots[j].kind == "body"
                    and info[j][0] == "A"
                    and not slots[j + 1 - 1].section_start
                ):
                    info[j] = (info[j][0], min(100, info[j][1] + add))

    fills = _fills(slots)

    # --- bar contexts, plan, markers
    bars: list[BarContext] = []
    plan: list[PlanBar] = []
    markers: list[Marker] = []
    segs: list[tuple[float, float]] = []
    k = 0
    n_slots = len(slots)
    for i, (sl, b0) in enumerate(zip(slots, starts, strict=True)):
        blen = lengths[i]
        b1 = b0 + blen
        fb0, fb1 = float(b0), float(b1)
        while k < len(spans) and fspans[k][1] <= fb0 + 1e-9:
            k += 1
        clipped: list[ChordSpan] = []
        j = k
        while j < len(spans) and fspans[j][0] < fb1 - 1e-9:
            s, e, ch, pushed, hit = spans[j]
            fs, fe = fspans[j]
            cont = fs < fb0 - 1e-9
            cs = b0 if cont else s
            ce = b1 if fe > fb1 + 1e-9 else e
            if cont and hit:
                clipped.append(ChordSpan(cs, ce - cs, None, False, False, next_of[j], prev_of[j]))
            else:
                clipped.append(
                    ChordSpan(cs, ce - cs, ch, pushed, hit and not cont, next_of[j], prev_of[j], held[j])
                )
            j += 1
        nxt_slot = slots[i + 1] if i + 1 < n_slots else None
        fill = fills[i]
        section_end = nxt_slot is None or nxt_slot.section_start or nxt_slot.kind != sl.kind
        var, val = info[i]
        bkey = sl.bar.key or key
        ctx = BarContext(
            index=i, start=b0, beats=blen, time=sl.bar.time, tempo=sl.bar.tempo, key=bkey,
            section=sl.section, chords=tuple(clipped), kind=sl.kind, variation=var, intensity=val,
            section_start=sl.section_start, section_end=section_end, fill=fill, last_bar=nxt_slot is None,
            written_bar=sl.written,
        )  # fmt: skip
        bars.append(ctx)
        segs.append((fb0, sl.bar.tempo))
        if sl.section_start:
            label = {"intro": "Intro", "ending": "Ending"}.get(sl.kind, sl.section)
            if sl.kind == "body" and sl.pass_number > 1:
                label = f"{label} ({sl.pass_number})"
            markers.append(Marker(fb0, label))
    tmap = TempoMap.from_segments(segs)
    for ctx, sl in zip(bars, slots, strict=True):
        plan.append(PlanBar(ctx.index, ctx.written_bar, ctx.section, float(ctx.start),
                            tmap.seconds_at(float(ctx.start)), float(ctx.beats), ctx.time.numerator,
                            ctx.time.denominator, ctx.tempo, sl.pass_number))  # fmt: skip
    chart_start = next((float(b.start) for b in bars if b.kind == "body"), 0.0)

    # --- clean-up windows
    nc: list[tuple[float, float]] = []
    hits: list[tuple[float, float]] = []
    stops: list[tuple[float, float]] = []
    pushes: list[tuple[float, float]] = []
    fermatas = [fsp for fsp, h in zip(fspans, held, strict=True) if h]
    for (_, _, ch, pushed, hit), (fs, fe) in zip(spans, fspans, strict=True):
        if ch is None:
            target = stops if hit else nc
            if target and abs(target[-1][1] - fs) < 1e-9:
                target[-1] = (target[-1][0], fe)
            else:
                target.append((fs, fe))
        elif hit:
            hits.append((fs, fe))
        elif pushed:
            pushes.append((fs, min(fs + 1.0, fe)))
    hold = None
    if ending_kind in ("hold", "tag"):
        hold = (float(bars[-1].start), float(bars[-1].end))
    windows = Windows(tuple(nc), tuple(hits), tuple(stops), tuple(pushes), hold, tuple(fermatas))
    grid = BarGrid(
        tuple(float(b.start) for b in bars),
        tuple(float(b.beats) for b in bars),
        tuple(b.tempo for b in bars),
        tuple(not b.time.compound for b in bars),
    )
    return Layout(tuple(bars), tuple(plan), tmap, tuple(markers), chart_start, windows, grid,
                  intro_kind, ending_kind, key)  # fmt: skip
