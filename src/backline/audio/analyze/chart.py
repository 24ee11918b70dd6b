"""An analysis as a backline chart: sections of bars in the detected meter, chords on beats."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from backline.audio.analyze.core import Analysis
from backline.audio.analyze.harte import POWER_QUALITY
from backline.errors import AudioInputError
from backline.model.chord import Chord, parse_chord
from backline.model.pitch import Key, parse_key
from backline.model.song import Bar, ChordEvent, Section, Song, TimeSignature

__all__ = ["analysis_to_song", "harte_to_chord"]

_SUFFIX = {
    "maj": "",
    "min": "m",
    "7": "7",
    "min7": "m7",
    "maj7": "maj7",
    "dim": "dim",
    "hdim7": "m7b5",
    POWER_QUALITY: "5",
}


def harte_to_chord(label: str) -> Chord | None:
    """A Harte label of the analyser's vocabulary as a chord (``N`` -> None)."""
    if label == "N":
        return None
    root, _, quality = label.partition(":")
    if quality not in _SUFFIX:
        raise ValueError(f"not in the analyser's chord vocabulary: {label!r}")
    return parse_chord(root + _SUFFIX[quality])


def analysis_to_song(a: Analysis, title: str = "Analysed recording") -> Song:
    """A :class:`Song` from ``a``: one bar per detected downbeat, chords where they change.
    A bar whose downbeats are not the meter's beats apart (a bar of two in 4/4) is
    written with its own time signature (2/4).

    The pickup before the first downbeat is left out. Tempo is the detected tempo,
    or per bar when it drifts. Raises AudioInputError when no beat or no chord was found.
    """
    if not a.downbeats or not a.beats or not a.beat_chords:
        raise AudioInputError("no steady beat was found: cannot write a chart from this recording")
    if all(label == "N" for label in a.beat_chords):
        raise AudioInputError(
            "no chord was found (no pitched sound): cannot write a chart from this recording"
        )
    beats = np.array(a.beats)
    num = a.time_signature[0]
    ts = TimeSignature(num, 4)
    key = _key(a.key)
    lift = a.keys[1] if len(a.keys) > 1 else None
    lift_key = _key(lift.label) if lift is not None else None
    db_idx = [int(np.argmin(np.abs(beats - t))) for t in a.downbeats]
    drift = bool(a.tempo_curve)
    bars: list[Bar] = []
    prev: Chord | str | None = "start"
    for k, start in enumerate(db_idx):
        last = k + 1 == len(db_idx)
        stop = min(len(beats), start + num) if last else db_idx[k + 1]
        # A bar of other than ``num`` beats (a bar of two in a 4/4 song) keeps its length,
        # so that the chart's bars stay with the recording's.
        time = ts if last or stop - start == num else TimeSignature(stop - start, 4)
        events: list[ChordEvent] = []
        for j in range(start, stop):
            ch = harte_to_chord(a.beat_chords[j])
            if j == start or ch != prev:
                events.append(ChordEvent(Fraction(j - start), ch))
            prev = ch
        if drift and stop - start >= 2:
            tempo = round(60.0 / float(np.mean(np.diff(beats[start:stop]))))
        else:
            tempo = round(a.tempo)
        bar_key = lift_key if lift is not None and a.downbeats[k] >= lift.start - 1e-3 else key
        bars.append(Bar(chords=tuple(events), time=time, tempo=float(max(20, min(400, tempo))), key=bar_key))
    # Sections: a section starts at the bar whose downbeat opens it.
    starts: list[tuple[int, str]] = []
    for s in a.sections:
        bi = int(np.searchsorted(np.array(a.downbeats), s.start - 1e-3))
        if bi < len(bars) and (not starts or bi > starts[-1][0]):
            starts.append((bi, s.label))
    if not starts or starts[0][0] != 0:
        starts.insert(0, (0, starts[0][1] if starts else "A"))
    sections = []
    for i, (bi, label) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(bars)
        if end > bi:
            sections.append(Section(label, tuple(bars[bi:end])))
    bars_last = list(sections[-1].bars)
    bars_last[-1] = _with_end(bars_last[-1])
    sections[-1] = Section(sections[-1].label, tuple(bars_last))
    return Song(title=title, sections=tuple(sections), key=key)


def _key(mir_eval_key: str) -> Key | None:
    """A mir_eval key ("Db major", "X") as a :class:`Key` (None when unknown)."""
    if mir_eval_key == "X":
        return None
    tonic, mode = mir_eval_key.split()
    return parse_key(tonic + ("m" if mode == "minor" else ""))


def _with_end(bar: Bar) -> Bar:
    from dataclasses import replace

    return replace(bar, end=True)
