"""The drummer: grids on the grid, crashes, fills, hits, kits, meter adaptation."""

from __future__ import annotations

import pytest
from arrange_helpers import REGISTRY, aaba, bar, song, still

from backline.arrange.engine import arrange
from backline.arrange.roles.drums import adapt_grid
from backline.arrange.styles import KITS
from backline.errors import StyleError
from backline.model.song import TimeSignature

CRASH, KICK, SNARE, HAT, RIDE = 49, 36, 38, 42, 51


def drums(s: object, style: str, **kw: object):  # type: ignore[no-untyped-def]
    arr = arrange(s, still(style), registry=REGISTRY, parts=["drums"], **kw)  # type: ignore[arg-type]
    return arr, arr.part("drums")


def test_rock_groove_sits_on_the_eighth_grid() -> None:
    _arr, d = drums(aaba(), "rock", intro=False, ending=False)
    assert d.channel == 9 and d.is_drum and d.program == KITS["room"]
    for n in d.notes:
        assert (n.start * 2) == pytest.approx(round(n.start * 2), abs=1e-9)
    # backbeat: snare on 2 and 4 of ordinary bars
    bar2 = [n for n in d.notes if 4 <= n.start < 8]
    assert sorted(n.start for n in bar2 if n.pitch == SNARE) == [5.0, 7.0]
    assert len([n for n in bar2 if n.pitch == HAT]) == 8


def test_crash_on_every_section_downbeat_and_fills_before() -> None:
    s = aaba()
    arr, d = drums(s, "rock", intro=False, ending=False)
    crashes = {n.start for n in d.notes if n.pitch == CRASH}
    starts = [b.start_beat for b in arr.bars if b.index == 0 or b.section != arr.bars[b.index - 1].section
              or b.written_bar == 0 or b.written_bar == 8]  # fmt: skip
    section_starts = {0.0, 32.0, 64.0, 96.0}
    assert section_starts <= crashes
    assert set(starts) <= crashes | section_starts
    # fill bars (the last bar of each section) have toms; ordinary bars do not
    toms = {43, 45, 47, 48, 50}
    for b in arr.bars:
        has_tom = any(n.pitch in toms for n in d.notes if b.start_beat <= n.start < b.start_beat + 4)
        assert has_tom == (b.index in (7, 15, 23)), b.index


def test_swing_grid_variation_b_on_the_bridge() -> None:
    _arr, d = drums(aaba(), "medium-swing", intro=False, ending=False)
    # the bridge (variation B) adds snare comping; the A sections have none outside fills
    a_snares = [n for n in d.notes if n.pitch == SNARE and n.start < 28]
    b_snares = [n for n in d.notes if n.pitch == SNARE and 64 <= n.start < 92]
    assert not a_snares and len(b_snares) >= 7
    assert d.program == KITS["jazz"]


def test_brushes_kit_and_intro_count() -> None:
    _arr, d = drums(aaba(), "jazz-ballad")
    assert d.program == KITS["brushes"] == 40
    arr2, d2 = drums(aaba(), "pop")  # drums intro: one count bar of cross-stick quarters
    intro_notes = [n for n in d2.notes if n.start < 4]
    assert [n.start for n in intro_notes] == [0.0, 1.0, 2.0, 3.0]
    assert arr2.chart_start_beat == 4.0


def test_hits_and_stops() -> None:
    s = song(("A", [bar("C"), bar(("F", 0, "hit")), bar(("N.C.", 0, "hit")), bar("G7"), bar("C")]))
    _arr, d = drums(s, "rock", intro=False, ending=False)
    in_hit = [n for n in d.notes if 4 <= n.start < 8]
    assert {n.pitch for n in in_hit if n.start == 4.0} >= {CRASH, KICK, SNARE}
    assert all(n.pitch in (HAT, 44, RIDE) for n in in_hit if n.start > 4.0)  # only time on the hat
    assert not [n for n in d.notes if 8 <= n.start < 12]  # N.C. hit: drums stop too
    assert [n for n in d.notes if 12 <= n.start < 16]


def test_push_gets_the_crash_an_eighth_early() -> None:
    s = song(("A", [bar("C"), bar("F")]), ("B", [bar(("G7", 0, "push")), bar("C")]))
    _arr, d = drums(s, "rock", intro=False, ending=False)
    crashes = sorted(n.start for n in d.notes if n.pitch == CRASH)
    assert 7.5 in crashes and 8.0 not in crashes


def test_meter_adaptation() -> None:
    grid = REGISTRY.get("rock").drums["A"]
    three = adapt_grid(grid, 3, 4)[0]
    assert max(o for o, _, _ in three) < 3.0  # cut to three beats
    assert [o for o, p, _ in three if p == SNARE] == [1.0]
    five = adapt_grid(grid, 5, 4)[0]
    assert [o for o, p, _ in five if p == KICK] == [0.0, 2.0, 2.5, 4.0]  # beat one again
    # 12/8 has the same four pulses as 4/4: the grid is scaled (eighths -> dotted eighths)
    slow = REGISTRY.get("slow-blues").drums["A"]
    in44 = adapt_grid(slow, 4, 4)[0]
    assert sorted({round(o * 3, 6) for o, p, _ in in44 if p == HAT}) == list(range(12))  # triplets
    with pytest.raises(StyleError, match="meter_strict"):
        adapt_grid(grid, 3, 4, True)


def test_waltz_grid_native_in_three() -> None:
    s = song(("A", [bar("C", time=TimeSignature(3, 4)), bar("G7", time=TimeSignature(3, 4))] * 2))
    arr, d = drums(s, "jazz-waltz", intro=False, ending=False)
    assert arr.total_beats == 12.0
    assert sorted(n.start for n in d.notes if n.pitch == 44 and n.start < 3) == [1.0, 2.0]
