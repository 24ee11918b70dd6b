"""The engine: form followed exactly, pushes, hits, N.C., swing measured, determinism, corpora."""

from __future__ import annotations

from dataclasses import replace

import pytest
from arrange_helpers import REGISTRY, aaba, bar, onsets, song, still

from backline.arrange.engine import arrange
from backline.arrange.midi_out import arrangement_to_midi_bytes
from backline.errors import ArrangeError, StyleError
from backline.model.song import Jump, TimeSignature

PITCHED_ROLES = ("bass", "walking", "comping", "guitar", "pad", "hits")


def test_form_bar_count_and_plan_contiguous() -> None:
    s = song(
        ("A", [bar("C", repeat_start=True), bar("F"), bar("G7", endings=frozenset({1}), repeat_end=2),
               bar("C", endings=frozenset({2}))]),
        ("B", [bar("Am7"), bar("D7", jump=Jump("DC"))]),
    )  # fmt: skip
    arr = arrange(s, "rock", registry=REGISTRY, intro=False, ending=False, parts=["drums"])
    # |: C F [1 G7 :| [2 C | Am7 D7 (D.C.) -> C F C  Am7 D7 C F C Am7 D7? D.C. plays to the end once
    written = [b.written_bar for b in arr.bars]
    assert written[:5] == [0, 1, 2, 0, 1]
    assert written[5] == 3
    assert len(arr.bars) == len(written)
    for a, b in zip(arr.bars, arr.bars[1:], strict=False):
        assert b.start_beat == pytest.approx(a.start_beat + a.beats)
        assert b.start_seconds == pytest.approx(a.start_seconds + a.beats * 60 / a.tempo)
    assert arr.total_beats == pytest.approx(4 * len(arr.bars))


def test_intro_and_ending_bars_and_chart_start() -> None:
    s = aaba()
    arr = arrange(s, "medium-swing", registry=REGISTRY, parts=["drums"])
    kinds = [b.section for b in arr.bars]
    assert kinds[:4] == ["intro"] * 4  # last four bars as the intro
    assert kinds[-5:] == ["ending"] * 5  # tag of four bars + the held chord
    assert arr.chart_start_beat == 16.0
    assert arr.chart_start_seconds == pytest.approx(16 * 60 / 120)
    plan = arr.plan_json()
    assert plan["chart_start_seconds"] == pytest.approx(8.0)
    assert len(plan["bars"]) == 4 + 32 + 5
    assert [b["written_bar"] for b in plan["bars"][4:36]] == list(range(32))
    no = arrange(s, "medium-swing", registry=REGISTRY, parts=["drums"], intro=False, ending=False)
    assert len(no.bars) == 32 and no.chart_start_beat == 0.0


def test_meter_and_tempo_changes_follow_the_chart() -> None:
    s = song(("A", [bar("C"), bar("F", time=TimeSignature(3, 4)), bar("G7", time=TimeSignature(7, 8), tempo=90),
                    bar("C", time=TimeSignature(6, 8), tempo=90)]))  # fmt: skip
    arr = arrange(s, "folk", registry=REGISTRY, intro=False, ending=False, parts=["drums"])
    assert [b.beats for b in arr.bars] == [4.0, 3.0, 3.5, 3.0]
    assert [(b.numerator, b.denominator) for b in arr.bars] == [(4, 4), (3, 4), (7, 8), (6, 8)]
    assert arr.tempo_map.bpm == (120.0, 90.0)
    assert arr.duration_seconds == pytest.approx(7 * 0.5 + 6.5 * 60 / 90)
    d = arr.part("drums").notes
    assert max(n.start for n in d) < arr.total_beats


def _full(style: str, s: object, **kw: object):  # type: ignore[no-untyped-def]
    return arrange(s, still(style), registry=REGISTRY, **kw)  # type: ignore[arg-type]


def test_pushes_land_an_eighth_early_in_every_part() -> None:
    s = song(("A", [bar("C"), bar("Am7"), bar("Dm7"), bar(("G7", 0, "push"), ("C", 2)), bar("C")]))
    arr = _full("pop", s, intro=False, ending=False)
    for p in arr.parts:
        if not p.notes:
            continue
        on = onsets(p.notes)
        assert 11.5 in on, p.name  # the push: an eighth before bar 4
        if p.role in PITCHED_ROLES:
            assert 12.0 not in on, p.name  # tied over, not struck again


def test_hits_silence_the_band_and_nc_rests() -> None:
    s = song(
        ("A", [bar("C"), bar(("F", 0, "hit")), bar("N.C."), bar("G7"), bar(("N.C.", 0, "hit")), bar("C")])
    )
    arr = _full("rock", s, intro=False, ending=False)
    for p in arr.parts:
        for n in p.notes:
            if p.role in PITCHED_ROLES:
                assert not (4.05 < n.start < 8.0), (p.name, n)  # after the hit (and its strum): rest
                if abs(n.start - 4.0) < 0.05:
                    assert n.duration <= 0.5 + 1e-9
                assert not (8.0 <= n.start < 12.0), (p.name, n)  # N.C.
                assert n.start + n.duration <= 8.0 + 1e-6 or n.start >= 12.0 - 1e-9
            assert not (16.0 <= n.start < 20.0), (p.name, n)  # N.C. hit: everyone, drums too
    drums = arr.part("drums")
    # N.C.: the band rests, drums too (no groove, backbeat or crash); they come back on G7
    assert not [n for n in drums.notes if 8.0 <= n.start < 12.0 - 0.05]
    assert [n for n in drums.notes if 12.0 - 0.05 <= n.start < 16.0]


def test_swing_ratio_measured_on_the_ride() -> None:
    for tempo, ratio in ((120, 2.0), (240, 1.55)):
        arr = arrange(aaba(), still("medium-swing"), registry=REGISTRY, tempo=tempo, parts=["drums"],
                      intro=False, ending=False)  # fmt: skip
        ride = [n.start for n in arr.part("drums").notes if n.pitch == 51 and 4 <= n.start < 8]
        offbeats = [t for t in ride if t % 1 > 1e-6]
        assert offbeats
        for t in offbeats:
            frac = t % 1
            assert frac / (1 - frac) == pytest.approx(ratio, rel=1e-6)


def test_same_seed_same_bytes_other_seed_differs() -> None:
    s = aaba()
    a = arrangement_to_midi_bytes(arrange(s, "medium-swing", registry=REGISTRY, seed=3))
    b = arrangement_to_midi_bytes(arrange(s, "medium-swing", registry=REGISTRY, seed=3))
    c = arrangement_to_midi_bytes(arrange(s, "medium-swing", registry=REGISTRY, seed=4))
    assert a == b and a != c


def test_style_from_hint_key_and_tempo() -> None:
    s = aaba()
    arr = arrange(s, registry=REGISTRY, parts=["drums"])
    assert arr.style == "medium-swing" and "Medium Swing" in arr.extra["style_reason"]
    three = TimeSignature(3, 4)
    waltz = song(("A", [bar("C", time=three), bar("G7", time=three)]), style="Waltz")
    assert arrange(waltz, registry=REGISTRY, parts=["drums"]).style == "jazz-waltz"
    assert arrange(replace(s, style="Jazz Waltz"), registry=REGISTRY, parts=["drums"]).style == "medium-swing"
    # a backline chart that names a style gets that style (iReal's plain "Waltz" stays a jazz waltz)
    from backline.formats.chart import loads

    own = loads("title: W\nstyle: waltz\ntime: 3/4\n| C | G7 | C | C |\n", "w.chart")[0]
    arr = arrange(own, registry=REGISTRY, parts=["drums"])
    assert arr.style == "waltz" and "named by the chart" in arr.extra["style_reason"]
    assert arrange(replace(own, source="book.txt"), registry=REGISTRY, parts=["drums"]).style == "jazz-waltz"
    fast = arrange(s, "rock", registry=REGISTRY, tempo=60, parts=["drums"], intro=False, ending=False)
    assert fast.duration_seconds == pytest.approx(32 * 4)
    with pytest.raises(ArrangeError, match="not a key"):
        arrange(s, "rock", registry=REGISTRY, key="H")
    with pytest.raises(StyleError, match="no part"):
        arrange(s, "rock", registry=REGISTRY, parts=["tuba"])
    with pytest.raises(StyleError, match="unknown style"):
        arrange(s, "polka-dots", registry=REGISTRY)


def test_key_transposes_every_part() -> None:
    s = song(("A", [bar("C"), bar("F"), bar("G"), bar("C")]), style="Pop")
    a = arrange(s, still("pop"), registry=REGISTRY, intro=False, ending=False)
    b = arrange(s, still("pop"), registry=REGISTRY, intro=False, ending=False, key="D")
    bass_a = {n.pitch % 12 for n in a.part("bass").notes if n.start < 4}
    bass_b = {n.pitch % 12 for n in b.part("bass").notes if n.start < 4}
    assert {(p + 2) % 12 for p in bass_a} == bass_b


@pytest.mark.parametrize(
    "meter", [(1, 4), (2, 2), (2, 4), (3, 4), (3, 8), (4, 4), (5, 4), (5, 8), (6, 8), (7, 8), (7, 4), (9, 8),
              (11, 8), (12, 8), (13, 16), (15, 8), (4, 2), (3, 1), (64, 32)],
)  # fmt: skip
def test_every_meter_plays_in_some_style(meter: tuple[int, int]) -> None:
    ts = TimeSignature(*meter)
    s = song(("A", [bar("C", time=ts), bar("G7", time=ts), bar("C", time=ts)]))
    style, _ = REGISTRY.match("", ts)
    arr = arrange(s, style, registry=REGISTRY, parts=["drums"], intro=False, ending=False)
    assert len(arr.bars) == 3
    assert arr.total_beats == pytest.approx(3 * float(ts.bar_beats))
    notes = arr.part("drums").notes
    assert notes and all(0 <= n.start < arr.total_beats for n in notes)
    # each bar has a stroke on its downbeat
    for b in arr.bars:
        assert any(abs(n.start - b.start_beat) < 0.05 for n in notes)


def test_corpus_songs_in_every_style() -> None:
    from backline.formats import load_songs
    from corpora import corpora_path

    songs = load_songs(corpora_path("ireal", "jazz1350.txt"))
    picks = [songs[i] for i in (0, 137, 611)]
    for st in REGISTRY:
        for s in picks:
            arr = arrange(s, st, registry=REGISTRY, seed=1)
            assert len(arr.parts) == len(st.parts) >= 5
            for p in arr.parts:
                assert all(p.low_note <= n.pitch <= p.high_note for n in p.notes), (st.name, p.name)
                assert all(n.start + n.duration <= arr.total_beats + 1e-6 for n in p.notes)
            assert sum(len(p.notes) for p in arr.parts) > 50
            assert arrangement_to_midi_bytes(arr)[:4] == b"MThd"


def test_ending_resolves_a_turnaround_and_holds() -> None:
    s = song(("A", [bar("Cmaj7"), bar("Am7"), bar("Dm7"), bar("G7")]))
    arr = _full("pop", s, intro=False)
    last = arr.bars[-1]
    assert last.section == "ending"
    pad = [n for n in arr.part("pad").notes if n.start >= last.start_beat - 1e-9]
    assert pad and {n.pitch % 12 for n in pad} <= {0, 4, 7, 11, 2, 9}
    for n in pad:
        assert n.start + n.duration == pytest.approx(last.start_beat + last.beats)


def test_an_unknown_part_is_an_arrange_error_that_is_also_a_key_error() -> None:
    from backline.errors import PartNotFoundError

    arr = arrange(aaba(), "pop", registry=REGISTRY, seed=1)
    with pytest.raises(
        ArrangeError, match=r"^the arrangement has no part 'tuba'; its parts: drums, "
    ) as info:
        arr.part("tuba")  # was a raw KeyError
    assert isinstance(info.value, PartNotFoundError) and isinstance(info.value, KeyError)
    with pytest.raises(KeyError):
        arr.part("tuba")
    assert arr.part("drums").name == "drums"


@pytest.mark.parametrize(
    ("style", "tempo", "said"),
    [
        ("medium-swing", 300, "300 BPM is far above the medium-swing style's range (90-220 BPM): "
         "its grooves were made for that range; up-tempo-swing plays it"),
        ("bossa-nova", 300, "300 BPM is far above the bossa-nova style's range (90-180 BPM): "
         "its grooves were made for that range"),
        ("pop", 50, "50 BPM is far below the pop style's range (70-140 BPM): its grooves were made for "
         "that range; pop-ballad plays it"),
        ("medium-swing", 240, None),  # within 15 % of the range: not said
        ("pop", 62, None),
    ],
)  # fmt: skip
def test_a_tempo_far_outside_the_styles_range_is_said(style: str, tempo: float, said: str | None) -> None:
    arr = arrange(aaba(), style, registry=REGISTRY, tempo=tempo)
    assert arr.extra["warnings"] == ([said] if said else [])
