"""Drum tones: a drum ringing at one pitch on every beat is not heard as a chord tone;
a note the band plays on every beat (it has harmonics) is kept."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("librosa")

from _analysis_signals import SR, midi_hz, progression, tone

import backline.audio.analyze.drum_tones as drum_tones
from backline.audio.analyze.beats import beat_chroma
from backline.audio.analyze.core import analyze_array
from backline.audio.analyze.features import PITCH_LOW, features_from_array

# E7 A B7 E over four bass notes; a G natural would make E minor and A7.
BLUES = [(4, "7"), (9, "maj"), (11, "7"), (4, "maj")] * 4
G4 = 67


def _with_every_beat(y: np.ndarray, beats: np.ndarray, hit: np.ndarray) -> np.ndarray:
    y = y.copy()
    for b in beats:
        s = round(b * SR)
        e = min(len(y), s + len(hit))
        y[s:e] += hit[: e - s]
    return (y / np.abs(y).max() * 0.8).astype(np.float32)


def _ring(midi: int, gain: float = 0.3) -> np.ndarray:
    """A drum tuned to ``midi``: one sine, no harmonics, dying away in about half a second."""
    t = np.arange(int(0.4 * SR)) / SR
    return gain * np.sin(2 * np.pi * midi_hz(midi) * t) * np.exp(-t * 6)


def _floor_at(y: np.ndarray, beats: np.ndarray, midi: int) -> float:
    feat = features_from_array(y, SR)
    return float(drum_tones.drum_tone_floor(beat_chroma(feat, beats))[midi - PITCH_LOW])


def test_a_drum_ringing_on_g_does_not_make_e7_minor(monkeypatch: pytest.MonkeyPatch) -> None:
    y, beats = progression(BLUES, bpm=120)
    y = _with_every_beat(y, beats, _ring(G4))
    a = analyze_array(y, SR)
    labels = [c.label for c in a.chords if c.label != "N"]
    assert labels[:8] == ["E:7", "A:maj", "B:7", "E:maj"] * 2
    assert a.key == "E major"
    # The same audio with nothing taken off reads the drum as a minor third (the test
    # signal does exercise the removal).
    monkeypatch.setattr(drum_tones, "drum_tone_floor", lambda p: np.zeros(p.shape[0]))
    b = analyze_array(y, SR)
    assert b.key == "E minor"
    assert "E:min7" in [c.label for c in b.chords]


def test_a_drum_tone_is_found_and_a_played_note_is_kept() -> None:
    y, beats = progression(BLUES, bpm=120)
    drum = _with_every_beat(y, beats, _ring(G4))
    assert _floor_at(drum, beats, G4) > 0
    assert _floor_at(drum, beats, G4 + 1) == 0  # only the drum's own pitch
    # The same G played on every beat by an instrument (harmonics): a pedal, kept.
    played = _with_every_beat(y, beats, tone([midi_hz(G4)], 0.4, amp=0.3, decay=6.0))
    assert _floor_at(played, beats, G4) == 0


def test_nothing_is_taken_off_over_fewer_than_three_bass_notes() -> None:
    y, beats = progression([(4, "maj"), (11, "7")] * 8, bpm=120)
    y = _with_every_beat(y, beats, _ring(G4))
    assert _floor_at(y, beats, G4) == 0


def test_the_floor_comes_off_only_its_rows_and_never_below_zero() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.0, 0.1, size=(84, 60))
    bass_notes = [40, 45, 47]  # E2, A2, B2: a bass note per beat, in turn
    for i in range(60):
        p[bass_notes[i % 3] - PITCH_LOW, i] = 5.0
    p[G4 - PITCH_LOW] = 0.8 + rng.uniform(0.0, 0.05, size=60)  # steady, no octave above
    floor = drum_tones.drum_tone_floor(p)
    out = drum_tones.without_drum_tones(p)
    assert floor[G4 - PITCH_LOW] == pytest.approx(0.8, abs=0.05)
    assert out.min() >= 0
    assert np.all(out[G4 - PITCH_LOW] < 0.06)
    keep = np.flatnonzero(floor == 0)
    np.testing.assert_array_equal(out[keep], p[keep])
    assert np.all(drum_tones.drum_tone_floor(np.zeros((84, 0))) == 0)
