"""Read a Standard MIDI File as a chart: bars, meter, tempo, key, sections, chords, melody.

What is read, and from where:

- **bars** from the time signatures (4/4 when there is none), up to the last note or
  chord symbol, rounded up to a whole bar; a time signature that falls inside a bar
  starts at the next bar line (warned);
- **tempo** of each bar: the tempo in force at its first beat (120 BPM when the file has
  none); tempo changes inside a bar are left out (one warning says how many);
- **key** from the first key signature (and a key change at each later one, at its bar);
  without one the key is guessed (the harmony model's reading of the chords,
  :func:`backline.model.harmony.song_key`; the notes' profile,
  :func:`backline.formats.midi_harmony.estimate_key`, when no chord has a family) and a
  warning says so;
- **sections** from marker (or cue point) events, each starting at the bar line at or
  after it; none: one section ``A``;
- **chords**: from chord symbols in text events when the file has them (a file written
  by backline, ``backline convert song.chart song.mid``, has one at every chord; ``N.C.``
  rests), placed at their beat; otherwise heard from the notes of every pitched track
  but the melody and the drums (channel 10), a few chords per bar at most
  (:func:`backline.formats.midi_harmony.bar_chords`), and a warning says so;
- **melody** from a track named like a melody (``Melody``, ``Vocal``, ``Voice``,
  ``Lead``, ``Lead Vocal``, ``Tune``, ``Singer``): its top line, with lyric events,
  on a grid of a twelfth of a beat (sixteenths and triplets).

The form is read as played: a MIDI file has no repeat signs, so a chart written by
backline and read back holds its repeats, endings and jumps written out.
Files whose timing is in SMPTE frames, type-2 files and files with neither notes nor
chord symbols are refused with a :class:`~backline.errors.ChartError`.
"""

from __future__ import annotations

import contextlib
import io
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import PurePath
from typing import TypeVar

import mido
import numpy as np

from backline.errors import ChartError, ChordSymbolError, Location
from backline.formats.midi_harmony import BeatWeights, bar_chords, estimate_key
from backline.model.checks import check_tempo
from backline.model.chord import Chord, parse_chord_or_nc
from backline.model.pitch import Key, parse_key
from backline.model.song import Bar, ChordEvent, Note, Section, Song, TimeSignature

__all__ = ["load_bytes", "MELODY_TRACK_NAMES", "GRID"]

#: Melody notes are placed on this grid (in quarter-note beats): sixteenths and triplets.
GRID = Fraction(1, 12)
#: A track whose name holds one of these words (case-insensitive) is the melody.
MELODY_TRACK_NAMES = ("melody", "vocal", "vocals", "voice", "lead", "tune", "singer", "vox")
_DRUM_CHANNEL = 9
T = TypeVar("T")
D = TypeVar("D")
_WORD = re.compile(r"[a-z]+")


@dataclass
class _Track:
    name: str = ""
    notes: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # start, end, pitch, vel, ch
    texts: list[tuple[int, str]] = field(default_factory=list)
    lyrics: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _File:
    tpb: int
    tracks: list[_Track]
    tempos: list[tuple[int, float]]
    meters: list[tuple[int, TimeSignature]]
    keys: list[tuple[int, Key]]
    markers: list[tuple[int, str]]
    title: str


def _text(s: str) -> str:
    """Meta text as mido gives it (Latin-1) back to the UTF-8 it almost always is."""
    try:
        return s.encode("latin-1").decode("utf-8").strip()
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s.strip()


def _parse(data: bytes, source: str) -> _File:
    where = Location(source)
    try:
        mid = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        why = str(exc) or ("it ends early" if isinstance(exc, EOFError) else type(exc).__name__)
        raise ChartError(f"not a readable MIDI file ({why})", where) from None
    if mid.type == 2:
        raise ChartError("type-2 MIDI (independent patterns) cannot be read as one song", where)
    tpb = int(mid.ticks_per_beat)
    if tpb <= 0 or tpb >= 0x8000:
        raise ChartError("MIDI timed in SMPTE frames cannot be read (save it with ticks per beat)", where)
    f = _File(tpb, [], [], [], [], [], "")
    for ti, track in enumerate(mid.tracks):
        t = _Track()
        now = 0
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for msg in track:
            now += msg.time
            kind = msg.type
            if kind == "note_on" and msg.velocity > 0:
                sounding.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
            elif kind in ("note_off", "note_on"):
                starts = sounding.get((msg.channel, msg.note))
                if starts:
                    a, v = starts.pop(0)
                    t.notes.append((a, max(now, a + 1), msg.note, v, msg.channel))
            elif kind == "track_name" and not t.name:
                t.name = _text(msg.name)
            elif kind == "text":
                t.texts.append((now, _text(msg.text)))
            elif kind == "lyrics":
                t.lyrics.append((now, _text(msg.text)))
            elif kind in ("marker", "cue_marker") and _text(msg.text):
                f.markers.append((now, _text(msg.text)))
            elif kind == "set_tempo":
                f.tempos.append((now, float(mido.tempo2bpm(msg.tempo))))
            elif kind == "time_signature":
                try:
                    f.meters.append((now, TimeSignature(msg.numerator, msg.denominator)))
                except ChartError as exc:
                    raise ChartError(f"track {ti + 1}: {exc.message}", where) from None
            elif kind == "key_signature":
                with contextlib.suppress(ValueError):
                    f.keys.append((now, parse_key(msg.key)))
        for (ch, pitch), starts in sounding.items():  # notes never released end with the track
            t.notes.extend((a, max(now, a + 1), pitch, v, ch) for a, v in starts)
        f.tracks.append(t)
    if mid.type == 1 and f.tracks and not f.tracks[0].notes:
        f.title = f.tracks[0].name
    for lst in (f.tempos, f.meters, f.keys, f.markers):
        lst.sort(key=lambda e: e[0])
    return f


def _is_melody(track: _Track) -> bool:
    return bool(set(_WORD.findall(track.name.lower())) & set(MELODY_TRACK_NAMES))


def _chord_texts(f: _File) -> list[tuple[int, Chord | None]]:
    """Chord symbols from text events: those of the track where most texts are chords."""
    best: list[tuple[int, Chord | None]] = []
    for t in f.tracks:
        got: list[tuple[int, Chord | None]] = []
        for tick, text in t.texts:
            try:
                got.append((tick, parse_chord_or_nc(text)))
            except (ChordSymbolError, ValueError):
                continue
        if got and len(got) * 2 >= len(t.texts) and len(got) > len(best):
            best = got
    return sorted(best, key=lambda e: e[0])


@dataclass(frozen=True)
class _BarLine:
    tick: int
    time: TimeSignature
    ticks: int  # length


def _bar_lines(f: _File, end: int, warnings: list[str], source: str) -> list[_BarLine]:
    meters = f.meters or [(0, TimeSignature())]
    if meters[0][0] > 0:
        meters = [(0, meters[0][1]), *meters]
    bars: list[_BarLine] = []
    tick, mi, time = 0, 0, meters[0][1]
    moved = 0
    while tick < end or not bars:
        while mi < len(meters) and meters[mi][0] <= tick:
            if meters[mi][0] < tick and meters[mi][1] != time:
                moved += 1
            time = meters[mi][1]
            mi += 1
        length = int(time.bar_beats * f.tpb)
        if length <= 0:
            raise ChartError(f"a bar of {time} has no length at {f.tpb} ticks per beat", Location(source))
        bars.append(_BarLine(tick, time, length))
        tick += length
    if moved:
        warnings.append(f"{source}: {moved} time signature(s) inside a bar start at the next bar line")
    return bars


def _value_at(events: Sequence[tuple[int, T]], tick: int, default: D) -> T | D:
    """The value of the last event at or before ``tick``, else ``default``."""
    i = bisect_right(events, tick, key=lambda e: e[0])
    return events[i - 1][1] if i else default


def _beat(tick: int, tpb: int) -> Fraction:
    return Fraction(tick, tpb)


def _snap(x: Fraction) -> Fraction:
    return Fraction(round(x / GRID)) * GRID


def _harmony_notes(f: _File) -> list[tuple[int, int, int, int]]:
    """(start, end, pitch, velocity) of the notes chords are heard from: pitched, not the
    melody's (unless the melody is all there is)."""
    pitched = [(t, n) for t in f.tracks for n in t.notes if n[4] != _DRUM_CHANNEL]
    accomp = [n for t, n in pitched if not _is_melody(t)]
    chosen = accomp or [n for _, n in pitched]
    return [(a, b, p, v) for a, b, p, v, _ in chosen]


def _beat_weights(
    notes: list[tuple[int, int, int, int]], bars: list[_BarLine], tpb: int
) -> list[BeatWeights]:
    """Per bar, per counted beat: pitch-class weight (overlap in beats x velocity) of the
    notes, and the bass (the lowest note sounding at the start of each beat, weight one
    beat, plus a little for every note under middle C)."""
    out: list[BeatWeights] = []
    arr = np.array(notes, dtype=float).reshape(-1, 4)
    for bl in bars:
        pulse = bl.time.pulse
        n = max(1, int(bl.time.bar_beats / pulse))
        step = bl.ticks / n
        tones = np.zeros((n, 12))
        bass = np.zeros((n, 12))
        for k in range(n):
            a = bl.tick + k * step
            b = a + step
            if len(arr):
                ov = np.minimum(arr[:, 1], b) - np.maximum(arr[:, 0], a)
                on = ov > 0
                if on.any():
                    w = ov[on] / tpb * (arr[on, 3] / 127.0)
                    pcs = arr[on, 2].astype(int) % 12
                    np.add.at(tones[k], pcs, w)
                    low = arr[on, 2] < 60
                    np.add.at(bass[k], pcs[low], 0.25 * w[low])
                    at_start = on & (arr[:, 0] <= a + 0.25 * step) & (arr[:, 1] > a + 0.25 * step)
                    if at_start.any():
                        lowest = int(arr[at_start, 2].min()) % 12
                        bass[k, lowest] += float(pulse)
        out.append(BeatWeights(tones, bass))
    return out


def _melody(f: _File, bars: list[_BarLine]) -> tuple[Note, ...]:
    track = next((t for t in f.tracks if _is_melody(t) and any(n[4] != _DRUM_CHANNEL for n in t.notes)), None)
    if track is None:
        return ()
    lyrics = dict(track.lyrics)
    starts = [bl.tick for bl in bars]
    # the top line: at each start, the highest note; a note is cut where the next begins
    by_start: dict[int, tuple[int, int, int, int, int]] = {}
    for n in track.notes:
        if n[4] == _DRUM_CHANNEL:
            continue
        if n[0] not in by_start or n[2] > by_start[n[0]][2]:
            by_start[n[0]] = n
    line = [by_start[k] for k in sorted(by_start)]
    notes: list[Note] = []
    for i, (a, b, pitch, _v, _ch) in enumerate(line):
        if i + 1 < len(line):
            b = min(b, line[i + 1][0])
        bi = max(0, bisect_right(starts, a) - 1)
        start = _snap(_beat(a - bars[bi].tick, f.tpb))
        dur = max(GRID, _snap(_beat(b - a, f.tpb)))
        if start >= bars[bi].time.bar_beats and bi + 1 < len(bars):
            bi, start = bi + 1, Fraction(0)
        notes.append(Note(bi, start, dur, pitch, lyrics.get(a, "")))
    return tuple(notes)


def _sections(bars: list[Bar], starts: list[int], markers: list[tuple[int, str]]) -> tuple[Section, ...]:
    cuts: dict[int, str] = {}
    for tick, label in markers:
        i = bisect_right(starts, tick - 1)  # the bar line at or after the marker
        if i < len(bars):
            cuts[i] = label
    if not cuts:
        return (Section("A", tuple(bars)),)
    sections: list[Section] = []
    order = sorted(cuts)
    if order[0] > 0:
        sections.append(Section("Intro", tuple(bars[: order[0]])))
    for j, i in enumerate(order):
        end = order[j + 1] if j + 1 < len(order) else len(bars)
        sections.append(Section(cuts[i], tuple(bars[i:end])))
    return tuple(sections)


def _chords_per_bar(
    f: _File,
    bars_at: list[_BarLine],
    texts: list[tuple[int, Chord | None]],
    keys: list[tuple[int, Key]],
    weights: list[BeatWeights] | None,
) -> list[list[tuple[Fraction, Chord | None]]]:
    """Per bar, (beat in the bar, chord): the chord symbols when there are any, else the
    chords heard from the notes' ``weights`` (:func:`_beat_weights`), spelled in the key
    in force."""
    starts = [bl.tick for bl in bars_at]
    per_bar: list[list[tuple[Fraction, Chord | None]]] = [[] for _ in bars_at]
    if texts:
        for tick, chord in texts:
            bi = max(0, bisect_right(starts, tick) - 1)
            beat = _beat(tick - bars_at[bi].tick, f.tpb)
            if per_bar[bi] and per_bar[bi][-1][0] == beat:
                per_bar[bi][-1] = (beat, chord)
            else:
                per_bar[bi].append((beat, chord))
        return per_bar
    assert weights is not None
    for bi, (bl, w) in enumerate(zip(bars_at, weights, strict=True)):
        key = _value_at(keys, bl.tick, None)
        per_bar[bi] = [(k * bl.time.pulse, chord) for k, chord in bar_chords(w, key)]
    return per_bar


def _bars(
    f: _File,
    bars_at: list[_BarLine],
    per_bar: list[list[tuple[Fraction, Chord | None]]],
    keys: list[tuple[int, Key]],
    source: str,
) -> list[Bar]:
    tempos = f.tempos or [(0, 120.0)]
    bars: list[Bar] = []
    prev: Chord | None = None
    for bi, bl in enumerate(bars_at):
        bpm = _value_at(tempos, bl.tick, 120.0)
        check_tempo(bpm, f"{source}: bar {bi + 1}")
        evs = per_bar[bi]
        if not evs or evs[0][0] > 0:
            evs = [(Fraction(0), prev), *evs]  # the chord sounding on into the bar
        events = tuple(ChordEvent(beat, chord) for beat, chord in evs)
        prev = events[-1].chord
        key = _value_at(keys, bl.tick, None)
        bars.append(Bar(events, time=bl.time, tempo=round(bpm, 2), key=key))
    return bars


def _guess_key(f: _File, bars: list[Bar]) -> Key | None:
    """The key of a file without a key signature: the harmony model's reading of its
    chords (:func:`backline.model.harmony.song_key`), else the notes' profile."""
    from backline.model.harmony import song_key

    got = song_key(Song("", (Section("A", tuple(bars)),)))
    if got is not None:
        return got
    pcs = np.zeros(12)
    for t in f.tracks:
        for a, b, p, _v, ch in t.notes:
            if ch != _DRUM_CHANNEL:
                pcs[p % 12] += (b - a) / f.tpb
    return estimate_key(pcs)


def load_bytes(data: bytes, source: str) -> list[Song]:
    """The song of a Standard MIDI File (see the module docstring)."""
    f = _parse(data, source)
    warnings: list[str] = []
    texts = _chord_texts(f)
    all_notes = [n for t in f.tracks for n in t.notes]
    if not all_notes and not texts:
        raise ChartError("the MIDI file has no notes and no chord symbols", Location(source))
    end = max([n[1] for n in all_notes] + [t for t, _ in texts] + [1])
    bars_at = _bar_lines(f, end, warnings, source)
    starts = [bl.tick for bl in bars_at]
    keys = f.keys
    # the notes' weights per beat, read once (the chords are spelled again once the key is known)
    weights = None if texts else _beat_weights(_harmony_notes(f), bars_at, f.tpb)
    per_bar = _chords_per_bar(f, bars_at, texts, keys, weights)
    if not keys:
        guess = _guess_key(f, _bars(f, bars_at, per_bar, keys, source))
        if guess is not None:
            keys = [(0, guess)]
            warnings.append(f"{source}: no key signature: the key is guessed from the chords ({guess})")
            if not texts:  # spelled in the key now
                per_bar = _chords_per_bar(f, bars_at, texts, keys, weights)
    if not texts:
        warnings.append(f"{source}: no chord symbols in the file: the chords are heard from its notes")
    bar_lines = set(starts)
    inside = sum(1 for t, _ in f.tempos if t not in bar_lines)
    if inside:
        warnings.append(
            f"{source}: {inside} tempo change(s) inside a bar are left out (each bar keeps its first tempo)"
        )
    bars = _bars(f, bars_at, per_bar, keys, source)
    return [
        Song(
            title=f.title or PurePath(source).stem or "Untitled",
            sections=_sections(bars, starts, f.markers),
            key=bars[0].key if bars else None,
            melody=_melody(f, bars_at),
            source=source,
            warnings=tuple(warnings),
        )
    ]
