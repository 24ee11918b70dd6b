"""Compound and odd meters played on their own grid (review findings 4, 12 and 14).

- 12/8 gospel and 6/8 jazz waltz / waltz: the drums play the triplet-eighth grid with the
  pulse on the dotted quarters, the bass agrees, and the piano does not chop every eighth.
- A turnaround intro in a short bar (3/4, 6/8) reaches the dominant.
- In 5/8 and 7/8 the click's accents fall where the band groups the bar.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from arrange_helpers import REGISTRY, bar, song, still

from backline.arrange.context import build_layout
from backline.arrange.engine import arrange
from backline.arrange.events import Arrangement
from backline.arrange.styles import IntroSpec
from backline.model.song import Song, TimeSignature

T128, T68 = TimeSignature(12, 8), TimeSignature(6, 8)
EPS = 1e-6


def _song(time: TimeSignature, chords: list[str], n: int = 8) -> Song:
    bars = [bar(chords[i % len(chords)], time=time, tempo=60.0 if time == T128 else 90.0) for i in range(n)]
    return song(("A", bars))


def _body(arr: Arrangement) -> list[tuple[float, float]]:
    """(start, beats) of the played chart bars (no intro, no ending, not the last bar)."""
    return [(b.start_beat, b.beats) for b in arr.bars if b.written_bar is not None][:-1]


def _offsets(arr: Arrangement, part: str) -> list[tuple[int, float]]:
    """(bar number, offset in quarter notes from the bar start) of every onset of a part."""
    out = []
    bars = _body(arr)
    for n in arr.part(part).notes:
        for i, (s, ln) in enumerate(bars):
            if s - EPS <= n.start < s + ln - EPS:
                out.append((i, n.start - s))
    return out


CASES = [
    ("gospel", T128, ["C", "F", "C", "G7"]),
    ("jazz-waltz", T68, ["Fmaj7", "Gm7", "C7", "Fmaj7"]),
    ("waltz", T68, ["F", "Bb", "C7", "F"]),
]


@pytest.mark.parametrize(("style", "time", "chords"), CASES)
def test_compound_meter_drums_on_the_triplet_grid(style: str, time: TimeSignature, chords: list[str]) -> None:
    """Review finding 4: 12/8 gospel hi-hat at 0.75-beat spacing (a 4/4 grid stretched);
    6/8 jazz waltz ride on the quarter notes 1, 2, 2.5, 3 (a 3/4 pattern)."""
    arr = arrange(_song(time, chords), still(style), registry=REGISTRY, intro=False, ending=False)
    drums = _offsets(arr, "drums")
    assert drums
    # every stroke on an eighth of the compound bar (0.5-beat grid)
    off = max(abs(o * 2 - round(o * 2)) for _, o in drums)
    assert off < 0.01, f"drum strokes off the eighth grid by {off:.3f} eighth"
    # the weight of the groove (sum of velocities per eighth) is on the dotted-quarter pulses:
    # every pulse outweighs every eighth between them
    weight: dict[float, float] = {}
    for (_, o), v in zip(drums, _drum_velocities(arr), strict=True):
        weight[round(o, 3)] = weight.get(round(o, 3), 0.0) + v
    pulses = [w for o, w in weight.items() if abs(o / 1.5 - round(o / 1.5)) < 0.01]
    between = [w for o, w in weight.items() if abs(o / 1.5 - round(o / 1.5)) >= 0.01]
    assert len(pulses) == time.pulses
    assert min(pulses) > max(between, default=0.0), weight
    # the bass and the drums agree: every bass attack lands where the drums play, and the
    # bass starts each bar on the downbeat
    bass_part = next(p.name for p in arr.parts if p.role in ("bass", "walking"))
    bass = {round(o, 3) for _, o in _offsets(arr, bass_part)}
    assert 0.0 in bass
    assert bass <= set(weight), (sorted(bass), sorted(weight))
    # the piano does not strike every eighth: at most one attack per pulse on average
    piano = _offsets(arr, "piano")
    nbars = len(_body(arr))
    attacks = len({(i, round(o, 3)) for i, o in piano}) / nbars
    per_bar_max = time.pulses if style != "gospel" else 12
    assert attacks <= per_bar_max, f"{attacks:.1f} piano attacks per bar"


def _drum_velocities(arr: Arrangement) -> list[int]:
    bars = _body(arr)
    return [
        n.velocity for n in arr.part("drums").notes for s, ln in bars if s - EPS <= n.start < s + ln - EPS
    ]


def _drum_pitches(arr: Arrangement) -> list[int]:
    bars = _body(arr)
    return [n.pitch for n in arr.part("drums").notes for s, ln in bars if s - EPS <= n.start < s + ln - EPS]


def test_gospel_12_8_hat_plays_twelve_triplet_eighths() -> None:
    arr = arrange(_song(T128, ["C", "F"]), still("gospel"), registry=REGISTRY, intro=False, ending=False)
    hats = sorted({round(o, 3) for (i, o), p in zip(_offsets(arr, "drums"), _drum_pitches(arr), strict=True)
                   if p == 42 and i == 1})  # fmt: skip
    assert hats == [i * 0.5 for i in range(12)]


def test_jazz_waltz_6_8_piano_is_not_chopping() -> None:
    arr = arrange(
        _song(T68, ["Fmaj7", "Gm7", "C7", "Fmaj7"], 16), still("jazz-waltz"), registry=REGISTRY,
        intro=False, ending=False,
    )  # fmt: skip
    piano = _offsets(arr, "piano")
    per_bar = [len({round(o, 3) for i, o in piano if i == k}) for k in range(len(_body(arr)))]
    assert max(per_bar) <= 2, per_bar


# --- 14. A turnaround intro in short bars reaches V ------------------------------------------


@pytest.mark.parametrize(
    ("style", "time", "first", "dominant"),
    [("gospel", TimeSignature(3, 4), "F", 0), ("rnb-12-8", T68, "G", 2), ("gospel", T128, "C", 7),
     ("gospel", TimeSignature(4, 4), "C", 7), ("waltz", TimeSignature(3, 4), "Bb", 5)],
)  # fmt: skip
def test_turnaround_intro_ends_on_the_dominant(
    style: str, time: TimeSignature, first: str, dominant: int
) -> None:
    """Review finding 14: in 3/4 and 6/8 the intro was [I] [vi] and never sounded V."""
    st = replace(REGISTRY.get(style), intro=IntroSpec("turnaround", 2))
    s = song(("A", [bar(first, time=time), bar(first, time=time), bar(first, time=time)]))
    layout = build_layout(s, st, ending=False)
    intro = [sp.chord for b in layout.bars if b.kind == "intro" for sp in b.chords if sp.chord is not None]
    assert len(intro) >= 4, intro
    last = intro[-1]
    assert last.root_pc == dominant and {(t - dominant) % 12 for t in last.tones} >= {4, 10}, intro  # V7
    body = [b for b in layout.bars if b.kind == "body"]
    assert body[0].chords[0].chord is not None and body[0].chords[0].chord.root_pc == (dominant + 5) % 12


# --- 12. The click groups odd eighths as the band does -------------------------------------


@pytest.mark.parametrize(("num", "style"), [(5, "odd-5"), (7, "odd-7")])
def test_click_accents_fall_on_the_band_accents(num: int, style: str) -> None:
    """Review finding 12: in 5/8 the click counted 2+3 (pulses at eighths 1 and 3) while the
    band played 3+2 (piano and kick on eighths 1 and 4)."""
    from backline.arrange.roles._common import bar_grid
    from backline.render.click import click_times

    time = TimeSignature(num, 8)
    s = song(("A", [bar(c, time=time, tempo=120.0) for c in ("Dm7", "G7", "Cmaj7", "A7")]))
    arr = arrange(s, still(style), registry=REGISTRY, intro=False, ending=False)
    clicks = click_times(arr, count_in_bars=0)
    bars = _body(arr)
    for i, (b0, ln) in enumerate(bars):
        pulses = sorted(round(c.beat - b0, 3) for c in clicks if b0 - EPS <= c.beat < b0 + ln - EPS)
        grid = [round(p, 3) for p, _ in bar_grid(time).pulses]
        assert pulses == grid, f"bar {i + 1}: click {pulses}, band {grid}"
        # the kick and the piano's attacks start their groups where the click counts
        kicks = {round(o, 3) for (k, o), p in zip(_offsets(arr, "drums"), _drum_pitches(arr), strict=True)
                 if k == i and p == 36}  # fmt: skip
        assert kicks and kicks <= set(pulses), (kicks, pulses)
