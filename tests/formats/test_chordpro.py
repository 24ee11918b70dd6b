"""ChordPro and chords-over-lyrics charts: reading, the rhythm convention, grids, writing."""

from __future__ import annotations

from fractions import Fraction

import pytest

from backline.errors import ChartSyntaxError
from backline.formats import loads_songs
from backline.formats.chordpro import dump_bytes, is_chord_line, load_bytes, load_text
from backline.model.pitch import parse_key
from backline.model.song import Song, TimeSignature
from corpora import corpora_path

F = Fraction


def bars_of(song: Song) -> list[list[tuple[Fraction, str]]]:
    return [[(e.beat, e.chord.name if e.chord else "NC") for e in b.chords] for b in song.bars]


def test_inline_chords_follow_the_bar_convention() -> None:
    (song,) = load_text(
        "{title: Swing Low}\n{key: D}\n{time: 4/4}\n{tempo: 90}\n"
        "{start_of_chorus}\nSwing [D]low, sweet [G]chari[D]ot,\n"
        "Comin' for to carry me [A7]home.\n{end_of_chorus}\n",
        "swing.cho",
    )
    assert song.title == "Swing Low" and song.key == parse_key("D")
    assert [s.label for s in song.sections] == ["Chorus"]
    # D: one bar; G and D in one word share a bar (2 + 2 beats); A7 on a new line: one bar
    assert bars_of(song) == [[(0, "D")], [(0, "G"), (2, "D")], [(0, "A7")]]
    assert all(b.tempo == 90 and b.time == TimeSignature(4, 4) for b in song.bars)


def test_three_chords_in_a_word_group_and_waltz_time() -> None:
    (s,) = load_text("[C]a[F]b[G]c\n", "x.cho")
    assert bars_of(s) == [[(0, "C"), (2, "F"), (3, "G")]]
    (s,) = load_text("{time: 3/4}\n[C]ab[G]c\n", "x.cho")
    assert bars_of(s) == [[(0, "C"), (2, "G")]]
    (s,) = load_text("{time: 6/8}\n[C]a[F]b[G]c\n", "x.cho")
    assert bars_of(s) == [[(0, "C"), (F(3, 2), "F")], [(0, "G")]]


def test_instrumental_line_gives_a_bar_per_chord() -> None:
    (s,) = load_text("[Am][F][C][G]\n", "x.cho")
    assert bars_of(s) == [[(0, "Am")], [(0, "F")], [(0, "C")], [(0, "G")]]


def test_grid_has_real_rhythm_and_repeats() -> None:
    (s,) = load_text(
        '{time: 4/4}\n{start_of_grid: label="Intro"}\n'
        "|: C . . G | F~G . Am . :| x3\n| . . . . | % |\n{end_of_grid}\n",
        "g.cho",
    )
    assert s.sections[0].label == "Intro"
    assert bars_of(s) == [
        [(0, "C"), (3, "G")],
        [(0, "F"), (F(1, 2), "G"), (2, "Am")],
        [],  # an empty bar: no new chord, the one played before it keeps sounding
        [],
    ]
    assert s.bars[0].repeat_start and s.bars[1].repeat_end == 3


def test_directives_sections_and_chorus_recall() -> None:
    text = (
        "{t: Song}\n{st: sub}\n{artist: Band}\n{key: G}\n{capo: 2}\n"
        "{start_of_verse: Verse 1}\n[G]one and all [C]two\n{end_of_verse}\n"
        "{soc}\n[D]la la\n{eoc}\n{c: Last time}\n{chorus}\n"
        "{tab}\n{start_of_tab}\ne|---3---|\n{end_of_tab}\n"
    )
    (s,) = load_text(text, "d.cho")
    assert s.composer == "Band"
    assert s.key == parse_key("A")  # capo 2: G shapes sound in A
    assert [sec.label for sec in s.sections] == ["Verse 1", "Chorus", "Chorus"]
    assert bars_of(s) == [[(0, "A")], [(0, "D")], [(0, "E")], [(0, "E")]]
    (shapes,) = load_text(text, "d.cho", apply_capo=False)
    assert shapes.key == parse_key("G") and bars_of(shapes)[0] == [(0, "G")]


def test_transpose_directive_stacks_and_moves_the_key() -> None:
    text = (
        "{key: D}\n[D]a\n{transpose: 2}\n[D]b\n{transpose: +2}\n[D]c\n{transpose}\n[D]d\n{transpose}\n[D]e\n"
    )
    (s,) = load_text(text, "t.cho")
    assert [b.chords[0].chord.name for b in s.bars] == ["D", "E", "Gb", "E", "D"]  # type: ignore[union-attr]
    assert [str(b.key) for b in s.bars] == ["D", "E", "Gb", "E", "D"]


def test_several_songs_and_numerals_and_latin() -> None:
    songs = load_text(
        "{title: One}\n{key: Bb}\n[1]a [4]b [5/7]c [vi]d\n{new_song}\n{title: Two}\n[Sol]a [Re7]b [Do]c\n",
        "n.cho",
    )
    assert [s.title for s in songs] == ["One", "Two"]
    assert [c.name for c in songs[0].chord_symbols()] == ["Bb", "Eb", "F/A", "Gm"]
    assert [c.name for c in songs[1].chord_symbols()] == ["G", "D7", "C"]


def test_nc_annotations_optional_and_memory() -> None:
    text = (
        "{start_of_verse}\n[G]one of us [*riff] [(Em)]two of us [N.C.]three\n{end_of_verse}\n"
        "{transpose: 2}\n{start_of_verse}\n[^]uno y otro [^]dos y otro [^]tres\n{end_of_verse}\n"
    )
    (s,) = load_text(text, "m.cho")
    assert [[n for _, n in bar] for bar in bars_of(s)] == [["G"], ["Em"], ["NC"], ["A"], ["F#m"], ["NC"]]


def test_defined_chords_are_read_from_their_fingering() -> None:
    (s,) = load_text(
        "{define: Bes base-fret 1 frets 1 1 3 3 3 1}\n{define: D' frets x x 0 2 3 2}\n[Bes]a [D']b\n", "x.cho"
    )
    assert [c.name for c in s.chord_symbols()] == ["Bb", "D"]


def test_unknown_chord_is_text_with_a_located_warning() -> None:
    (s,) = load_text("{title: x}\n\nHello [C]there [Qm7]you [G]\n", "bad.cho")
    assert [c.name for c in s.chord_symbols()] == ["C", "G"]  # never guessed, never played
    assert len(s.warnings) == 2
    assert s.warnings[0].startswith("bad.cho:3:17: unknown chord 'Qm7'")
    # a lyric sheet without a tempo is told what it gets
    assert (
        s.warnings[1]
        == "bad.cho:1:1: no {tempo} in the song: it plays at 120 BPM (write {tempo: N}, or give --tempo)"
    )
    (timed,) = load_text("{title: x}\n{tempo: 96}\n\nHello [C]there [G]\n", "ok.cho")
    assert timed.warnings == () and timed.bars[0].tempo == 96
    with pytest.raises(ChartSyntaxError, match=r"x.cho:2:2: .*scale-degree"):
        load_text("{title: x}\n[4]a\n", "x.cho")


def test_chords_over_lyrics_text() -> None:
    text = (
        "My Song\n\nVERSE 1:\n"
        "G          C      D\n"
        "Hello my friend, hello\n"
        "Em   C\n"
        "hello again\n\n"
        "Chorus:\n| Am  G | F |\n"
    )
    songs = loads_songs(text.encode(), "song.txt")
    (s,) = songs
    assert [sec.label for sec in s.sections] == ["Verse 1", "Chorus"]
    assert bars_of(s) == [
        [(0, "G")], [(0, "C")], [(0, "D")],
        [(0, "Em"), (2, "C")],  # one word apart: shared bar
        [(0, "Am"), (2, "G")], [(0, "F")],
    ]  # fmt: skip


def test_chord_line_detection() -> None:
    assert is_chord_line("G   D/F#   Em7   C(add9)")
    assert is_chord_line("| Am | F  G | N.C. |")
    assert not is_chord_line("A man walked in")
    assert not is_chord_line("La la la")
    assert not is_chord_line("E|---3---0---|")


def test_round_trip_through_grids() -> None:
    text = (
        "{title: RT}\n{key: Eb}\n{time: 3/4}\n{tempo: 96}\n"
        '{start_of_grid: label="A"}\n|: Eb . Bb7 | Cm . . | Ab~Bb . . :|\n{end_of_grid}\n'
        "{key: F}\n{time: 4/4}\n{sov}\n[F]la [C7]li[Dm]lo\n{eov}\n"
    )
    (a,) = load_text(text, "rt.cho")
    (b,) = load_bytes(dump_bytes(a), "rt.cho")
    assert b.title == a.title and b.key == a.key
    assert bars_of(b) == bars_of(a)
    assert [(x.time, x.tempo, x.key, x.repeat_start, x.repeat_end) for x in b.bars] == [
        (x.time, x.tempo, x.key, x.repeat_start, x.repeat_end) for x in a.bars
    ]
    assert [s.label for s in b.sections] == ["A", "Verse"]


def test_every_corpus_file_loads() -> None:
    folder = corpora_path("chordpro", "songs")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert len(files) == 111
    songs = bars = chords = 0
    failures: list[str] = []
    warned: list[str] = []
    untimed = 0  # songs without a {tempo}: told they play at 120 BPM
    for p in files:
        try:
            loaded = load_bytes(p.read_bytes(), str(p))
        except ChartSyntaxError as exc:
            failures.append(f"{p.name}: {exc}")
            continue
        warned.extend(w for s in loaded for w in s.warnings if "no {tempo}" not in w)
        untimed += sum(1 for s in loaded for w in s.warnings if "no {tempo}" in w)
        songs += len(loaded)
        bars += sum(len(s.bars) for s in loaded)
        chords += sum(1 for s in loaded for _ in s.chord_symbols())
    assert failures == []
    # The one file that writes non-chords in chord brackets ("[unknown]", "[A13/unk]") on
    # purpose loads, with every such bracket reported at its line and column:
    bad = str(folder / "t_a2crd_t004.cho")
    assert warned and all(w.startswith(bad + ":") for w in warned)
    assert warned[0].startswith(f"{bad}:6:16: unknown chord 'unknown'")
    assert any("'A13/unk'" in w for w in warned)
    assert songs == 121 and bars > 1024 and chords > 1265  # an empty grid bar adds no chord
    assert 0 < untimed < songs


@pytest.mark.parametrize(
    ("beats", "expect"),
    [
        ([Fraction(0), Fraction(1, 10**9)], [(Fraction(0), "F")]),  # was a MemoryError
        ([Fraction(0), Fraction(98)], [(Fraction(0), "C"), (Fraction(47, 12), "F")]),  # was an IndexError
        ([Fraction(0), Fraction(1, 997)], [(Fraction(0), "F")]),
    ],
)
def test_writer_puts_unplaceable_beats_on_a_bounded_grid_with_a_warning(
    beats: list[Fraction], expect: list[tuple[Fraction, str]]
) -> None:
    from backline.formats.lost import FormLostWarning
    from backline.model.chord import parse_chord
    from backline.model.song import Bar, ChordEvent, Section

    evs = tuple(ChordEvent(b, parse_chord(n)) for b, n in zip(beats, ["C", "F"], strict=True))
    song = Song("Tiny", (Section("A", (Bar(evs), Bar((ChordEvent(Fraction(0), parse_chord("G")),)))),))
    with pytest.warns(FormLostWarning, match=r"outside the bar \(moved or dropped\) \(bar 1\)"):
        data = dump_bytes(song)
    assert len(data) < 1000
    back = load_bytes(data, "t.cho")[0]
    assert bars_of(back) == [expect, [(Fraction(0), "G")]]


def test_writer_keeps_exact_grids_without_a_warning() -> None:
    import warnings

    song = load_text("{start_of_grid}\n| C . F . . . | G |\n{end_of_grid}\n", "g.cho")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = dump_bytes(song)
    assert bars_of(load_bytes(data, "g.cho")[0]) == bars_of(song)


def test_the_style_hint_is_read_and_written() -> None:
    """docs/styles.md: `{meta: style ...}` is the chart's style hint; it was ignored, and the
    writer dropped a song's style."""
    from backline.formats import dumps_song, loads_songs

    text = b"{title: CP}\n{meta: style Bossa Nova}\n{key: C}\n{start_of_grid}\n| C . . . | F . . . |\n{end_of_grid}\n"
    song = loads_songs(text, "cp.cho")[0]
    assert song.style == "Bossa Nova"
    assert loads_songs(dumps_song(song, ".cho"), "back.cho")[0].style == "Bossa Nova"
    assert loads_songs(b"{title: X}\n{style: Rock}\n[C]la\n", "s.cho")[0].style == "Rock"
