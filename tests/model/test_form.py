"""The form expander: repeats, endings, jumps and beat arithmetic, by property and by example."""

from __future__ import annotations

import functools
from fractions import Fraction as F
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.errors import FormError
from backline.formats.chart import loads
from backline.model.chord import parse_chord
from backline.model.form import expand
from backline.model.song import Bar, ChordEvent, Jump, Section, Song, TimeSignature
from corpora import corpora_path

C = (ChordEvent(F(0), parse_chord("C")),)
TIMES = [
    TimeSignature(4, 4),
    TimeSignature(3, 4),
    TimeSignature(6, 8),
    TimeSignature(7, 8),
    TimeSignature(5, 4),
]


def chart(text: str) -> Song:
    return loads(text, "form.chart")[0]


def order(song: Song) -> list[int]:
    return [pb.written for pb in expand(song)]


# --------------------------------------------------------------------------- property


@st.composite
def forms(draw: st.DrawFn) -> tuple[Song, list[int]]:
    """A random song made of plain runs, repeats (x2..x4) and ending groups, with the
    playback order worked out independently of the expander."""
    bars: list[Bar] = []
    expected: list[int] = []

    def add(**kw: object) -> int:
        time = draw(st.sampled_from(TIMES))
        bars.append(Bar(C, time=time, **kw))  # type: ignore[arg-type]
        return len(bars) - 1

    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["plain", "repeat", "endings", "endings12"]))
        body_len = draw(st.integers(1, 3))
        if kind == "plain":
            expected += [add() for _ in range(body_len)]
            continue
        times = draw(st.integers(2, 4))
        body = [add(repeat_start=True)] + [add() for _ in range(body_len - 1)]
        if kind == "repeat":
            bars[body[-1]] = _with(bars[body[-1]], repeat_end=times)
            expected += body * times
            continue
        if kind == "endings":
            # one ending per pass: [1] :| [2] :| ... [N]
            ends: list[list[int]] = []
            for e in range(1, times + 1):
                run = [add(endings=frozenset({e})) for _ in range(draw(st.integers(1, 2)))]
                if e < times:
                    count = draw(st.sampled_from([e + 1, times]))
                    bars[run[-1]] = _with(bars[run[-1]], repeat_end=count)
                ends.append(run)
            for p in range(times):
                expected += body + ends[p]
            continue
        # [1..N-1] shared ending repeated, then [N]
        shared = [add(endings=frozenset(range(1, times))) for _ in range(draw(st.integers(1, 2)))]
        bars[shared[-1]] = _with(bars[shared[-1]], repeat_end=times)
        last = [add(endings=frozenset({times})) for _ in range(draw(st.integers(1, 2)))]
        for _ in range(times - 1):
            expected += body + shared
        expected += body + last
    # cut the bars into sections anywhere: sections do not change the order
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(bars) - 1)), max_size=3)) | {0, len(bars)})
    sections = tuple(Section(f"S{i}", tuple(bars[a:b])) for i, (a, b) in enumerate(pairwise(cuts)) if b > a)
    return Song("generated", sections), expected


def _with(bar: Bar, **kw: object) -> Bar:
    from dataclasses import replace

    return replace(bar, **kw)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(forms())
def test_expanded_order_and_length_match_repeats_and_endings(case: tuple[Song, list[int]]) -> None:
    song, expected = case
    tl = expand(song)
    assert len(tl) == len(expected)
    assert [pb.written for pb in tl] == expected
    bars = song.bars
    # start beats add up bar lengths in playback order (mixed meters)
    pos = F(0)
    for pb in tl:
        assert pb.start_beat == pos
        pos += bars[pb.written].beats
    assert tl.total_beats == sum((bars[i].beats for i in expected), F(0))
    assert [pb.index for pb in tl] == list(range(len(expected)))


# --------------------------------------------------------------------------- examples


def test_repeat_x3_plays_three_times() -> None:
    song = chart("| C | |: F | G :| x3 | C |")
    assert order(song) == [0, 1, 2, 1, 2, 1, 2, 3]
    tl = expand(song)
    assert [pb.pass_number for pb in tl] == [1, 1, 1, 2, 2, 3, 3, 1]  # bar 3 is after the repeat


def test_repeat_without_start_goes_to_the_top() -> None:
    assert order(chart("| C | F :| G |")) == [0, 1, 0, 1, 2]


def test_first_and_second_endings() -> None:
    song = chart("|: C | F | [1] G | G7 :| [2] G7 | C |\n| Am |")
    assert order(song) == [0, 1, 2, 3, 0, 1, 4, 5, 6]


def test_third_ending_and_shared_ending() -> None:
    song = chart("|: C | [1,2] F :| x3 [3] G |")
    assert order(song) == [0, 1, 0, 1, 0, 2]
    song = chart("|: C | [1] D :| [2] E :| [3] F |")
    assert order(song) == [0, 1, 0, 2, 0, 3]


def test_dc_al_fine_skips_repeats_and_stops_at_fine() -> None:
    song = chart("|: C | G Fine :|\n| F | G D.C. al Fine |")
    assert order(song) == [0, 1, 0, 1, 2, 3, 0, 1]


def test_ds_al_coda_takes_the_coda_and_last_ending() -> None:
    text = (
        "[Intro] | A |\n"
        "[Verse] |: Segno C | [1] F :| [2] G To Coda |\n"
        "[Chorus] | Am | Em D.S. al Coda |\n"
        "[Coda] | Coda F | C End |\n"
        "[Never] | B |\n"
    )
    song = chart(text)
    # A, C F C G, Am Em, (D.S.) C G(2nd ending, To Coda) -> F C End
    assert order(song) == [0, 1, 2, 1, 3, 4, 5, 1, 3, 6, 7]
    tl = expand(song)
    assert [pb.section for pb in tl][-2:] == ["Coda", "Coda"]
    assert tl.bars[-1].bar.end


def test_dc_al_second_ending() -> None:
    song = chart("|: C | [1] D :| [2] E |\n| F D.C. al 2nd |")
    # after the jump the repeat is not taken and the 2nd ending is played
    assert order(song) == [0, 1, 0, 2, 3, 0, 2, 3]


def test_vamp_bars_are_played_in_order_with_their_flag() -> None:
    song = chart("|: vamp Dm7 | vamp G7 :|\n| C End |")
    tl = expand(song)
    assert [pb.written for pb in tl] == [0, 1, 0, 1, 2]
    assert [pb.bar.vamp for pb in tl] == [True, True, True, True, False]


def test_start_beats_in_six_eight_and_seven_eight() -> None:
    song = chart("time: 6/8\n| C . . F . . | G | time:7/8 C . . . F . . | G | time:4/4 C | time:12/8 C |")
    tl = expand(song)
    assert [pb.start_beat for pb in tl] == [F(0), F(3), F(6), F(19, 2), F(13), F(17)]
    assert tl.total_beats == F(23)
    # chord spans: F in 6/8 starts on the 4th eighth = 1.5 quarters
    spans = [(s, d) for s, d, _, _ in tl.chord_spans()]
    assert spans[:3] == [(F(0), F(3, 2)), (F(3, 2), F(3, 2)), (F(3), F(3))]
    # 7/8 bar: C for 4 eighths (2 quarters), F for 3 eighths
    assert spans[3:5] == [(F(6), F(2)), (F(8), F(3, 2))]


def test_start_beats_follow_repeats_in_odd_meters() -> None:
    song = chart("time: 7/8\n|: C | time:6/8 F :| x3 | time:5/4 G |")
    tl = expand(song)
    # 7/8 = 3.5 quarters, 6/8 = 3 quarters, three passes, then 5/4
    assert [pb.start_beat for pb in tl] == [F(0), F(7, 2), F(13, 2), F(10), F(13), F(33, 2), F(39, 2)]
    assert tl.total_beats == F(49, 2)


def test_seconds_follow_tempo_changes() -> None:
    song = chart("tempo: 120\n| C | C | tempo:60 C | C |")
    tl = expand(song)
    assert tl.seconds_at(F(8)) == pytest.approx(4.0)
    assert tl.seconds_at(F(16)) == pytest.approx(12.0)


def test_ds_without_segno_is_a_form_error() -> None:
    bars = (Bar(C), Bar(C, jump=Jump("DS", "coda")))
    with pytest.raises(FormError, match="no segno"):
        expand(Song("x", (Section("A", bars),)))


def test_to_coda_without_coda_is_a_form_error() -> None:
    bars = (Bar(C, to_coda=True), Bar(C, jump=Jump("DC", "coda")))
    with pytest.raises(FormError, match="no coda follows"):
        expand(Song("x", (Section("A", bars),)))


def test_empty_song_expands_to_nothing() -> None:
    assert len(expand(Song("empty", ()))) == 0


# --------------------------------------------------------------------------- End marks


def test_end_in_a_repeat_ends_on_the_last_pass() -> None:
    # End inside a repeat (as iReal writes U in a repeated section): both passes play
    assert order(chart("|: C | F End :|\n")) == [0, 1, 0, 1]
    assert order(chart("|: C | [1] F End :| [2] G |\n")) == [0, 1, 0, 2]


def test_end_before_a_dc_al_fine_waits_for_the_jump() -> None:
    song = chart("|: C | F Fine End :|\n| G | G7 D.C. al Fine |\n")
    assert order(song) == [0, 1, 0, 1, 2, 3, 0, 1]


def test_end_without_jump_or_repeat_still_ends_at_once() -> None:
    assert order(chart("| C | F End | G | G7 |\n")) == [0, 1]


@functools.cache
def _playlist(playlist: str) -> tuple[Song, ...]:
    from backline.formats import load_songs

    return tuple(load_songs(corpora_path("ireal", playlist)))


def _ireal(title: str, playlist: str) -> Song:
    return next(s for s in _playlist(playlist) if s.title == title)


@pytest.mark.parametrize(
    ("title", "playlist", "played"),
    [
        ("All Your Love", "blues50.txt", 48),  # 12 x2, 12-bar B, D.C. al Fine: 12
        ("Like A Lover", "brazilian.txt", 55),
        ("Goodbye", "jazz1350.txt", 43),  # U in the 1st ending: D.C. al 1st ending ends there
        ("Pensativa", "jazz1350.txt", 63),
        ("Crazy Blues", "blues50.txt", 84),
    ],
)
def test_ireal_end_marks_play_every_written_bar(title: str, playlist: str, played: int) -> None:
    song = _ireal(title, playlist)
    tl = expand(song)
    assert {pb.written for pb in tl} == set(range(len(song.bars)))
    assert len(tl) == played
    assert tl.bars[-1].bar.end  # and it still stops at the End mark


# --------------------------------------------------------------------------- size


def _long_song(n: int, every: int = 0) -> Song:
    """``n`` bars of C; a ``:|`` (with no ``|:``) every ``every`` bars when set."""
    bars = [Bar(C) for _ in range(n)]
    if every:
        bars = [_with(b, repeat_end=2) if (i + 1) % every == 0 else b for i, b in enumerate(bars)]
    return Song(title="Long", sections=(Section("A", tuple(bars)),))


def test_expansion_is_linear_in_the_number_of_bars() -> None:
    import time

    song = _long_song(20000)
    t0 = time.perf_counter()
    tl = expand(song)
    assert time.perf_counter() - t0 < 2.0  # was about 7 s (quadratic search for the |:)
    assert len(tl) == 20000
    assert tl.total_beats == 80000


def test_many_end_repeats_without_start_are_linear() -> None:
    import time

    song = _long_song(20000, every=1)  # a :| on every bar, no |: (each goes back to the top)
    t0 = time.perf_counter()
    with pytest.raises(FormError):  # it plays far more than the limit
        expand(song)
    assert time.perf_counter() - t0 < 2.0


def test_too_many_written_bars_is_a_clear_form_error() -> None:
    with pytest.raises(FormError, match="the chart has 20001 bars"):
        expand(_long_song(20001))
