"""MIDI in: a chart written as MIDI reads back as the same chords, meter, tempo, key and
sections (the form played through); a MIDI file without chord symbols (a band
arrangement, a piano take) gets its chords heard from the notes, measured against the
chart the arrangement was made from; bad files give a ChartError naming the file."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from backline.errors import ChartError
from backline.formats import dumps_song, load_songs, loads_songs
from backline.model.chord import Chord
from backline.model.form import expand
from backline.model.song import Song
from corpora import corpora_path

F = Fraction


def _timeline(song: Song) -> list[tuple[Fraction, str]]:
    """(start beat, chord) of every chord change as played (a chord repeated at a bar
    line is one span)."""
    out: list[tuple[Fraction, str]] = []
    for start, _dur, ev, _pb in expand(song).chord_spans():
        name = str(ev.chord) if ev.chord is not None else "N.C."
        if not out or out[-1][1] != name:
            out.append((F(start), name))
    return out


def _sections_played(song: Song) -> list[str]:
    return [pb.section for pb in expand(song).bars if pb.section_start or pb.index == 0]


@pytest.mark.parametrize(("book", "n"), [("jazz1350", 120), ("pop400", 60), ("brazilian", 40), ("latin", 20)])
def test_a_chart_written_as_midi_reads_back_the_same(book: str, n: int) -> None:
    songs = load_songs(corpora_path("ireal", f"{book}.txt"))[:n]
    for s in songs:
        r = loads_songs(dumps_song(s, ".mid"), f"{s.title}.mid")[0]
        assert _timeline(r) == _timeline(s), s.title
        assert r.key == s.key and r.title == s.title, s.title
        assert abs(r.tempo - s.tempo) < 0.01
        played = expand(s).bars
        assert [b.bar.time for b in expand(r).bars] == [b.bar.time for b in played], s.title
        assert [pb.bar.tempo for pb in expand(r).bars] == pytest.approx(
            [pb.bar.tempo for pb in played], abs=0.01
        )
        assert _sections_played(r) == _sections_played(s), s.title
        assert not any("guessed" in w or "heard" in w for w in r.warnings), r.warnings


def test_the_melody_and_its_lyrics_read_back_from_a_lead_sheet() -> None:
    path = corpora_path("musicxml", "openewld")
    sheets = sorted(path.rglob("*.mxl"))[:40]
    checked = 0
    for p in sheets:
        s = load_songs(p)[0]
        if not any(n.pitch is not None for n in s.melody):
            continue
        r = loads_songs(dumps_song(s, ".mid"), "lead.mid")[0]
        tl = expand(s)
        want = []
        for pb in tl.bars:
            for note in s.melody:
                if note.bar == pb.written and note.pitch is not None and note.duration > 0:
                    want.append((pb.start_beat + note.start, note.pitch))
        starts = {i: pb.start_beat for i, pb in enumerate(expand(r).bars)}
        got = [(starts[n.bar] + n.start, n.pitch) for n in r.melody]
        want.sort()
        # the top line: notes that start together keep the highest
        top: dict[Fraction, int] = {}
        for t, p_ in want:
            top[t] = max(p_, top.get(t, -1))
        assert [p_ for _, p_ in got] == [top[t] for t in sorted(top)], p.name
        assert [t for t, _ in got] == pytest.approx([float(t) for t in sorted(top)], abs=1 / 12), p.name
        lyrics = [n.lyric for n in s.melody if n.lyric]
        if lyrics:
            assert any(n.lyric for n in r.melody), p.name
        checked += 1
    assert checked >= 20


@dataclass
class _Heard:
    """Beat counts of a chart against the chords read from its arrangement."""

    beats: int = 0  # chord beats of the chart
    root: int = 0  # read with the chart's root
    family: int = 0  # and its major/minor family
    slash: int = 0  # chart beats over a bass other than the root (C/E, Ab/Bb)
    slash_read: int = 0  # of those, read over the same bass
    false_slash: int = 0  # chart beats on the root read with a slash bass the chart lacks


def _beats_right(chart: Song, read: Song, n: _Heard) -> None:
    """Count, beat by beat, how the chords read compare with the chart's (into ``n``)."""

    def at(spans: list[tuple[Fraction, Fraction, Chord | None]], beat: Fraction) -> Chord | None:
        for start, dur, chord in spans:
            if start <= beat < start + dur:
                return chord
        return None

    a = [(F(s), F(d), ev.chord) for s, d, ev, _ in expand(chart).chord_spans()]
    b = [(F(s), F(d), ev.chord) for s, d, ev, _ in expand(read).chord_spans()]
    beat = F(0)
    while beat < a[-1][0] + a[-1][1]:
        want, got = at(a, beat), at(b, beat)
        if want is not None:
            n.beats += 1
            if got is not None and got.root_pc == want.root_pc:
                n.root += 1
                n.family += got.quality.is_minor == want.quality.is_minor
            if want.bass_pc != want.root_pc:
                n.slash += 1
                n.slash_read += got is not None and got.bass_pc == want.bass_pc
            elif got is not None and want.bass_pc != got.bass_pc != got.root_pc:
                n.false_slash += 1
        beat += 1


@pytest.mark.parametrize(
    ("book", "n", "style", "floor", "slash_floor"),
    [("jazz1350", 24, None, 0.94, 0.08), ("pop400", 10, None, 0.92, 0.4),
     ("brazilian", 12, None, 0.93, 0.4), ("jazz1350", 10, "funk", 0.94, 0.85),
     ("jazz1350", 10, "reggae", 0.94, 0.6)],
)  # fmt: skip
def test_chords_are_heard_from_a_band_arrangement_without_chord_symbols(
    book: str, n: int, style: str | None, floor: float, slash_floor: float
) -> None:
    """backline's band MIDI (drums, bass, comping with rootless voicings, guitar, pads)
    has no chord symbols: the reader hears them. Measured on the first 40 songs of each
    set: walking jazz 96.7% of the chart's beats with the right root, pop 94.8%,
    bossa/samba 97.0%, funk 98.9%, reggae 98.1%.

    Slash chords (C/E, Dm7/C) are read where the bass holds the slash note. On the first
    40 songs of each set (measured beat by beat, the slash bass read as the chart's): pop
    63% of the chart's slash beats, bossa/samba 51%, funk 51%, reggae 35%, walking jazz
    17% (a walking bass leaves the slash note after one beat and the chord is heard on
    its root); most of the rest are the same notes named from another root (Bb/F heard
    as F6, C7/E over rootless voicings as Em7b5). A chord on its root gets a slash bass
    the chart lacks on 0.25% of beats or fewer.
    """
    from backline.arrange.engine import arrange
    from backline.arrange.midi_out import arrangement_to_midi_bytes

    heard = _Heard()
    keys = 0
    songs = load_songs(corpora_path("ireal", f"{book}.txt"))[:n]
    for s in songs:
        arr = arrange(s, style, seed=1, intro=False, ending=False)
        r = loads_songs(arrangement_to_midi_bytes(arr), "band.mid")[0]
        assert any("heard from its notes" in w for w in r.warnings)
        _beats_right(s, r, heard)
        keys += (
            r.key is not None
            and s.key is not None
            and (r.key.tonic.pc, r.key.mode) == (s.key.tonic.pc, s.key.mode)
        )
    assert heard.root / heard.beats >= floor, f"root right on {heard.root / heard.beats:.3f} of {heard.beats}"
    assert heard.family / heard.beats >= floor - 0.01
    assert heard.slash > 20
    assert heard.slash_read / heard.slash >= slash_floor, f"{heard.slash_read} of {heard.slash} slash beats"
    assert heard.false_slash / heard.beats <= 0.01, f"{heard.false_slash} of {heard.beats} beats"
    # the key is guessed by the harmony model (trained on these books: a check, not a measure)
    assert keys >= 0.7 * len(songs)


def _midi(*tracks: list[mido.Message | mido.MetaMessage], tpb: int = 480) -> bytes:
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    for msgs in tracks:
        mid.tracks.append(mido.MidiTrack(msgs))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def _notes(
    chords: list[tuple[int, list[int], int]], channel: int = 0, name: str = "Piano"
) -> list[mido.Message | mido.MetaMessage]:
    """Block chords: (start tick, pitches, length in ticks), in order, not overlapping."""
    out: list[mido.Message | mido.MetaMessage] = [mido.MetaMessage("track_name", name=name, time=0)]
    now = 0
    for start, pitches, length in chords:
        for i, p in enumerate(pitches):
            out.append(
                mido.Message(
                    "note_on", note=p, velocity=80, channel=channel, time=start - now if i == 0 else 0
                )
            )
            now = start
        for i, p in enumerate(pitches):
            out.append(
                mido.Message("note_off", note=p, velocity=0, channel=channel, time=length if i == 0 else 0)
            )
        now = start + length
    return out


def test_a_hand_made_file_hands_its_chords_meter_tempo_melody_and_lyrics() -> None:
    bar = 4 * 480
    conductor = [
        mido.MetaMessage("track_name", name="Hand Made", time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(96), time=0),
        mido.MetaMessage("key_signature", key="F", time=0),
        mido.MetaMessage("marker", text="Verse", time=0),
        mido.MetaMessage("marker", text="Chorus", time=2 * bar),
    ]
    piano = _notes([
        (0, [53, 57, 60], bar),                    # F
        (bar, [43, 53, 58, 62], bar // 2),         # Gm7 over G (bass G2)
        (bar + bar // 2, [36, 52, 58, 60], bar // 2),  # C7 over C
        (2 * bar, [38, 53, 57, 60], bar),          # Dm7 over D
        (3 * bar, [46, 50, 53, 57], bar),          # Bbmaj7
    ])  # fmt: skip
    drums = _notes([(0, [36, 42], 240), (480, [38, 42], 240)], channel=9, name="Drums")
    melody = [
        mido.MetaMessage("track_name", name="Lead Vocal", time=0),
        mido.MetaMessage("lyrics", text="Hel", time=0),
        mido.Message("note_on", note=72, velocity=90, time=0),
        mido.Message("note_off", note=72, velocity=0, time=470),  # a little short of the beat
        mido.MetaMessage("lyrics", text="lo", time=10),
        mido.Message("note_on", note=74, velocity=90, time=0),
        mido.Message("note_off", note=74, velocity=0, time=960),
    ]
    song = loads_songs(_midi(conductor, piano, drums, melody), "hand.mid")[0]
    assert song.title == "Hand Made" and str(song.key) == "F" and song.tempo == 96.0
    assert [s.label for s in song.sections] == ["Verse", "Chorus"]
    assert [len(s.bars) for s in song.sections] == [2, 2]
    got = [(i, ev.beat, str(ev.chord)) for i, b in enumerate(song.bars) for ev in b.chords]
    assert got == [(0, 0, "F"), (1, 0, "Gm7"), (1, 2, "C7"), (2, 0, "Dm7"), (3, 0, "Bbmaj7")]
    assert [(n.bar, n.start, n.duration, n.pitch, n.lyric) for n in song.melody] == [
        (0, F(0), F(1), 72, "Hel"),
        (0, F(1), F(2), 74, "lo"),
    ]
    assert any("heard from its notes" in w for w in song.warnings)
    assert not any("guessed" in w for w in song.warnings)


def test_inversions_and_pedal_basses_are_read_as_slash_chords_and_a_walking_bass_is_not() -> None:
    """The bass held on a chord's third or seventh, or on a note outside it, names a slash
    chord spelled as a musician writes it; a bass walking through the chord's tones from
    its root names the plain chord."""
    bar = 4 * 480
    piano = _notes([
        (0, [60, 64, 67], bar),                 # C
        (bar, [60, 64, 67], bar),               # C (bass on E: C/E)
        (2 * bar, [64, 67, 72], bar),           # C (bass on F: C/F, not an Fmaj7 without A)
        (3 * bar, [53, 57, 60, 62], bar),       # Dm7 (bass on C: Dm7/C)
        (4 * bar, [60, 64, 67], bar),           # C (walking bass C E G E)
        (5 * bar, [61, 65, 68], bar),           # Db (bass on F: Db/F)
    ])  # fmt: skip
    bass = _notes([
        (0, [36], bar), (bar, [40], bar), (2 * bar, [41], bar), (3 * bar, [36], bar),
        (4 * bar, [36], 480), (4 * bar + 480, [40], 480), (4 * bar + 960, [43], 480),
        (4 * bar + 1440, [40], 480), (5 * bar, [41], bar),
    ], channel=1, name="Bass")  # fmt: skip
    song = loads_songs(_midi(piano, bass), "inversions.mid")[0]
    assert [str(ev.chord) for b in song.bars for ev in b.chords] == [
        "C", "C/E", "C/F", "Dm7/C", "C", "Db/F",
    ]  # fmt: skip


def test_meter_changes_tempo_inside_a_bar_and_no_key_signature_are_read_and_said() -> None:
    conductor = [
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(140), time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(130), time=480),  # inside bar 1
        mido.MetaMessage("time_signature", numerator=6, denominator=8, time=3 * 480 - 480),
    ]
    # A minor, E7, Am in 3/4 then 6/8 bars
    piano = _notes([
        (0, [45, 60, 64, 69], 3 * 480),
        (3 * 480, [40, 56, 62, 64], 3 * 480),
        (6 * 480, [45, 57, 60, 64], 3 * 480),
    ])  # fmt: skip
    song = loads_songs(_midi(conductor, piano), "waltz.mid")[0]
    assert [str(b.time) for b in song.bars] == ["3/4", "6/8", "6/8"]
    assert [b.tempo for b in song.bars] == [140.0, 130.0, 130.0]
    assert [str(ev.chord) for b in song.bars for ev in b.chords] == ["Am", "E7", "Am"]
    assert str(song.key) == "Am"
    text = " ".join(song.warnings)
    assert "1 tempo change(s) inside a bar" in text and "guessed from the chords (Am)" in text


def test_a_real_piano_recording_as_midi_loads() -> None:
    """madmom's stereo_sample.mid: a performed piano take (no grid, no chord symbols)."""
    song = load_songs(corpora_path("audio", "madmom", "stereo_sample.mid"))[0]
    assert song.bars and song.key is not None
    assert any(ev.chord is not None for b in song.bars for ev in b.chords)
    assert any("heard from its notes" in w for w in song.warnings)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, not a midi file", "not a readable MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0", "not a readable MIDI file (it ends early)"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x00\x01\xe0", "no notes and no chord symbols"),
        (b"MThd\x00\x00\x00\x06\x00\x02\x00\x00\x01\xe0", "type-2 MIDI"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x00\xe7\x28", "SMPTE"),
    ],
)
def test_bad_midi_files_give_a_chart_error_naming_the_file(data: bytes, message: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.mid"
    p.write_bytes(data)
    with pytest.raises(ChartError) as exc:
        load_songs(p)
    assert str(p) in str(exc.value) and message in str(exc.value)


def test_convert_and_arrange_read_midi(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from backline.cli.app import app

    src = load_songs(corpora_path("ireal", "jazz1350.txt"))[0]
    mid = tmp_path / "tune.mid"
    mid.write_bytes(dumps_song(src, ".mid"))
    r = CliRunner().invoke(app, ["convert", str(mid), str(tmp_path / "tune.chart")])
    assert r.exit_code == 0, r.output
    back = load_songs(tmp_path / "tune.chart")[0]
    assert _timeline(back) == _timeline(src)
    r = CliRunner().invoke(app, ["arrange", str(mid), "-o", str(tmp_path / "band.mid")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "band.mid").stat().st_size > 0
