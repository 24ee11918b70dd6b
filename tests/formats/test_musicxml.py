"""MusicXML: reading every harmony kind, positions, form, melody; writing and reading back."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

from backline.errors import ChartError
from backline.formats import musicxml
from backline.model.chord import parse_chord
from backline.model.form import expand
from backline.model.pitch import Key, parse_note_name
from backline.model.song import Bar, ChordEvent, Jump, Note, Section, Song, TimeSignature
from corpora import corpora_path

F = Fraction


def _doc(measures: str, divisions: int = 2, extra_attrs: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0">
  <work><work-title>Test</work-title></work>
  <identification><creator type="composer">Someone</creator></identification>
  <part-list><score-part id="P1"><part-name>Lead</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>{divisions}</divisions><key><fifths>-2</fifths><mode>major</mode></key>
      <time><beats>4</beats><beat-type>4</beat-type></time>{extra_attrs}</attributes>
      {measures}
  </part>
</score-partwise>""".encode()


def _harm(
    root: str, kind: str, alter: int = 0, degrees: str = "", bass: str = "", text: str | None = None
) -> str:
    ra = f"<root-alter>{alter}</root-alter>" if alter else ""
    t = f' text="{text}"' if text is not None else ""
    b = f"<bass><bass-step>{bass}</bass-step></bass>" if bass else ""
    return (
        f"<harmony><root><root-step>{root}</root-step>{ra}</root><kind{t}>{kind}</kind>{b}{degrees}</harmony>"
    )


def _deg(value: int, alter: int, dtype: str) -> str:
    return (
        f"<degree><degree-value>{value}</degree-value><degree-alter>{alter}</degree-alter>"
        f"<degree-type>{dtype}</degree-type></degree>"
    )


def _note(step: str, octave: int, dur: int, extra: str = "") -> str:
    return f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch><duration>{dur}</duration>{extra}</note>"


def _rest(dur: int) -> str:
    return f"<note><rest/><duration>{dur}</duration></note>"


def _pcs(*names: str) -> tuple[int, ...]:
    return tuple(sorted({parse_note_name(n).pc for n in names}))


# Every MusicXML kind value on C (functional kinds: C taken as the tonic), with its pitch classes.
KINDS = [
    ("major", _pcs("C", "E", "G")),
    ("minor", _pcs("C", "Eb", "G")),
    ("augmented", _pcs("C", "E", "G#")),
    ("diminished", _pcs("C", "Eb", "Gb")),
    ("dominant", _pcs("C", "E", "G", "Bb")),
    ("major-seventh", _pcs("C", "E", "G", "B")),
    ("minor-seventh", _pcs("C", "Eb", "G", "Bb")),
    ("diminished-seventh", _pcs("C", "Eb", "Gb", "A")),
    ("augmented-seventh", _pcs("C", "E", "G#", "Bb")),
    ("half-diminished", _pcs("C", "Eb", "Gb", "Bb")),
    ("major-minor", _pcs("C", "Eb", "G", "B")),
    ("major-sixth", _pcs("C", "E", "G", "A")),
    ("minor-sixth", _pcs("C", "Eb", "G", "A")),
    ("dominant-ninth", _pcs("C", "E", "G", "Bb", "D")),
    ("major-ninth", _pcs("C", "E", "G", "B", "D")),
    ("minor-ninth", _pcs("C", "Eb", "G", "Bb", "D")),
    ("dominant-11th", _pcs("C", "E", "G", "Bb", "D", "F")),
    ("major-11th", _pcs("C", "E", "G", "B", "D", "F")),
    ("minor-11th", _pcs("C", "Eb", "G", "Bb", "D", "F")),
    ("dominant-13th", _pcs("C", "E", "G", "Bb", "D", "A")),
    ("major-13th", _pcs("C", "E", "G", "B", "D", "A")),
    ("minor-13th", _pcs("C", "Eb", "G", "Bb", "D", "F", "A")),
    ("suspended-second", _pcs("C", "D", "G")),
    ("suspended-fourth", _pcs("C", "F", "G")),
    ("Neapolitan", _pcs("Db", "F", "Ab")),
    ("Italian", _pcs("Ab", "C", "F#")),
    ("French", _pcs("Ab", "C", "D", "F#")),
    ("German", _pcs("Ab", "C", "Eb", "F#")),
    ("pedal", _pcs("C")),
    ("power", _pcs("C", "G")),
    ("Tristan", _pcs("C", "F#", "A#", "D#")),
]


@pytest.mark.parametrize(("kind", "pcs"), KINDS)
def test_every_kind_value(kind: str, pcs: tuple[int, ...]) -> None:
    songs = musicxml.load_bytes(_doc(_harm("C", kind) + _note("C", 5, 8) + "</measure>"), "k.musicxml")
    chord = songs[0].bars[0].chords[0].chord
    assert chord is not None
    assert chord.pitch_classes == pcs


def test_kind_none_other_and_text() -> None:
    body = (
        _harm("C", "none")
        + _rest(2)
        + _harm("D", "other", text="7b9")
        + _rest(2)
        + _harm("E", "minor-seventh", alter=-1, text="-7")
        + _rest(4)
        + "</measure>"
    )
    bar = musicxml.load_bytes(_doc(body), "k.xml")[0].bars[0]
    assert bar.chords[0].chord is None
    d7b9 = bar.chords[1].chord
    assert d7b9 is not None and d7b9.pitch_classes == _pcs("D", "F#", "A", "C", "Eb")
    ebm7 = bar.chords[2].chord
    assert ebm7 is not None and str(ebm7) == "Eb-7" and ebm7.pitch_classes == _pcs("Eb", "Gb", "Bb", "Db")


@pytest.mark.parametrize(
    ("kind", "degrees", "bass", "pcs", "bass_pc"),
    [
        ("dominant", _deg(9, -1, "add"), "", _pcs("C", "E", "G", "Bb", "Db"), 0),
        ("dominant", _deg(5, 1, "alter") + _deg(9, 1, "add"), "", _pcs("C", "E", "G#", "Bb", "D#"), 0),
        ("suspended-fourth", _deg(7, 0, "add"), "", _pcs("C", "F", "G", "Bb"), 0),  # 7sus4
        ("suspended-fourth", _deg(7, 1, "add"), "", _pcs("C", "F", "G", "B"), 0),  # maj7sus4
        ("minor-seventh", _deg(5, -1, "alter"), "", _pcs("C", "Eb", "Gb", "Bb"), 0),
        ("dominant-ninth", _deg(11, 1, "add"), "", _pcs("C", "E", "G", "Bb", "D", "F#"), 0),
        ("dominant-13th", _deg(9, -1, "alter"), "", _pcs("C", "E", "G", "Bb", "Db", "A"), 0),
        ("major", _deg(5, 0, "subtract"), "", _pcs("C", "E"), 0),
        ("dominant", _deg(3, 0, "subtract"), "", _pcs("C", "G", "Bb"), 0),
        ("major-11th", _deg(3, 0, "subtract") + _deg(7, 0, "subtract"), "", _pcs("C", "D", "F", "G"), 0),
        ("major-seventh", "", "E", _pcs("C", "E", "G", "B"), 4),
        ("dominant", "", "B", _pcs("C", "E", "G", "Bb", "B"), 11),
    ],
)
def test_degrees_and_bass(kind: str, degrees: str, bass: str, pcs: tuple[int, ...], bass_pc: int) -> None:
    body = _harm("C", kind, degrees=degrees, bass=bass) + _note("C", 5, 8) + "</measure>"
    chord = musicxml.load_bytes(_doc(body), "d.xml")[0].bars[0].chords[0].chord
    assert chord is not None
    assert chord.pitch_classes == pcs
    assert chord.bass_pc == bass_pc


@pytest.mark.parametrize(
    ("harmony", "needle"),
    [
        (_harm("C", "dominant", degrees=_deg(11, -1, "add")), "degree 11"),
        (_harm("C", "flamenco"), "unknown harmony kind 'flamenco'"),
        (_harm("C", "Italian", degrees=_deg(9, 0, "add")), "Italian"),
        (_harm("H", "major"), "not a note step"),
        ("<harmony><root><root-step>C</root-step></root></harmony>", "<harmony> without <kind>"),
    ],
)
def test_impossible_harmony_is_a_chart_error_with_file_and_measure(harmony: str, needle: str) -> None:
    with pytest.raises(ChartError) as err:
        musicxml.load_bytes(_doc(harmony + _rest(8) + "</measure>"), "bad.musicxml")
    msg = str(err.value)
    assert "bad.musicxml" in msg and "measure 1" in msg and needle in msg
    assert err.value.location == "bad.musicxml: measure 1"  # the error carries where, as the fuzz test asks


def test_positions_follow_time_cursor_backup_forward_and_chord_notes() -> None:
    # divisions=2: a quarter is 2. Notes: C4 (q), [E4 chord], harmony, D4 (q), backup 1 q, harmony, forward.
    body = (
        _harm("C", "major")
        + _note("C", 4, 2)
        + "<note><chord/><pitch><step>E</step><octave>4</octave></pitch><duration>2</duration></note>"
        + _harm("F", "major")  # at beat 1: the <chord/> note did not advance time
        + _note("D", 4, 2)
        + "<backup><duration>2</duration></backup>"
        + _harm("G", "dominant")  # beat 1 again: replaces F
        + "<forward><duration>2</duration></forward>"
        + "<harmony><root><root-step>A</root-step></root><kind>minor</kind><offset>1</offset></harmony>"
        + _note("A", 4, 4)
        + "</measure>"
    )
    bar = musicxml.load_bytes(_doc(body), "p.xml")[0].bars[0]
    got = [(e.beat, str(e.chord)) for e in bar.chords]
    # the <offset> of a harmony without sound="yes" only moves the symbol on the page
    assert got == [(F(0), "C"), (F(1), "G7"), (F(2), "Am")]


def test_pickup_is_padded_to_a_full_bar() -> None:
    body = (
        _harm("F", "major")
        + _note("C", 5, 2, "<lyric><syllabic>begin</syllabic><text>Hap</text></lyric>")
        + "</measure>"
        + '<measure number="2">'
        + _harm("B", "major", alter=-1)
        + _note("D", 5, 3, '<tie type="start"/>')
        + _note("D", 5, 3, '<tie type="stop"/>')
        + _note("E", 5, 2, "<grace/>").replace("<duration>2</duration>", "")
        + _rest(2)
        + "</measure>"
    )
    song = musicxml.load_bytes(_doc(body), "pickup.xml")[0]
    assert [b.time for b in song.bars] == [TimeSignature(4, 4)] * 2
    assert song.bars[0].chords[0].beat == 3
    assert song.melody[0] == Note(0, F(3), F(1), 72, "Hap-")
    # the tie is merged, the grace note skipped, the rest kept
    assert song.melody[1] == Note(1, F(0), F(3), 74, "")
    assert song.melody[2] == Note(1, F(3), F(1), None, "")
    assert song.key == Key(parse_note_name("Bb"))
    assert song.title == "Test" and song.composer == "Someone"


def test_short_middle_measure_keeps_its_length() -> None:
    full = _harm("C", "major") + _note("C", 5, 8) + "</measure>"
    body = full + '<measure number="2">' + _harm("G", "major") + _note("G", 4, 4) + "</measure>"
    body += '<measure number="3">' + _harm("C", "major") + _note("C", 5, 8) + "</measure>"
    song = musicxml.load_bytes(_doc(body), "s.xml")[0]
    assert [str(b.time) for b in song.bars] == ["4/4", "2/4", "4/4"]
    assert expand(song).total_beats == 10


def test_form_tempo_time_sections_from_elements() -> None:
    m = [
        "<direction><direction-type><rehearsal>A</rehearsal></direction-type></direction>"
        "<direction><direction-type><metronome><beat-unit>half</beat-unit><per-minute>60</per-minute>"
        "</metronome></direction-type></direction>" + _harm("C", "major") + _rest(8),
        '<barline location="left"><repeat direction="forward"/></barline>'
        + "<direction><direction-type><segno/></direction-type><sound segno='s'/></direction>"
        + _harm("D", "minor")
        + _rest(8),
        '<barline location="left"><ending number="1" type="start"/></barline>'
        + _harm("G", "dominant")
        + _rest(8)
        + '<barline location="right"><ending number="1" type="stop"/><repeat direction="backward"/></barline>',
        '<barline location="left"><ending number="2" type="start"/></barline>'
        + "<direction><direction-type><words>To Coda</words></direction-type></direction>"
        + _harm("G", "major")
        + _rest(8)
        + '<barline location="right"><ending number="2" type="discontinue"/></barline>',
        "<direction><direction-type><rehearsal>B</rehearsal></direction-type></direction>"
        + "<attributes><time><beats>6</beats><beat-type>8</beat-type></time></attributes>"
        + "<sound tempo='90'/>"
        + _harm("A", "minor")
        + _rest(6)
        + "<direction><direction-type><words>D.S. al Coda</words></direction-type></direction>",
        "<direction><direction-type><coda/></direction-type></direction>" + _harm("F", "major") + _rest(6),
    ]
    body = (
        m[0] + "</measure>" + "".join(f'<measure number="{i + 2}">{x}</measure>' for i, x in enumerate(m[1:]))
    )
    song = musicxml.load_bytes(_doc(body), "form.xml")[0]
    assert [(s.label, len(s.bars)) for s in song.sections] == [("A", 4), ("B", 2)]
    bars = song.bars
    assert bars[0].tempo == 120.0 and bars[4].tempo == 90.0
    assert bars[4].time == TimeSignature(6, 8)
    assert bars[1].repeat_start and bars[1].segno
    assert bars[2].endings == {1} and bars[2].repeat_end == 2
    assert bars[3].endings == {2} and bars[3].to_coda
    assert bars[4].jump == Jump("DS", "coda")
    assert bars[5].coda
    order = [pb.written for pb in expand(song)]
    assert order == [0, 1, 2, 1, 3, 4, 1, 3, 5]


# --------------------------------------------------------------------------- corpora


def _corpus_files() -> list[Path]:
    files = sorted(corpora_path("musicxml", "openewld").rglob("*.mxl"))
    files += sorted(corpora_path("musicxml", "music21-chordsymbols").glob("*.mxl"))
    files += sorted(
        p for p in corpora_path("ireal", "expected-musicxml").iterdir() if p.name != "invalid.musicxml"
    )
    return files


def test_every_corpus_file_loads() -> None:
    files = _corpus_files()
    assert len(files) == 402 + 4 + 7
    t0 = time.perf_counter()
    songs = bars = chords = notes = 0
    for f in files:
        for song in musicxml.load_bytes(f.read_bytes(), str(f)):
            songs += 1
            bars += len(song.bars)
            chords += sum(len(b.chords) for b in song.bars)
            notes += sum(1 for n in song.melody if n.pitch is not None)
            for b in song.bars:
                for ev in b.chords:
                    assert 0 <= ev.beat < b.beats
            assert len(expand(song)) >= len(song.bars) // 2
    elapsed = time.perf_counter() - t0
    print(f"\nMusicXML corpus: {songs} songs, {bars} bars, {chords} chords, {notes} notes, {elapsed:.1f} s")
    assert songs == len(files)
    assert chords > 15000 and notes > 40000 and bars > 14000


def test_invalid_musicxml_is_a_clear_chart_error() -> None:
    path = corpora_path("ireal", "expected-musicxml", "invalid.musicxml")
    with pytest.raises(ChartError) as err:
        musicxml.load_bytes(path.read_bytes(), str(path))
    assert "bad-attribute" in str(err.value) and "invalid.musicxml" in str(err.value)


def test_not_xml_and_broken_zip_are_chart_errors() -> None:
    with pytest.raises(ChartError) as err:
        musicxml.load_bytes(b"<score-partwise>\n<part>\n</score-partwise>", "x.xml")
    assert "x.xml:3:" in str(err.value)
    with pytest.raises(ChartError):
        musicxml.load_bytes(b"PK\x03\x04garbage", "x.mxl")


def test_ireal_export_form_and_sections() -> None:
    path = corpora_path("ireal", "expected-musicxml", "salma-ya-salama.musicxml")
    song = musicxml.load_bytes(path.read_bytes(), str(path))[0]
    assert [s.label for s in song.sections] == ["Intro", "Verse", "Chorus", "Bridge"]
    assert song.tempo == 150.0
    tl = expand(song)
    assert len(tl) == 66
    assert song.bars[35].jump == Jump("DS", "fine")


def test_comprehensive_chord_file_spellings() -> None:
    path = corpora_path("musicxml", "music21-chordsymbols", "demos__ComprehensiveChordSymbolsTestFile.mxl")
    chords = list(musicxml.load_bytes(path.read_bytes(), str(path))[0].chord_symbols())
    names = [c.name for c in chords]
    assert names[:6] == ["C", "Cm", "Caug", "Cdim", "D7", "Dmaj7"]
    assert "Dmmaj7" in names and "C#13" in names and "Cmaj9/D" in names
    # the text attribute is kept as the displayed symbol when it spells the same chord
    assert str(chords[8]) == "D7+" and chords[8].pitch_classes == _pcs("D", "F#", "A#", "C")


# --------------------------------------------------------------------------- writing

_SEQUENCES = {
    "note": ["grace", "chord", "pitch", "unpitched", "rest", "duration", "tie", "voice", "type", "dot",
             "time-modification", "notations", "lyric"],
    "harmony": ["root", "kind", "inversion", "bass", "degree"],
    "attributes": ["divisions", "key", "time", "clef"],
    "barline": ["bar-style", "segno", "coda", "ending", "repeat"],
    "direction": ["direction-type", "offset", "sound"],
    "score-partwise": ["work", "movement-title", "identification", "part-list", "part"],
    "pitch": ["step", "alter", "octave"],
    "degree": ["degree-value", "degree-alter", "degree-type"],
    "lyric": ["syllabic", "text"],
}  # fmt: skip


def _check_order(root: ET.Element) -> None:
    for el in root.iter():
        seq = _SEQUENCES.get(el.tag)
        if seq is None:
            continue
        idx = [seq.index(c.tag) for c in el]
        assert idx == sorted(idx), f"<{el.tag}> children out of schema order: {[c.tag for c in el]}"


def _chord_list(song: Song) -> list[tuple[int, Fraction, tuple[int, ...] | None, int | None]]:
    return [
        (
            i,
            e.beat,
            None if e.chord is None else e.chord.pitch_classes,
            None if e.chord is None else e.chord.bass_pc,
        )
        for i, b in enumerate(song.bars)
        for e in b.chords
    ]


SYMBOLS = [
    "C", "Cm", "Caug", "Cdim", "C7", "Cmaj7", "Cm7", "Cdim7", "C7#5", "Cm7b5", "CmMaj7", "C6", "Cm6",
    "C69", "C9", "Cmaj9", "Cm9", "C11", "Cmaj11", "Cm11", "C13", "Cmaj13", "Cm13", "Csus2", "Csus4",
    "C7sus4", "C9sus4", "C7b9", "C7#9", "C7#11", "C7b13", "C7alt", "C7b9#11", "C13b9", "Cadd9", "Cmadd9",
    "C5", "C/E", "Cm7/Bb", "/Bb", "F#m7b5", "Bbmaj7#11", "Ebm6/Gb", "C7no3", "Cno5", "Dbm9", "Ab7b5",
]  # fmt: skip


def _song_of(symbols: list[str]) -> Song:
    bars = tuple(
        Bar(
            chords=(
                ChordEvent(F(0), parse_chord(s)),
                ChordEvent(F(2), None if i % 5 == 0 else parse_chord(s)),
            )
        )
        for i, s in enumerate(symbols)
    )
    return Song("Kinds", (Section("A", bars),))


def test_every_chord_quality_survives_write_and_read() -> None:
    song = _song_of(SYMBOLS)
    data = musicxml.dump_bytes(song)
    _check_order(ET.fromstring(data))
    back = musicxml.load_bytes(data, "kinds.musicxml")[0]
    assert _chord_list(back) == _chord_list(song)
    assert [e.chord and str(e.chord) for b in back.bars for e in b.chords][:4] == ["C", None, "Cm", "Cm"]


def test_written_file_round_trips_form_melody_and_metadata() -> None:
    key = Key(parse_note_name("F"), "major")
    c = parse_chord

    def bar(sym: str, **kw: object) -> Bar:
        return Bar(chords=(ChordEvent(F(0), c(sym)),), key=key, **kw)  # type: ignore[arg-type]

    song = Song(
        "Round Trip",
        (
            Section("Intro", (bar("F", tempo=100.0),)),
            Section(
                "A",
                (
                    bar("Gm7", tempo=100.0, repeat_start=True, segno=True),
                    bar("C7", tempo=100.0, endings=frozenset({1, 2}), repeat_end=3),
                    bar("F6", tempo=100.0, endings=frozenset({3}), to_coda=True),
                ),
            ),
            Section(
                "B",
                (
                    Bar(
                        chords=(ChordEvent(F(0), c("Bb")), ChordEvent(F(3, 2), c("Bdim7"))),
                        time=TimeSignature(3, 4),
                        tempo=140.0,
                        key=Key(parse_note_name("D"), "minor"),
                        jump=Jump("DS", "coda"),
                        fine=False,
                    ),
                    bar("F/C", tempo=140.0, coda=True),
                ),
            ),
        ),
        composer="Me",
        key=key,
        style="Medium Swing",
        melody=(
            Note(0, F(3), F(1), 60, "Oh-"),
            Note(1, F(0), F(6), 65, "say"),  # crosses the bar line: written tied
            Note(2, F(2), F(1, 3), 67, ""),
            Note(2, F(7, 3), F(1, 3), 69, ""),
            Note(2, F(8, 3), F(4, 3), 70, ""),
            Note(4, F(1, 2), F(5, 2), 72, ""),
        ),
    )
    data = musicxml.dump_bytes(song)
    root = ET.fromstring(data)
    _check_order(root)
    assert root.get("version") == "4.0"
    back = musicxml.load_bytes(data, "rt.musicxml")[0]
    assert (back.title, back.composer, back.style, back.key) == ("Round Trip", "Me", "Medium Swing", key)
    assert [s.label for s in back.sections] == ["Intro", "A", "B"]
    assert _chord_list(back) == _chord_list(song)
    assert [(p.written, p.start_beat, p.bar.tempo) for p in expand(back)] == [
        (p.written, p.start_beat, p.bar.tempo) for p in expand(song)
    ]
    assert [n for n in back.melody if n.pitch is not None] == list(song.melody)
    assert back.bars[4].time == TimeSignature(3, 4) and back.bars[4].key == Key(parse_note_name("D"), "minor")


def test_corpus_songs_round_trip_through_the_writer() -> None:
    files = sorted(corpora_path("musicxml", "openewld").rglob("*.mxl"))[::12]
    files += sorted(
        p for p in corpora_path("ireal", "expected-musicxml").iterdir() if p.name != "invalid.musicxml"
    )
    for f in files:
        song = musicxml.load_bytes(f.read_bytes(), str(f))[0]
        data = musicxml.dump_bytes(song)
        _check_order(ET.fromstring(data))
        back = musicxml.load_bytes(data, str(f) + ".musicxml")[0]
        assert _chord_list(back) == _chord_list(song), f
        assert [(p.written, p.start_beat) for p in expand(back)] == [
            (p.written, p.start_beat) for p in expand(song)
        ]
        assert [n for n in back.melody if n.pitch is not None] == [
            n for n in song.melody if n.pitch is not None
        ]
        assert back.sections == song.sections, f


def test_an_unknown_encoding_is_a_located_chart_error() -> None:
    """Found by fuzzing: a damaged XML declaration naming an encoding that does not exist."""
    data = b'<?xml version="1.0" encoding="TF-8"?><score-partwise/>'
    with pytest.raises(ChartError, match="unknown encoding: TF-8") as err:
        musicxml.load_bytes(data, "bad.musicxml")
    assert str(err.value).startswith("bad.musicxml:1:1:")


@pytest.mark.parametrize(
    ("time_el", "needle"),
    [
        ("<time><beats>4</beats><beat-type>0</beat-type></time>", "power of two (1-32): 0"),
        (
            "<time><beats>3</beats><beat-type>0</beat-type><beats>2</beats><beat-type>8</beat-type></time>",
            ": 0",
        ),
        ("<time><beats>0</beats><beat-type>4</beat-type></time>", "numerator"),
    ],
)
def test_impossible_time_signature_is_a_chart_error_with_measure(time_el: str, needle: str) -> None:
    doc = _doc(_harm("C", "major") + _rest(8) + "</measure>").replace(
        b"<time><beats>4</beats><beat-type>4</beat-type></time>", time_el.encode()
    )
    with pytest.raises(ChartError) as err:  # beat-type 0 was a ZeroDivisionError traceback
        musicxml.load_bytes(doc, "bad.musicxml")
    assert needle in str(err.value)
    assert err.value.location == "bad.musicxml: measure 1"


def test_control_characters_are_removed_with_a_warning_and_the_file_is_well_formed() -> None:
    from backline.formats.lost import FormLostWarning

    bars = (Bar((ChordEvent(F(0), parse_chord("C")),), comment="note\x01"),)
    song = Song("Bell\x07 Song\x0c", (Section("A\x1b", bars),), composer="Ann\x00")
    with pytest.warns(FormLostWarning, match="control characters: removed from the title, composer"):
        data = musicxml.dump_bytes(song)
    ET.fromstring(data.split(b"\n", 2)[2])  # was: not well-formed (invalid token)
    back = musicxml.load_bytes(data, "ctrl.musicxml")[0]
    assert back.title == "Bell Song" and back.composer == "Ann"
    assert back.sections[0].label == "A"


def test_mxl_is_a_compressed_musicxml_container(tmp_path) -> None:
    """`convert x.mxl` wrote plain XML under the .mxl name, which notation programs refuse:
    it is a ZIP with META-INF/container.xml naming the score, and reads back the same."""
    import zipfile

    from backline.formats import load_song, loads_songs, save_song

    song = loads_songs(b"title: Z\ntempo: 100\n| C | F G7 | C |\n", "z.chart")[0]
    save_song(song, tmp_path / "z.mxl")
    save_song(song, tmp_path / "z.musicxml")
    assert zipfile.is_zipfile(tmp_path / "z.mxl")
    with zipfile.ZipFile(tmp_path / "z.mxl") as z:
        assert b'full-path="score.musicxml"' in z.read("META-INF/container.xml")
        assert z.read("score.musicxml") == (tmp_path / "z.musicxml").read_bytes()
    assert load_song(tmp_path / "z.mxl") == load_song(tmp_path / "z.musicxml")
    assert (tmp_path / "z.mxl").read_bytes() == __import__("backline.formats", fromlist=["x"]).dumps_song(
        song, ".mxl"
    )
