"""The .chart text format: docs examples, placement, form marks, errors, round trips."""

from __future__ import annotations

import re
import time as _time
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backline.data import demo_chart_path
from backline.errors import ChartSyntaxError, ChordSymbolError
from backline.formats import ireal, musicxml
from backline.formats.chart import ChartChordError, default_beats, dump_bytes, dumps, load_bytes, loads
from backline.model.chord import parse_chord
from backline.model.form import expand
from backline.model.pitch import parse_key
from backline.model.song import Bar, ChordEvent, Jump, Section, Song, TimeSignature
from corpora import corpora_path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "chart-format.md"


def one(text: str) -> Song:
    songs = loads(text, "song.chart")
    assert len(songs) == 1
    return songs[0]


def beats(bar: Bar) -> list[tuple[F, str]]:
    return [(e.beat, "NC" if e.chord is None else e.chord.name) for e in bar.chords]


def roundtrip(song: Song) -> Song:
    text = dump_bytes(song)
    back = load_bytes(text, "back.chart")
    assert len(back) == 1
    return back[0]


# --------------------------------------------------------------------------- docs and examples


def _doc_blocks() -> list[str]:
    return re.findall(r"```chart\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_docs_have_many_examples() -> None:
    assert len(_doc_blocks()) >= 8


@pytest.mark.parametrize("index", range(len(_doc_blocks())))
def test_every_docs_example_reads_expands_and_round_trips(index: int) -> None:
    block = _doc_blocks()[index]
    songs = loads(block, f"chart-format.md#{index}")
    assert songs
    for song in songs:
        assert song.bars, song.title
        assert len(expand(song)) >= len(song.bars) - 3  # endings may skip a few written bars
        assert roundtrip(song) == song


CHART_FILES = [demo_chart_path(), *sorted((ROOT / "examples").glob("*.chart"))]


@pytest.mark.parametrize("path", CHART_FILES, ids=lambda p: p.name)
def test_shipped_charts_read_and_round_trip(path: Path) -> None:
    songs = load_bytes(path.read_bytes(), str(path))
    for song in songs:
        assert song.title
        assert roundtrip(song) == song
        tl = expand(song)
        assert tl.bars[-1].bar.end or tl.bars[-1].bar.fine or tl.bars[-1].written == len(song.bars) - 1


def test_examples_folder_has_three_to_five_charts() -> None:
    assert 3 <= len(CHART_FILES) - 1 <= 5


def test_demo_song_has_everything_the_demo_needs() -> None:
    song = one(demo_chart_path().read_text(encoding="utf-8"))
    bars = song.bars
    assert 32 <= len(bars) <= 48
    labels = [s.label for s in song.sections]
    assert labels[0] == "Intro" and labels[-1] == "Outro"
    assert any(b.repeat_start for b in bars) and any(b.repeat_end == 2 for b in bars)
    assert {1, 2} <= {e for b in bars for e in b.endings}
    evs = [e for b in bars for e in b.chords]
    assert any(e.push for e in evs) and any(e.hit for e in evs)
    assert bars[-1].end
    tl = expand(song)
    # intro 4 + A twice (8 + 8) + B 8 + A 8 + outro 3
    assert len(tl) == 39
    assert tl.total_beats == 39 * 4
    assert song.key == parse_key("F") and song.tempo == 150.0


# --------------------------------------------------------------------------- placement


@pytest.mark.parametrize(
    ("time", "n", "expected"),
    [
        ((4, 4), 1, [0]),
        ((4, 4), 2, [0, 2]),
        ((4, 4), 3, [0, 2, 3]),
        ((4, 4), 4, [0, 1, 2, 3]),
        ((3, 4), 2, [0, 2]),
        ((5, 4), 2, [0, 3]),
        ((6, 8), 2, [0, F(3, 2)]),
        ((6, 8), 3, [0, 1, 2]),
        ((7, 8), 2, [0, 2]),
        ((12, 8), 4, [0, F(3, 2), 3, F(9, 2)]),
        ((2, 2), 2, [0, 2]),
        ((4, 4), 5, [0, F(4, 5), F(8, 5), F(12, 5), F(16, 5)]),
    ],
)
def test_default_placement(time: tuple[int, int], n: int, expected: list[F]) -> None:
    assert default_beats(n, TimeSignature(*time)) == [F(x) for x in expected]


def test_dots_slashes_and_at_place_chords() -> None:
    song = one(
        "| C . . F | C / F G | . . G7 . | C . . . . . . <F |\n"
        "| C@1 F@3.5 | Dm7@1 G7@2+2/3 | time:6/8 C . . F . . | A@1 D@4.5 |\n"
        "| time:7/8 E . . . . A . | C@7.5 |\n"
    )
    b = song.bars
    assert beats(b[0]) == [(0, "C"), (3, "F")]
    assert beats(b[1]) == [(0, "C"), (2, "F"), (3, "G")]
    assert beats(b[2]) == [(2, "G7")]
    assert beats(b[3]) == [(0, "C"), (F(7, 2), "F")] and b[3].chords[1].push
    assert beats(b[4]) == [(0, "C"), (F(5, 2), "F")]
    assert beats(b[5]) == [(0, "Dm7"), (F(5, 3), "G7")]
    assert beats(b[6]) == [(0, "C"), (F(3, 2), "F")]
    assert beats(b[7]) == [(0, "A"), (F(7, 4), "D")]  # eighth 4.5 in 6/8 = 1.75 quarters
    assert b[8].time == TimeSignature(7, 8) and beats(b[8]) == [(0, "E"), (F(5, 2), "A")]
    assert b[9].time == TimeSignature(7, 8) and beats(b[9]) == [(F(13, 4), "C")]


def test_flags_nc_percent_and_empty_bars() -> None:
    song = one("| <F7! | C7~ | N.C. | NC . . <G7 | % | . | <N.C.! |")
    b = song.bars
    assert b[0].chords == (ChordEvent(F(0), parse_chord("F7"), push=True, hit=True),)
    assert b[1].chords[0].fermata and not b[1].chords[0].hit
    assert b[2].chords == (ChordEvent(F(0), None),)
    assert b[3].chords[1] == ChordEvent(F(3), parse_chord("G7"), push=True)
    assert b[4].chords == b[3].chords
    assert b[5].chords == ()
    assert b[6].chords[0].chord is None and b[6].chords[0].push and b[6].chords[0].hit


def test_settings_sections_and_changes() -> None:
    song = one(
        "title: T\ncomposer: C. Writer\nkey: Eb\ntempo: 96.5\ntime: 6/8\nstyle: ballad\n"
        "[Verse 2 40%]\n| Eb | Ab |\ntempo: 80\n| Bb | time:3/4 key:Gm Gm |\n"
        '[Chorus] | "all in" vamp Cm | key:none Cm |\n'
    )
    assert (song.title, song.composer, song.style) == ("T", "C. Writer", "ballad")
    assert song.key == parse_key("Eb")
    assert [(s.label, s.intensity) for s in song.sections] == [("Verse 2", 40), ("Chorus", None)]
    b = song.bars
    assert [x.tempo for x in b] == [96.5, 96.5, 80.0, 80.0, 80.0, 80.0]
    assert [str(x.time) for x in b] == ["6/8", "6/8", "6/8", "3/4", "3/4", "3/4"]
    assert [str(x.key) for x in b] == ["Eb", "Eb", "Eb", "Gm", "Gm", "None"]
    assert b[4].comment == "all in" and b[4].vamp


def test_repeats_endings_and_counts() -> None:
    song = one("|: C | F :| x3\n|: G | [1] D | D :| [2] Em :| [3] Am :| [4] C | C ]| G |")
    b = song.bars
    assert b[0].repeat_start and b[1].repeat_end == 3
    assert b[2].repeat_start
    assert [sorted(x.endings) for x in b[3:]] == [[1], [1], [2], [3], [4], [4], []]
    assert (b[4].repeat_end, b[5].repeat_end, b[6].repeat_end) == (2, 3, 4)
    assert [pb.written for pb in expand(song)] == [0, 1, 0, 1, 0, 1, 2, 3, 4, 2, 5, 2, 6, 2, 7, 8, 9]


def test_jumps_and_marks_attach_to_the_right_bar() -> None:
    song = one(
        "| C | Segno F | G To Coda |\n| C D.S. al Coda\n[Coda]\n| Coda F | C Fine | G |\n"
        "| C D.C. al Fine | G D.C. al 2nd End. | F D.S. | End\n"
    )
    b = song.bars
    assert b[1].segno and b[2].to_coda and b[4].coda and b[5].fine and b[-1].end
    assert b[3].jump == Jump("DS", "coda")
    assert b[7].jump == Jump("DC", "fine")
    assert b[8].jump == Jump("DC", "2")
    assert b[9].jump == Jump("DS", "end")


def test_several_songs_in_one_file() -> None:
    songs = loads("title: One\n| C |\n---\n\n---\ntitle: Two\nkey: G\n| G |\n", "set.chart")
    assert [s.title for s in songs] == ["One", "Two"]
    assert songs[1].bars[0].key == parse_key("G")


def test_numeral_charts_follow_the_key() -> None:
    song = one("key: G\nnumerals: nashville\n| 1 | 4 | 6m7 | 5/7 | key:Bb 1 4 | D7 |\n")
    assert [beats(b) for b in song.bars][:4] == [[(0, "G")], [(0, "C")], [(0, "Em7")], [(0, "D/F#")]]
    assert beats(song.bars[4]) == [(0, "Bb"), (2, "Eb")]
    assert beats(song.bars[5]) == [(0, "D7")]
    roman = one("key: C\nnumerals: roman\n| ii7 V7 | I | vi |\n")
    assert [beats(b) for b in roman.bars] == [[(0, "Dm7"), (2, "G7")], [(0, "C")], [(0, "Am")]]
    with pytest.raises(ChartSyntaxError, match=r"song.chart:2:3: .*needs a key"):
        one("numerals: nashville\n| 1 |")


def test_writer_keeps_spelling_and_writes_readable_bars() -> None:
    song = one("key: C\n[A]\n| C^7 Dm7 | G7(b9) . . <C-7! | Cø@1 F7alt@3.5 | % | . |\n")
    text = dumps(song)
    assert "| C^7 Dm7 | G7(b9) . . <C-7! | Cø@1 F7alt@3.5 | % |" in text
    assert "[A]" in text and "key: C" in text


def test_writer_handles_odd_labels_and_comments() -> None:
    bar = Bar((ChordEvent(F(0), parse_chord("C")),), comment='say "go"\nnow')
    song = Song(
        "Odd",
        (
            Section("2", (bar,)),
            Section("Chorus 80%", (bar,), 55),
            Section("", (bar,)),
            Section(' "q" ', (bar,)),
        ),
    )
    assert roundtrip(song) == song


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("| C | F |\n| G | Cmaj13#5#9#11b |", "2:7", "unknown chord symbol 'Cmaj13#5#9#11b'"),
        ("| C | <Hm7 |", "1:8", "unknown chord symbol 'Hm7'"),
        ("| C . . . F |", "1:3", "5 beats written in a bar of 4/4"),
        ("time: 3/4\n| C | C@4 |", "2:7", "beat 4 is outside this 3/4 bar"),
        ("| C@0 |", "1:3", "beat 0 is outside"),
        ("| C@3 F@2 |", "1:7", "is not after the chord before it"),
        ("| C F@3 |", "1:3", "every chord needs one"),
        ("| C | [1] F | G |", "1:7", "ending [1] without a repeat sign"),
        (":| C |", "1:1", "':|' with no bars to repeat"),
        ("|: :| C |", "1:4", "':|' with no bars to repeat"),
        ("| C | x3 |", "1:7", "a repeat count must follow ':|'"),
        ("| C :| x0", "1:8", "repeat count 0 is out of range"),
        ("| C | F D.S. al Coda |", "1:9", "has no Segno"),
        ("| C To Coda | F |", "1:5", "no bar after it is marked 'Coda'"),
        ("tempo: fast\n| C |", "1:8", "tempo must be beats per minute"),
        ("time: 4/5\n| C |", "1:7", "power of two"),
        ("key: H\n| C |", "1:6", "not a key"),
        ("colour: red\n| C |", "1:1", "unknown setting 'colour'"),
        ("tempo 140\n| C |", "1:1", "'tempo' is not a chord: a setting takes a colon (tempo: ...)"),
        ("| C |\nKey G", "2:1", "'Key' is not a chord: a setting takes a colon (key: ...)"),
        ("| % | C |", "1:3", "this is the first bar"),
        ("| C | F ] |", "1:9", "no ending ([1], [2]...) is open"),
        ('| C "oops |', "1:5", "not closed"),
        ("| C | F |:", "1:9", "is not followed by any bar"),
        ("[Chorus 120%]\n| C |", "1:9", "out of range (0-100)"),
        ("| C | F |\ntitle: late", "2:8", "must come before the first bar"),
        ("| C | time:3/4 C . . F |", "1:16", "4 beats written in a bar of 3/4"),
        ("| C@2.x |", "1:3", "write a beat like @3"),
        ("| [0] C :|", "1:3", "ending numbers run from 1"),
        ("| C D E F G |", "1:3", "5 chords written in a bar of 4/4"),
        ("time: 3/4\n| C D E F |", "2:3", "4 chords written in a bar of 3/4"),
        ("| C | | F |", "1:7", "empty bar"),
        ("|: C | | F :|", "1:8", "empty bar"),
        ("title: Nothing\nkey: C\n", "1:1", "the chart has no bars"),
        ("| C |\n---\ntitle: Second\n", "3:1", "the chart has no bars"),
    ],
)
def test_errors_point_at_the_token(text: str, where: str, message: str) -> None:
    with pytest.raises(ChartSyntaxError) as info:
        loads(text, "song.chart")
    assert str(info.value).startswith(f"song.chart:{where}: "), str(info.value)
    assert message in str(info.value)


def test_unknown_chord_is_also_a_chord_symbol_error() -> None:
    with pytest.raises(ChordSymbolError) as info:
        loads("\n\n| C | Dm7 |  Xyz7 |", "song.chart")
    err = info.value
    assert isinstance(err, ChartChordError) and isinstance(err, ChartSyntaxError)
    assert err.symbol == "Xyz7"
    assert str(err).startswith("song.chart:3:14: unknown chord symbol 'Xyz7': cannot read")


def test_not_utf8_is_a_chart_error() -> None:
    with pytest.raises(ChartSyntaxError, match="not UTF-8"):
        load_bytes(b"| C | \xff |", "bad.chart")


# --------------------------------------------------------------------------- round trips of any song

SYMBOLS = ["C", "Cmaj7", "C^7", "Dm7", "D-7", "G7", "G7(b9,#11)", "Bb6/9", "F#m7b5", "Eø", "Ab7alt",
           "E7sus4", "C/E", "Bbmaj9", "A13", "Db", "Gm6", "Co7", "C+", "F#"]  # fmt: skip
TIMES = [TimeSignature(4, 4), TimeSignature(3, 4), TimeSignature(6, 8), TimeSignature(7, 8),
         TimeSignature(5, 4), TimeSignature(12, 8), TimeSignature(2, 2), TimeSignature(2, 4)]  # fmt: skip
KEYS = [None, parse_key("C"), parse_key("Bb"), parse_key("F#m")]
LABELS = ["A", "B", "Verse", "Chorus 2", "", "3", "Solo 50%", "Coda"]


@st.composite
def events(draw: st.DrawFn, time: TimeSignature) -> tuple[ChordEvent, ...]:
    grid = draw(st.sampled_from([1, 2, 3, 4, 6]))
    cells = int(time.bar_beats * grid)
    positions = sorted(draw(st.sets(st.integers(0, cells - 1), max_size=5)))
    out = []
    for p in positions:
        sym = draw(st.sampled_from([*SYMBOLS, "NC"]))
        chord = None if sym == "NC" else parse_chord(sym)
        out.append(
            ChordEvent(
                F(p, grid),
                chord,
                push=draw(st.booleans()),
                hit=draw(st.booleans()),
                fermata=draw(st.booleans()),
            )
        )
    return tuple(out)


@st.composite
def songs(draw: st.DrawFn) -> Song:
    time = draw(st.sampled_from(TIMES))
    tempo = draw(st.sampled_from([120.0, 96.0, 132.5]))
    key = draw(st.sampled_from(KEYS))
    song_key = key
    sections = []
    segno_done = False
    for _ in range(draw(st.integers(1, 4))):
        bars: list[Bar] = []
        blocks = draw(st.integers(1, 3))
        for _ in range(blocks):
            kind = draw(st.sampled_from(["plain", "repeat", "endings"]))
            n = draw(st.integers(1, 3))
            specs: list[dict[str, object]] = [{} for _ in range(n)]
            if kind == "repeat":
                specs[0]["repeat_start"] = True
                specs[-1]["repeat_end"] = draw(st.integers(1, 4))
            elif kind == "endings":
                specs[0]["repeat_start"] = True
                total = draw(st.integers(2, 3))
                for e in range(1, total + 1):
                    for _k in range(draw(st.integers(1, 2))):
                        specs.append({"endings": frozenset({e})})
                    if e < total:
                        specs[-1]["repeat_end"] = draw(st.sampled_from([e + 1, total]))
                    if e == total and draw(st.booleans()):
                        specs.append({})
            for spec in specs:
                if draw(st.integers(0, 5)) == 0:
                    time = draw(st.sampled_from(TIMES))
                if draw(st.integers(0, 6)) == 0:
                    tempo = draw(st.sampled_from([60.0, 90.0, 140.0, 172.25]))
                if draw(st.integers(0, 6)) == 0:
                    key = draw(st.sampled_from(KEYS))
                flags = draw(st.sets(st.sampled_from(["segno", "fine", "vamp", "comment"]), max_size=2))
                segno = "segno" in flags and not segno_done
                segno_done = segno_done or segno
                bars.append(
                    Bar(
                        draw(events(time)),
                        time=time,
                        tempo=tempo,
                        key=key,
                        segno=segno,
                        fine="fine" in flags,
                        vamp="vamp" in flags,
                        comment='watch "me" | here' if "comment" in flags else "",
                        **spec,  # type: ignore[arg-type]
                    )
                )
        sections.append(
            Section(draw(st.sampled_from(LABELS)), tuple(bars), draw(st.sampled_from([None, 0, 75, 100])))
        )
    # a road map at the end of the last section
    last = sections[-1]
    tail = list(last.bars)
    jump = draw(st.sampled_from([None, Jump("DC", "fine"), Jump("DS", "end"), Jump("DC", "2")]))
    if jump is not None and (jump.kind == "DC" or segno_done):
        tail[-1] = replace(tail[-1], jump=jump)
    sections[-1] = Section(last.label, tuple(tail), last.intensity)
    return Song(
        draw(st.sampled_from(["Tune", "", "A #1 hit"])), tuple(sections), "Someone", song_key, "swing"
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs())
def test_any_song_round_trips(song: Song) -> None:
    back = roundtrip(song)
    assert back == song
    # writing again gives the same text: the writer is stable
    assert dump_bytes(back) == dump_bytes(song)


def test_reading_is_fast() -> None:
    row = "| Cmaj7 Am7 | Dm7 . . <G7 | Em7@1 A7@3.5 | %  | Fmaj7 | Fm6 | C/E Ebo7 | Dm7 G7! |\n"
    text = "title: Long\nkey: C\n" + "".join(f"[S{i}]\n{row}{row}" for i in range(250))
    t0 = _time.perf_counter()
    song = one(text)
    elapsed = _time.perf_counter() - t0
    assert len(song.bars) == 4000
    assert elapsed < 1.5, f"reading 4000 bars took {elapsed:.2f} s"


# --------------------------------------------------------------------------- real charts from other formats


def _assert_round_trips(songs: list[Song]) -> int:
    checked = 0
    for song in songs:
        song = replace(song, melody=())  # a chart carries no melody
        back = roundtrip(song)
        assert back == song, song.title
        checked += 1
    return checked


@pytest.mark.parametrize("playlist", ["jazz1350", "pop400", "blues50", "latin", "brazilian", "country"])
def test_ireal_corpus_songs_round_trip_through_chart(playlist: str) -> None:
    path = corpora_path("ireal", f"{playlist}.txt")
    songs = ireal.load_bytes(path.read_bytes(), str(path))
    if playlist == "jazz1350":
        songs = songs[::6]  # keep the test fast; the rest of the playlists are read whole
    assert _assert_round_trips(songs) >= 40


def _ending_without_repeat(bars: tuple[Bar, ...]) -> bool:
    i = 0
    while i < len(bars):
        if not bars[i].endings:
            i += 1
            continue
        j = i
        while j < len(bars) and bars[j].endings:
            j += 1
        if not any(b.repeat_end for b in bars[max(0, i - 1) : j + 1]):
            return True
        i = j
    return False


def _plays_the_same(song: Song, back: Song) -> None:
    a, b = expand(song), expand(back)
    assert [p.written for p in a] == [p.written for p in b], song.title
    assert [p.bar.chords for p in a] == [p.bar.chords for p in b], song.title
    assert [replace(x, endings=frozenset()) for x in song.bars] == [
        replace(x, endings=frozenset()) for x in back.bars
    ], song.title


def test_musicxml_corpus_songs_round_trip_through_chart() -> None:
    files = sorted(corpora_path("musicxml").rglob("*.mxl"))[::4]
    checked = 0
    for path in files:
        for song in musicxml.load_bytes(path.read_bytes(), str(path)):
            if _ending_without_repeat(song.bars):
                # an ending with no repeat sign near it (as some scores have): the chart
                # closes it with ']' before its ':|', or drops a mark that changes nothing
                _plays_the_same(replace(song, melody=()), roundtrip(replace(song, melody=())))
                checked += 1
                continue
            checked += _assert_round_trips([song])
    assert checked >= 50


@pytest.mark.parametrize(
    ("path", "exact"),
    [
        (
            (
                "musicxml",
                "openewld",
                "Lorenz_Hart-Richard_Rodgers",
                "My_Funny_Valentine",
                "My_Funny_Valentine.mxl",
            ),
            False,
        ),
        (("musicxml", "openewld", "Glen_MacDonough-Victor_Herbert", "Toyland", "Toyland.mxl"), True),
    ],
)
def test_odd_endings_from_musicxml_write_charts_that_read_back(path: tuple[str, ...], exact: bool) -> None:
    from backline.formats import load_songs

    song = replace(load_songs(corpora_path(*path))[0], melody=())
    text = dumps(song)
    back = loads(text, "back.chart")[0]  # was: "ending [1] without a repeat sign"
    _plays_the_same(song, back)
    if exact:  # Toyland: a first ending closed with ']' before its ':|'
        assert back == song
        assert "[1]" in text and "]" in text
    else:  # My Funny Valentine: a first ending with no repeat at all changes nothing
        assert "[1]" not in text


def test_ending_closed_before_its_repeat_sign() -> None:
    song = one("|: C | [1] F ] | G | G7 :| [2] C |\n")
    assert [p.written for p in expand(song)] == [0, 1, 2, 3, 0, 2, 3, 4]
    assert roundtrip(song) == song
    with pytest.raises(ChartSyntaxError, match="without a repeat sign"):
        one("| C | [1] F ] | G | G7 |\n")


def test_strict_reading_keeps_what_a_band_can_play() -> None:
    # eight chords in 4/4 are eighths (as with dots); a repeat sign pair is no empty bar
    assert len(one("| C D E F G A B C |").bars[0].chords) == 8
    assert len(one("| C :| |: F :|").bars) == 2
    assert len(one("| C D E F |").bars[0].chords) == 4


def test_ending_numbers_with_a_gap_are_read_with_a_warning() -> None:
    song = one("|: C | [1] F :| [3] G |")
    assert any("ending [3] but no ending [2]" in w and w.startswith("song.chart:1:17") for w in song.warnings)
    assert not one("|: C | [1] F :| [2] G |").warnings


def test_a_song_without_bars_is_not_written() -> None:
    with pytest.raises(ChartSyntaxError, match="no bars"):
        dumps(Song("Empty", ()))


def test_a_section_header_with_no_bars_warns() -> None:
    song = one("[Verse]\n\n[Chorus]\n| C | F |")
    assert [s.label for s in song.sections] == ["Verse", "Chorus"]
    assert [w for w in song.warnings if "no bars" in w] == [
        "song.chart:1:1: section [Verse] has no bars: it is left out "
        "(write its bars under the header, or remove the header)"
    ]
    assert not one("[Verse]\n| C |\n[Chorus]\n| F |").warnings


def test_to_coda_without_a_jump_warns() -> None:
    song = one("| C | D To Coda | E | F |\n| Coda G | A |")
    assert [p.written for p in expand(song)] == [0, 1, 4, 5]  # iReal's convention, kept
    assert any(
        "'To Coda' with no D.C. or D.S." in w and w.startswith("song.chart:1:9") for w in song.warnings
    )
    # the warning says what happens: the coda is taken on the last pass (it said "first")
    assert any("last time through" in w for w in song.warnings)
    assert not any("first time through" in w for w in song.warnings)
    song = one("| Segno C | D To Coda | E | F D.S. al Coda |\n| Coda G | A |")
    assert not song.warnings
    assert [p.written for p in expand(song)] == [0, 1, 2, 3, 0, 1, 4, 5]


@pytest.mark.parametrize("field", ["title", "composer", "style"])
def test_a_bar_sign_in_a_text_setting_reads_back(field: str) -> None:
    value = "Kelly Clarkson(Lavigne-Benenate-Gerra|rd) | x"
    bars = (Bar((ChordEvent(F(0), parse_chord("C")),)), Bar((ChordEvent(F(0), parse_chord("F")),)))
    song = replace(Song("T", (Section("A", bars),)), **{field: value})  # type: ignore[arg-type]
    back = roundtrip(song)  # was: "unknown chord symbol 'title:'"
    assert getattr(back, field) == value
    assert [beats(b) for b in back.bars] == [[(F(0), "C")], [(F(0), "F")]]


def test_title_with_a_bar_sign_is_a_setting_not_bars() -> None:
    song = one("title: Me | You\nkey: C\n| C | F |\n")
    assert song.title == "Me | You" and len(song.bars) == 2


@pytest.mark.parametrize(("header", "col"), [("[Intro -5%]", 8), ("[Intro 1000%]", 8), ("[Intro, +200%]", 9)])
def test_section_intensity_out_of_range_is_refused_where_written(header: str, col: int) -> None:
    with pytest.raises(ChartSyntaxError, match=r"out of range \(0-100\)") as err:
        one(f"title: x\n{header} | C |\n")  # '-5%' was read as the label 'Intro -' at 5%
    assert str(err.value).startswith(f"song.chart:2:{col}:")


@pytest.mark.parametrize(
    ("text", "where", "needle"),
    [
        ("|: C | [1] F :| [1] G :| [2] A |", "2:17", "ending [1] repeats ending [1]"),
        ("|: |: C :| F :|", "2:4", "'|:' right after another '|:'"),
        ("|: C | F |: G :|", "2:10", "repeat opened at 2:1 has no ':|' yet"),
        ("| Segno C | Segno D | D.S. |", "2:13", "a second Segno (the first is at 2:3)"),
    ],
)
def test_repeats_and_marks_that_lose_bars_are_warned_about(text: str, where: str, needle: str) -> None:
    song = one(f"title: x\n{text}\n")  # these were read without any message
    assert any(w.startswith(f"song.chart:{where}: ") and needle in w for w in song.warnings), song.warnings


def test_sensible_repeats_give_no_warning() -> None:
    song = one("title: x\n|: C | [1] F :| [2] G Fine |\n|: A | B :| Segno C | D | D.S. al Fine |\n")
    assert song.warnings == ()
