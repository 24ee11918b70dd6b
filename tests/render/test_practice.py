"""Practice transforms: looped sections, tempo ramps and minus-one tracks, checked on the played form."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import pytest
from clickcue_plans import arrangement_of, bar, song_of

from backline.arrange.events import NoteEvent, Part
from backline.errors import BacklineError
from backline.model.form import expand
from backline.model.song import Note
from backline.render.cues import plan_cues
from backline.render.practice import (
    PracticeError,
    UnknownPartError,
    UnknownSectionError,
    loop_section,
    mute_parts,
    ramp_percents,
    tempo_ramp,
)


def form_song():  # type: ignore[no-untyped-def]
    """Intro (2) | Verse: |: 2 bars, 1st ending :|, 2nd ending (6 played) | Chorus (4 at 130) | Bridge 3/4 (2)."""
    verse = [
        bar(repeat_start=True),
        bar(),
        bar(endings=frozenset({1}), repeat_end=2),
        bar(endings=frozenset({2})),
    ]
    song = song_of(
        ("Intro", [bar(tempo=100.0)] * 2),
        ("Verse", verse),
        ("Chorus", [bar(tempo=130.0)] * 4),
        ("Bridge", [bar(3, 4, 130.0)] * 2),
    )
    melody = tuple(Note(i, Fraction(0), Fraction(1), 60 + i) for i in range(12))
    return replace(song, melody=melody)


def test_form_song_plays_as_expected() -> None:
    assert len(expand(form_song())) == 2 + 6 + 4 + 2


def test_loop_section_plays_just_that_section_n_times() -> None:
    song = form_song()
    looped = loop_section(song, "verse", 3)
    tl = expand(looped)
    assert len(tl) == 3 * 6  # the verse's own repeat is played out each time round
    assert [s.label for s in looped.sections] == ["Verse"] * 3
    assert all(not b.repeat_start and not b.repeat_end and not b.endings for b in looped.bars)
    assert tl.total_beats == 3 * 6 * 4
    # the melody follows its bars: written verse bars 2,3,4 | 2,3,5 per pass
    firsts = [n.pitch for n in sorted(looped.melody, key=lambda n: n.bar)]
    assert firsts == [62, 63, 64, 62, 63, 65] * 3
    bridge = loop_section(song, 4, 2)  # numbered from 1: Intro, Verse, Chorus, Bridge
    tl = expand(bridge)
    assert len(tl) == 4 and tl.total_beats == 12
    assert {b.tempo for b in bridge.bars} == {130.0}
    # cues announce each pass and the last one
    texts = [p for p, _, _, kind in plan_cues(arrangement_of(looped), count=False) if kind == "section"]
    assert texts == [("Verse",), ("Verse",), ("Last time", "Verse")]


def test_loop_section_errors() -> None:
    song = form_song()
    with pytest.raises(UnknownSectionError, match="Intro") as err:
        loop_section(song, "Solo", 2)
    assert isinstance(err.value, BacklineError) and "1:Intro" in str(err.value)
    assert "0:" not in str(err.value)  # sections are numbered from 1, as --loop takes them
    with pytest.raises(UnknownSectionError, match="no section number 9"):
        loop_section(song, 9, 2)
    with pytest.raises(UnknownSectionError, match="no section number 0"):
        loop_section(song, 0, 2)
    assert expand(loop_section(song, 1, 1)).bars[0].section == "Intro"
    with pytest.raises(PracticeError, match="1 or more"):
        loop_section(song, "Verse", 0)
    twin = song_of(("A", [bar()] * 2), ("B", [bar()]), ("A", [bar()] * 2))
    assert len(expand(loop_section(twin, "a", 2))) == 4  # identical sections: the first
    differ = song_of(("A", [bar()] * 2), ("A", [bar(3, 4)] * 2))
    with pytest.raises(UnknownSectionError, match=r"numbers 1, 2\)"):
        loop_section(differ, "A", 2)
    assert expand(loop_section(differ, 2, 2)).total_beats == 12
    empty = song_of(("Intro", []), ("Verse", [bar()] * 2))
    with pytest.raises(PracticeError, match=r"section 1 \[Intro\] has no bars: there is nothing to loop"):
        loop_section(empty, "Intro", 2)


def test_tempo_ramp_whole_song() -> None:
    song = form_song()
    ramp = tempo_ramp(song, 70, 10, 4)
    tl = expand(ramp)
    assert len(tl) == 4 * 14
    per_pass = [[pb.bar.tempo for pb in tl.bars[k * 14 : (k + 1) * 14]] for k in range(4)]
    written = [pb.bar.tempo for pb in expand(song).bars]
    for k, tempos in enumerate(per_pass):
        assert tempos == pytest.approx([t * (0.7 + 0.1 * k) for t in written])
    assert per_pass[0][0] == pytest.approx(70.0) and per_pass[3][0] == pytest.approx(100.0)
    assert per_pass[3][-1] == pytest.approx(130.0)
    # durations through the tempo map: each pass is faster than the one before
    tm = tl.tempo_map()
    ends = [tm.seconds_at(float(tl.bars[k * 14].start_beat)) for k in range(4)] + [
        tm.seconds_at(float(tl.total_beats))
    ]
    lengths = [b - a for a, b in itertools.pairwise(ends)]
    assert lengths[0] == pytest.approx(lengths[3] / 0.7, rel=1e-9)
    assert all(a > b for a, b in itertools.pairwise(lengths))
    # the verse repeat lands on its head again: two verse sections, as the cues hear it
    assert [s.label for s in ramp.sections][:5] == ["Intro", "Verse", "Verse", "Chorus", "Bridge"]
    assert len(ramp.melody) == 4 * 14


def test_tempo_ramp_one_section_and_errors() -> None:
    song = form_song()
    ramp = tempo_ramp(song, 50, 25, 3, section="Chorus")
    tl = expand(ramp)
    assert len(tl) == 12
    assert [pb.bar.tempo for pb in tl.bars] == pytest.approx([65.0] * 4 + [97.5] * 4 + [130.0] * 4)
    with pytest.raises(PracticeError, match="reaches"):
        tempo_ramp(song, 20, -10, 3)
    with pytest.raises(PracticeError):
        tempo_ramp(song, 80, 10, 0)


def _part(name: str, pitch: int) -> Part:
    return Part(name, name, 0, 0, (NoteEvent(0.0, 1.0, pitch, 100),))


def test_mute_parts_removes_only_those_parts() -> None:
    arr = arrangement_of(song_of(("A", [bar()] * 2)))
    arr = replace(arr, parts=(_part("drums", 36), _part("bass", 40), _part("piano", 60), _part("guitar", 64)))
    minus = mute_parts(arr, ["Bass", "guitar"])
    assert [p.name for p in minus.parts] == ["drums", "piano"]
    assert minus.parts[1] is arr.parts[2] and minus.bars == arr.bars and minus.tempo_map == arr.tempo_map
    assert mute_parts(arr, []) == arr
    with pytest.raises(UnknownPartError, match="drums, bass, piano, guitar") as err:
        mute_parts(arr, ["bass", "sax"])
    assert "'sax'" in str(err.value) and isinstance(err.value, BacklineError)


@pytest.mark.parametrize(
    ("start", "step", "times", "expected"),
    [
        (70, 10, None, [70, 80, 90, 100]),
        (75, 10, None, [75, 85, 95, 100]),  # was 75..105: the last pass clamped to the written tempo
        (90, 7, None, [90, 97, 100]),
        (100, 5, None, [100]),
        (120, 5, None, [120]),  # already at or above the written tempo: one pass
        (60, 0, None, [60]),
        (75, 10, 3, [75, 85, 95]),  # a number of passes is kept as given
        (80, 10, 4, [80, 90, 100, 110]),
    ],
)
def test_ramp_percents(start: float, step: float, times: int | None, expected: list[float]) -> None:
    assert ramp_percents(start, step, times) == pytest.approx(expected)


def test_tempo_ramp_without_a_count_stops_at_the_written_tempo() -> None:
    # `render --ramp 75%:10%` played its last pass at 105 %; the rule lived in the CLI
    song = form_song()
    ramp = tempo_ramp(song, 75, 10, section="Chorus")
    tempos = [pb.bar.tempo for pb in expand(ramp).bars]
    assert tempos == pytest.approx([97.5] * 4 + [110.5] * 4 + [123.5] * 4 + [130.0] * 4)
    assert max(tempos) == 130.0 and ramp.title.endswith("(Chorus 75%..100% x4)")
    with pytest.raises(PracticeError, match="step of 0 % or more"):
        tempo_ramp(song, 50, -10)
    with pytest.raises(PracticeError, match="at most"):
        tempo_ramp(song, 10, 0.01)


def test_practice_errors_live_in_backline_errors() -> None:
    from backline import errors
    from backline.render import practice

    assert practice.PracticeError is errors.PracticeError
    assert practice.UnknownSectionError is errors.UnknownSectionError
    assert practice.UnknownPartError is errors.UnknownPartError
    assert issubclass(errors.UnknownSectionError, errors.PracticeError)
    assert issubclass(errors.PracticeError, errors.FormError)
    assert issubclass(errors.UnknownSectionError, LookupError)
    assert issubclass(errors.UnknownPartError, errors.ArrangeError)
    assert issubclass(errors.UnknownPartError, LookupError)
    assert errors.UnknownPartError("x").exit_code == 2
