"""The key as a musician names it: a last chorus lifted a step is a modulation from the
home key, a song in power chords takes its mode from the chords around them, and the
reverb after the last chord is not a chord."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("librosa")

from _analysis_signals import SR, progression

import backline.audio.analyze.chords as chords
import backline.audio.analyze.key as key
from backline.audio.analyze.chart import analysis_to_song
from backline.audio.analyze.core import _tail_without_chords, analyze_array
from backline.audio.analyze.key import find_modulation, without_modulation
from backline.model.harmony import FAMILIES, POWER, default_model, function_index

CADENCE = [(0, "maj"), (5, "maj"), (7, "7"), (0, "maj")]  # C F G7 C


def _lifted(prog: list[tuple[int, str]], step: int) -> list[tuple[int, str]]:
    return [((r + step) % 12, q) for r, q in prog]


def _beats(prog: list[tuple[int, str]], per_chord: int = 4) -> list[tuple[int, str]]:
    return [c for c in prog for _ in range(per_chord)]


def test_a_last_chorus_a_semitone_up_is_a_lift_from_the_home_key() -> None:
    """Four times C F G7 C, then three times a semitone up: the key is C major (where the
    song starts, as the chart names it), the lift is reported where it happens, the
    chords after it are spelled in Db and the chart changes key on that bar."""
    y, _ = progression(CADENCE * 4 + _lifted(CADENCE, 1) * 3, bpm=120)
    a = analyze_array(y, SR)
    assert a.key == "C major"
    assert [k.label for k in a.keys] == ["C major", "Db major"]
    assert a.keys[1].start == pytest.approx(32.0, abs=0.3)  # beat 64 at 120 BPM
    assert a.as_json()["keys"][1]["label"] == "Db major"
    lift = int(np.argmin(np.abs(np.array(a.beats) - a.keys[1].start)))
    assert list(a.beat_chords[lift : lift + 16 : 4]) == ["Db:maj", "Gb:maj", "Ab:7", "Db:maj"]
    bar_keys = [str(b.key) for s in analysis_to_song(a).sections for b in s.bars]
    assert bar_keys[:16] == ["C"] * 16
    assert bar_keys[16:28] == ["Db"] * 12


def test_a_song_in_one_key_has_one_key_segment() -> None:
    y, _ = progression(CADENCE * 5, bpm=120)
    a = analyze_array(y, SR)
    assert a.key == "C major"
    assert [(k.start, k.label) for k in a.keys] == [(0.0, "C major")]


def test_find_modulation_on_chord_beats() -> None:
    home = _beats(CADENCE * 4)  # 64 beats in C
    whole_step = home + _beats(_lifted(CADENCE, 2) * 3)
    assert find_modulation(whole_step) == (64, 2)
    assert without_modulation(whole_step, (64, 2)) == home + _beats(CADENCE * 3)
    semitone = home + _beats(_lifted(CADENCE, 1) * 2)
    assert find_modulation(semitone) == (64, 1)
    # A bridge in the key of the fourth that comes home is no lift; nor is a lift too
    # short to tell from a passing chord (fewer than MODULATION_MIN_BEATS).
    bridge = home + _beats(_lifted(CADENCE, 5) * 2) + home
    assert find_modulation(bridge) is None
    assert find_modulation(home + _beats(_lifted(CADENCE, 1)[:2])) is None
    assert find_modulation(home) is None
    assert without_modulation(home, None) == home


def test_find_modulation_respects_its_gain_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    lifted = _beats(CADENCE * 4) + _beats(_lifted(CADENCE, 1) * 3)
    monkeypatch.setattr(key, "MODULATION_GAIN", 1e9)
    assert find_modulation(lifted) is None


def test_power_chords_take_the_mode_of_the_chords_around_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """E5 D5 E5 G5 A5 E5 (root and fifth only): the G natural of G5 and the D of D5 say
    E minor; read as major triads (their harmonics sound a major third) the song was
    E major. The chords are labelled as power chords (E:5), and the chart writes E5."""
    riff = [(4, "5"), (2, "5"), (4, "5"), (7, "5"), (9, "5"), (4, "5")]
    y, _ = progression(riff * 5, bpm=100)
    a = analyze_array(y, SR)
    assert a.key == "E minor"
    assert {c.label for c in a.chords} - {"N"} == {"E:5", "D:5", "G:5", "A:5"}
    chart_chords = {
        str(e.chord) for s in analysis_to_song(a).sections for b in s.bars for e in b.chords if e.chord
    }
    assert chart_chords == {"E5", "D5", "G5", "A5"}
    monkeypatch.setattr(chords, "POWER_SONG_SHARE", 2.0)  # never a power-chord song
    b = analyze_array(y, SR)
    assert b.key == "E major"
    assert "E:maj" in {c.label for c in b.chords}


def test_triads_are_not_power_chords() -> None:
    y, _ = progression(CADENCE * 4 + [(9, "min"), (2, "min"), (7, "7"), (0, "maj")] * 2, bpm=120)
    a = analyze_array(y, SR)
    assert not [c.label for c in a.chords if c.label.endswith(":5")]
    assert "A:min" in {c.label for c in a.chords}


def test_a_power_chord_is_read_as_the_triad_its_key_uses_more() -> None:
    hm = default_model()
    minor_tonic, major_tonic = function_index(0, "m"), function_index(0, "M")
    assert hm._function_in(1, 0, POWER) == minor_tonic  # in a minor key: i
    assert hm._function_in(0, 0, POWER) == major_tonic  # in a major key: I
    for fam in FAMILIES:  # other families are what they are
        assert hm._function_in(1, 3, fam) == function_index(3, fam)


def test_the_reverb_after_the_last_chord_is_no_chord() -> None:
    states = [(0, "maj")] * 6 + [(4, "maj")] * 2
    energy = np.array([1.0, 1.1, 0.9, 1.0, 0.05, 1.0, 0.06, 0.02])
    # Only the trailing quiet beats (a stop-time beat inside the song keeps its chord).
    assert _tail_without_chords(states, energy) == [(0, "maj")] * 6 + [(-1, "N")] * 2
    assert _tail_without_chords(states, np.ones(8)) == states
    assert _tail_without_chords([], np.zeros(0)) == []


def test_likeliest_keys_name_a_close_second() -> None:
    """A vamp on C7 and Bb (Cocaine's riff) leaves the chord statistics torn (F, Bb, G
    minor: none has 50%), and the candidates say so; the first is the estimated key. A
    plain cadence leaves no doubt."""
    vamp = _beats([(0, "7"), (10, "maj")] * 16, per_chord=2)
    tones = np.ones(12)
    cands = key.likeliest_keys(*key.key_scores(tones, vamp))
    assert cands[0][0] == key.estimate_key(tones, vamp)[0]
    assert 1 < len(cands) <= key.CANDIDATES
    assert {str(k) for k, _ in cands} <= {"C", "F", "Bb", "Gm"} and cands[0][1] < 0.5
    assert all(p >= key.CANDIDATE_FLOOR for _, p in cands[1:])
    assert cands[1][1] >= 0.15  # a close second, which the analysis table names
    clear = key.likeliest_keys(*key.key_scores(tones, _beats(CADENCE * 8)))
    assert str(clear[0][0]) == "C" and clear[0][1] > 0.9
    assert key.likeliest_keys(*key.key_scores(tones, [])) == ()  # no chords: no probabilities
