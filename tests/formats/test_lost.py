"""Writers that cannot hold part of a song say so (FormLostWarning) and never write a file
that cannot be read back."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest

from backline.errors import ChartError
from backline.formats import dumps_song, loads_songs
from backline.formats.chart import loads
from backline.formats.lost import FormLostWarning
from backline.model.form import expand
from backline.model.song import Song

FORM = "| Segno C! | <F~ | [1,2] G :| x3 [3] C To Coda | D.S. al Coda D |\n| Coda C End |"


def test_chordpro_names_every_mark_it_leaves_out() -> None:
    song = loads(FORM, "form.chart")[0]
    with pytest.warns(FormLostWarning) as rec:
        data = dumps_song(song, ".cho")
    msg = str(rec[0].message)
    for name in ("segno", "coda", "To Coda", "D.C./D.S.", "End", "hits", "fermatas", "pushes", "[1,2]"):
        assert name in msg, name
    assert "form.chart" in msg
    assert loads_songs(data, "x.cho")[0].bars  # and the file reads back


def test_musicxml_names_hits_fermatas_and_an_early_end() -> None:
    song = loads("| C! | F~ End | G |", "m.chart")[0]
    with pytest.warns(FormLostWarning, match=r"End \(bar 2\).*hits \(!\) \(bar 1\).*fermatas"):
        dumps_song(song, ".musicxml")


@pytest.mark.parametrize("ext", [".cho", ".musicxml", ".chart", ".txt"])
def test_a_plain_song_writes_without_warning(ext: str) -> None:
    song = loads("|: C | F :| G | C |", "p.chart")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FormLostWarning)
        data = dumps_song(song, ext)
    assert loads_songs(data, "x" + ext)[0].bars


@pytest.mark.parametrize("ext", [".cho", ".musicxml", ".mxl", ".chart", ".txt"])
def test_a_song_with_no_bars_is_refused_not_written_unreadable(ext: str) -> None:
    with pytest.raises(ChartError, match="no bars"):
        dumps_song(Song("Empty", ()), ext)


# ------------------------------------------------------------------ iReal Pro


def _ireal_warning(text: str) -> tuple[str, Song]:
    song = loads(text, "loss.chart")[0]
    with pytest.warns(FormLostWarning) as rec:
        data = dumps_song(song, ".txt")
    assert len(rec) == 1
    return str(rec[0].message), loads_songs(data, "x.txt")[0]


def test_ireal_names_chords_it_moves_and_marks_it_drops() -> None:
    msg, back = _ireal_warning(
        "title: Loss\n[Verse]\n| C@1 F@3.5 | C7! | <F7 | G7 |\n[Bridge]\n| Am7 | D7 | Dm7@2.5 | G7 |\n"
    )
    assert msg.startswith("Loss: iReal Pro cannot hold ")
    assert "chord positions off its beat grid (bars 1, 7)" in msg
    assert "section labels 'Bridge' (bar 5)" in msg
    assert "hits (!) (bar 2)" in msg and "pushes (<) (bar 3)" in msg
    assert [str(e.beat) for e in back.bars[0].chords] == ["0", "2"]  # moved, as the warning says


def test_ireal_names_tempo_key_and_intensity_it_cannot_hold() -> None:
    msg, _ = _ireal_warning(
        "title: T\ntempo: 96.5\nkey: C\n[A 80%]\n| C | F |\ntempo: 120\nkey: D\n| D | G |\n"
    )
    assert "tempo changes (bar 3)" in msg and "key changes (bar 3)" in msg
    assert "tempo 96.5 (written as 96)" in msg
    assert "section intensities (A 80%)" in msg
    # bars before the first mark read back as 'Intro' when that mark is A (iReal's convention)
    msg, back = _ireal_warning("title: I\n| C |\n[A]\n| F |\n")
    assert "section labels '' (bar 1)" in msg and back.sections[0].label == "Intro"


def test_ireal_names_a_form_it_reads_otherwise_and_the_meter_1_2() -> None:
    # iReal's first ending runs to its '}': one that stops before the repeat sign cannot be written
    song = loads("title: E\n|: C | [1] F ] | G :| [2] C |\n", "e.chart")[0]
    with pytest.warns(FormLostWarning, match=r"the form as written \(bar 3\)"):
        dumps_song(song, ".txt")
    song = loads("title: H\ntime: 1/2\n| C | G |\n", "h.chart")[0]
    with pytest.warns(FormLostWarning, match=r"the meter 1/2 \(written as 2/4\) \(bars 1, 2\)"):
        data = dumps_song(song, ".txt")
    assert loads_songs(data, "x.txt")[0].bars[0].time.bar_beats == 2  # not 12/8


def test_ireal_old_urls_name_the_tempo_they_cannot_hold() -> None:
    from backline.formats import ireal

    song = loads("title: T\ntempo: 160\nstyle: Medium Swing\n| C | F |", "t.chart")[0]
    with pytest.warns(FormLostWarning, match=r"the tempo 160 \(irealbook:// has none: read as 120\)"):
        url = ireal.dump_url(song, scrambled=False)
    assert ireal.parse_url(url)[0].tempo == 120.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", FormLostWarning)
        ireal.dump_url(song)  # irealb:// holds it


@pytest.mark.parametrize(
    "text",
    [
        "[A]\n| C | F |\n[B]\n| G | C |\n[Intro]\n| C |",
        "| C . . F | G7 C |\n[B]\n| C |",  # an unlabelled start reads back as 'A'
        "[Verse]\n|: C | [1] F :| [2] G |\n[A]\n| C Segno | F To Coda | G D.S. al Coda |\n[Coda]\n| Coda C End |",
    ],
)
def test_ireal_writes_what_it_can_hold_without_warning(text: str) -> None:
    song = loads("title: Fine\n" + text, "ok.chart")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FormLostWarning)
        dumps_song(song, ".txt")


# ------------------------------------------------------------------ ChordPro and MusicXML


def test_chordpro_keeps_a_repeat_count_beside_a_comment() -> None:
    # an iReal "4x" comment on the bar of a ':| x4' came back as a comment, the count lost
    song = loads('title: C\n| C | F "4x" :| x4\n| G |', "c.chart")[0]
    back = loads_songs(dumps_song(song, ".cho"), "x.cho")[0]
    assert [(b.repeat_end, b.comment) for b in back.bars] == [(0, ""), (4, "4x"), (0, "")]


def test_chordpro_closes_an_ending_and_holds_the_chord_played_before() -> None:
    # the ending stayed open over the next repeat; the empty bar after [1] restated the
    # chord written before it (F), not the one played before it on the second pass (G)
    song = loads("title: E\n|: C | G | [1] F | . :| [2] C |\n|: Am | Dm :|\n", "e.chart")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FormLostWarning)
        data = dumps_song(song, ".cho")
    back = loads_songs(data, "x.cho")[0]
    assert [b.endings for b in back.bars] == [b.endings for b in song.bars]
    assert back.bars[3].chords == ()
    assert [pb.written for pb in expand(back)] == [pb.written for pb in expand(song)]


def test_chordpro_and_musicxml_keep_or_name_a_repeat_played_once() -> None:
    song = loads("title: O\n|: C | F :| x1\n| G |", "o.chart")[0]
    assert loads_songs(dumps_song(song, ".cho"), "x.cho")[0].bars[1].repeat_end == 1
    with pytest.warns(FormLostWarning, match=r"a repeat played once \(x1\) \(bar 2\)"):
        dumps_song(song, ".musicxml")


def test_musicxml_names_a_plain_jump_it_would_read_as_al_coda_and_an_open_ending() -> None:
    song = loads("title: J\n| Segno C | F To Coda | G D.S. |\n| Coda C |", "j.chart")[0]
    with pytest.warns(FormLostWarning, match=r"D.C./D.S. to the end past a Fine or To Coda \(bar 3\)"):
        dumps_song(song, ".musicxml")
    song = loads("title: K\n|: C | [1] F :| [2] G |", "k.chart")[0]
    (sec,) = song.sections
    song = replace(
        song, sections=(replace(sec, bars=(sec.bars[0], replace(sec.bars[1], repeat_end=0), sec.bars[2])),)
    )
    with pytest.warns(FormLostWarning, match="an ending without a repeat sign before the next ending"):
        dumps_song(song, ".musicxml")
