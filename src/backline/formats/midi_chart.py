"""A chart as a MIDI file: the form played through, block chords and the melody.

:func:`song_to_midifile` follows the playback order of
:func:`backline.model.form.expand` and writes a type-1 file at 480 ticks per
quarter note with three tracks:

- the conductor track: the song title as track name, a time signature wherever the
  meter changes, a key signature wherever the key changes, the tempo map, and a marker
  at every section start in playback order;
- ``Chords``: each chord as a block in root position around middle C (root between
  F#3 and F4), its bass note (the slash bass, else the root) an octave below the
  root, held until the next chord; a text event with the chord symbol at its start
  (``N.C.`` rests);
- ``Melody`` (when the song has one): the melody notes, repeated on every pass of
  their bar, with their lyrics as lyrics events.
"""

from __future__ import annotations

import io
from fractions import Fraction

import mido

from backline.model.form import Timeline, expand
from backline.model.pitch import Key, pc_name
from backline.model.song import Song

__all__ = ["TICKS_PER_BEAT", "song_to_midifile", "dump_bytes", "chord_voicing"]

TICKS_PER_BEAT = 480
CHORD_CHANNEL = 0
MELODY_CHANNEL = 1
CHORD_VELOCITY = 72
MELODY_VELOCITY = 96

_Event = tuple[int, int, mido.Message | mido.MetaMessage]  # (tick, order, message)
_KEY_SIGNATURES = frozenset(mido.midifiles.meta._key_signature_decode.values())


def _text(s: str) -> str:
    """Text for a meta event: UTF-8 bytes (MIDI text has no charset; mido writes Latin-1)."""
    return s.encode("utf-8").decode("latin-1")


def _tick(beat: Fraction | float) -> int:
    return round(Fraction(beat) * TICKS_PER_BEAT)


def chord_voicing(root_pc: int, intervals: tuple[int, ...], bass_pc: int) -> tuple[int, list[int]]:
    """(bass note, chord notes) as MIDI numbers: root position from a root in F#3..F4,
    the bass an octave below the root (or just below it for a slash bass)."""
    root = 60 + root_pc if root_pc <= 5 else 48 + root_pc
    notes = [root + i for i in intervals]
    bass = root - 12 + (bass_pc - root_pc) % 12
    return bass, notes


def key_signature_name(key: Key) -> str:
    """The key as a MIDI key signature names it (``Bb``, ``F#m``; a key with no signature
    of its own, such as D# major, by its enharmonic twin, Eb)."""
    for flats in (None, True, False):
        tonic = key.tonic if flats is None else pc_name(key.tonic.pc, prefer_flats=flats)
        name = str(Key(tonic, key.mode))
        if name in _KEY_SIGNATURES:
            return name
    raise AssertionError(f"no key signature for {key}")  # every pitch class has one per mode


def _track(name: str, events: list[_Event], end_tick: int) -> mido.MidiTrack:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=_text(name), time=0))
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return track


def _conductor(tl: Timeline) -> list[_Event]:
    events: list[_Event] = []
    prev_time = None
    prev_key: Key | None = None
    for pb in tl.bars:
        t = _tick(pb.start_beat)
        if pb.bar.time != prev_time:
            ts = pb.bar.time
            events.append(
                (t, 0, mido.MetaMessage("time_signature", numerator=ts.numerator, denominator=ts.denominator))
            )
            prev_time = ts
        if pb.section_start or pb.index == 0:
            events.append((t, 2, mido.MetaMessage("marker", text=_text(pb.section))))
        if pb.bar.key is not None and pb.bar.key != prev_key:
            events.append((t, 0, mido.MetaMessage("key_signature", key=key_signature_name(pb.bar.key))))
            prev_key = pb.bar.key
    tm = tl.tempo_map()
    for beat, bpm in zip(tm.beats, tm.bpm, strict=True):
        events.append((_tick(beat), 1, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
    return events


def _chords(tl: Timeline) -> list[_Event]:
    events: list[_Event] = [(0, 0, mido.Message("program_change", channel=CHORD_CHANNEL, program=0))]
    for start, dur, ev, _pb in tl.chord_spans():
        a, b = _tick(start), _tick(start + dur)
        chord = ev.chord
        events.append(
            (a, 1, mido.MetaMessage("text", text=_text(str(chord) if chord is not None else "N.C.")))
        )
        if chord is None or b <= a:
            continue
        intervals = () if chord.quality.bass_only else chord.quality.intervals
        bass, notes = chord_voicing(chord.root.pc, intervals, chord.bass_pc)
        for p in sorted({bass, *notes}):
            events.append(
                (a, 2, mido.Message("note_on", channel=CHORD_CHANNEL, note=p, velocity=CHORD_VELOCITY))
            )
            events.append((b, 0, mido.Message("note_off", channel=CHORD_CHANNEL, note=p, velocity=0)))
    return events


def _melody(song: Song, tl: Timeline) -> list[_Event]:
    by_bar: dict[int, list[int]] = {}
    for i, n in enumerate(song.melody):
        by_bar.setdefault(n.bar, []).append(i)
    events: list[_Event] = [(0, 0, mido.Message("program_change", channel=MELODY_CHANNEL, program=0))]
    for pb in tl.bars:
        for i in by_bar.get(pb.written, []):
            n = song.melody[i]
            if n.pitch is None or n.duration <= 0:
                continue
            a = _tick(pb.start_beat + n.start)
            b = max(a + 1, _tick(pb.start_beat + n.start + n.duration))
            if n.lyric:
                events.append((a, 1, mido.MetaMessage("lyrics", text=_text(n.lyric))))
            events.append(
                (
                    a,
                    2,
                    mido.Message("note_on", channel=MELODY_CHANNEL, note=n.pitch, velocity=MELODY_VELOCITY),
                )
            )
            events.append((b, 0, mido.Message("note_off", channel=MELODY_CHANNEL, note=n.pitch, velocity=0)))
    return events


def song_to_midifile(song: Song) -> mido.MidiFile:
    """The chart of ``song`` as a type-1 :class:`mido.MidiFile` (see the module docstring)."""
    tl = expand(song)
    end = _tick(tl.total_beats)
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    mid.tracks.append(_track(song.title or "Untitled", _conductor(tl), end))
    mid.tracks.append(_track("Chords", _chords(tl), end))
    if any(n.pitch is not None for n in song.melody):
        mid.tracks.append(_track("Melody", _melody(song, tl), end))
    return mid


def dump_bytes(song: Song) -> bytes:
    """The chart of ``song`` as Standard MIDI File bytes."""
    buf = io.BytesIO()
    song_to_midifile(song).save(file=buf)
    return buf.getvalue()
