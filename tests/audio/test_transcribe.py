"""Melody to MIDI with basic-pitch on onnxruntime, and MIDI into a song's melody."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from corpora import corpora_path

pytest.importorskip("onnxruntime")
pytest.importorskip("basic_pitch", exc_type=ImportError)

from backline.audio import transcribe as tr
from backline.errors import DependencyMissingError
from backline.model.chord import parse_chord
from backline.model.song import Bar, ChordEvent, Section, Song, TimeSignature


def test_madmom_stereo_sample_against_its_notes() -> None:
    wav = corpora_path("audio", "madmom", "stereo_sample.wav")
    ref = np.loadtxt(wav.with_suffix(".notes"))
    notes = tr.transcribe_file(wav)
    assert notes
    ref_iv = np.c_[ref[:, 0], ref[:, 0] + ref[:, 2]]
    est_iv = np.array([[n.start, n.end] for n in notes])
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_iv,
        mir_eval.util.midi_to_hz(ref[:, 1]),
        est_iv,
        mir_eval.util.midi_to_hz(np.array([n.pitch for n in notes], dtype=float)),
        offset_ratio=None,
    )
    assert r >= 0.75 and p >= 0.5, (p, r, f)
    assert "tensorflow" not in sys.modules or sys.modules["tensorflow"] is None


def test_sine_melody_pitches() -> None:
    sr = 22050
    pitches = [60, 64, 67, 72]
    y = np.concatenate(
        [
            0.3 * np.sin(2 * np.pi * mir_eval.util.midi_to_hz(m) * np.arange(int(0.5 * sr)) / sr)
            for m in pitches
        ]
    ).astype(np.float32)
    notes = tr.transcribe_array(y, sr)
    assert [n.pitch for n in notes] == pitches
    assert [round(n.start * 2) / 2 for n in notes] == [0.0, 0.5, 1.0, 1.5]


def test_midi_round_trip_and_melody(tmp_path: Path) -> None:
    notes = [
        tr.TranscribedNote(0.0, 0.5, 60, 90),
        tr.TranscribedNote(0.5, 1.0, 62, 90),
        tr.TranscribedNote(2.0, 3.0, 64, 80),
    ]
    out = tr.write_midi(notes, tmp_path / "m.mid")
    back = tr.read_midi_notes(out)
    assert [(round(n.start, 3), round(n.end, 3), n.pitch) for n in back] == [
        (0.0, 0.5, 60),
        (0.5, 1.0, 62),
        (2.0, 3.0, 64),
    ]
    # 120 BPM 4/4: one beat is 0.5 s, a bar 2 s.
    bar = Bar(chords=(ChordEvent(Fraction(0), parse_chord("C")),), time=TimeSignature(4, 4), tempo=120.0)
    song = Song("t", (Section("A", (bar, bar)),))
    with_melody = tr.midi_to_melody(out, song)
    got = [(n.bar, n.start, n.duration, n.pitch) for n in with_melody.melody]
    assert got == [
        (0, Fraction(0), Fraction(1), 60),
        (0, Fraction(1), Fraction(1), 62),
        (1, Fraction(0), Fraction(2), 64),
    ]


def test_missing_basic_pitch_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(DependencyMissingError, match="basic-pitch"):
        tr.model_path()
