"""MIDI export of a chart: read back with mido and checked against the expanded timeline."""

from __future__ import annotations

import io
from fractions import Fraction

import mido

from backline.formats import midi_chart, musicxml
from backline.model.chord import parse_chord
from backline.model.form import expand
from backline.model.song import Bar, ChordEvent, Note, Section, Song, TimeSignature
from corpora import corpora_path

F = Fraction


def _song() -> Song:
    c = parse_chord
    a = (
        Bar((ChordEvent(F(0), c("Cmaj7")), ChordEvent(F(2), c("A7b9"))), tempo=100.0, repeat_start=True),
        Bar((ChordEvent(F(0), c("Dm7")), ChordEvent(F(3, 2), c("G7/B"))), tempo=100.0, repeat_end=2),
    )
    b = (
        Bar((ChordEvent(F(0), c("F")),), time=TimeSignature(3, 4), tempo=150.0),
        Bar((ChordEvent(F(0), None),), time=TimeSignature(3, 4), tempo=150.0),
    )
    melody = (Note(0, F(0), F(1), 64, "la"), Note(1, F(1, 2), F(3, 2), 62, ""), Note(2, F(0), F(3), None))
    return Song("Test Tune", (Section("A", a), Section("B", b)), melody=melody)


def _abs(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    out, t = [], 0
    for msg in track:
        t += msg.time
        out.append((t, msg))
    return out


def test_tracks_tempo_time_and_markers() -> None:
    song = _song()
    mid = mido.MidiFile(file=io.BytesIO(midi_chart.dump_bytes(song)))
    assert mid.type == 1 and mid.ticks_per_beat == 480
    names = [next(m.name for m in tr if m.type == "track_name") for tr in mid.tracks]
    assert names == ["Test Tune", "Chords", "Melody"]
    cond = _abs(mid.tracks[0])
    # playback: A A' A A' ... -> bars 0,1,0,1 (16 beats at 100 bpm), then B in 3/4 at 150 bpm
    tempos = [(t, round(mido.tempo2bpm(m.tempo), 6)) for t, m in cond if m.type == "set_tempo"]
    assert tempos == [(0, 100.0), (16 * 480, 150.0)]
    sigs = [(t, m.numerator, m.denominator) for t, m in cond if m.type == "time_signature"]
    assert sigs == [(0, 4, 4), (16 * 480, 3, 4)]
    markers = [(t, m.text) for t, m in cond if m.type == "marker"]
    # the repeat re-enters section A: a marker on each pass
    assert markers == [(0, "A"), (8 * 480, "A"), (16 * 480, "B")]
    end = cond[-1][0]
    assert cond[-1][1].type == "end_of_track" and end == (16 + 6) * 480


def test_chord_ticks_follow_the_timeline() -> None:
    song = _song()
    mid = midi_chart.song_to_midifile(song)
    chords = _abs(mid.tracks[1])
    texts = [(t, m.text) for t, m in chords if m.type == "text"]
    spans = list(expand(song).chord_spans())
    assert texts == [(round(s * 480), str(ev.chord) if ev.chord else "N.C.") for s, _d, ev, _pb in spans]
    assert texts[:5] == [(0, "Cmaj7"), (960, "A7b9"), (1920, "Dm7"), (2640, "G7/B"), (3840, "Cmaj7")]
    ons = [(t, m.note) for t, m in chords if m.type == "note_on" and m.velocity > 0]
    at0 = sorted(n for t, n in ons if t == 0)
    assert at0 == [48, 60, 64, 67, 71]  # Cmaj7 in root position on middle C, bass an octave below
    g7b = sorted(n for t, n in ons if t == 2640)
    assert g7b == [47, 55, 59, 62, 65]  # G7 from G3, slash bass B2 under it
    # every note_on is matched by a note_off at the next chord change
    offs = [(t, m.note) for t, m in chords if m.type == "note_off"]
    assert len(offs) == len(ons)
    assert sorted(n for t, n in offs if t == 960) == at0
    # N.C. plays nothing
    assert not [1 for t, _ in ons if t >= 19 * 480]


def test_melody_repeats_with_the_form() -> None:
    mid = midi_chart.song_to_midifile(_song())
    mel = _abs(mid.tracks[2])
    ons = [(t, m.note) for t, m in mel if m.type == "note_on"]
    assert ons == [(0, 64), (4 * 480 + 240, 62), (8 * 480, 64), (12 * 480 + 240, 62)]
    lyrics = [(t, m.text) for t, m in mel if m.type == "lyrics"]
    assert lyrics == [(0, "la"), (8 * 480, "la")]


def test_corpus_song_with_repeats() -> None:
    path = corpora_path("ireal", "expected-musicxml", "salma-ya-salama.musicxml")
    song = musicxml.load_bytes(path.read_bytes(), str(path))[0]
    mid = mido.MidiFile(file=io.BytesIO(midi_chart.dump_bytes(song)))
    tl = expand(song)
    cond = _abs(mid.tracks[0])
    markers = [(t, m.text) for t, m in cond if m.type == "marker"]
    expect = [(round(pb.start_beat * 480), pb.section) for pb in tl if pb.section_start or pb.index == 0]
    assert markers == expect and len(markers) >= 5
    texts = [t for t, m in _abs(mid.tracks[1]) if m.type == "text"]
    assert texts == [round(s * 480) for s, _d, _e, _p in tl.chord_spans()]
    assert abs(mid.length - tl.tempo_map().seconds_at(float(tl.total_beats))) < 1e-3
