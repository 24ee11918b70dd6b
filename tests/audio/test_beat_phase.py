"""The beat grid's phase on grooves whose loudest onsets are not the beats: a swung
off-beat hi-hat louder than the beat (gospel) is moved back onto the beat; a straight
open hi-hat between four-on-the-floor kicks is left alone."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("librosa")

from _analysis_signals import SR, drum_groove

from backline.audio.analyze.beats import track_beats
from backline.audio.analyze.features import features_from_array

BACKBEAT = [(0, "kick", 0.8), (1, "snare", 0.5), (2, "kick", 0.8), (3, "snare", 0.5)]
# The swung eighth 0.72 of the way through each beat, louder than the hat on the beat.
SWUNG_LOUD = BACKBEAT + [(b + f, "hat", g) for b in range(4) for f, g in ((0.0, 0.35), (0.72, 1.0))]
# Dance: kick on every beat, an open hat on every "and" louder than anything else.
DANCE = [(b, "kick", 0.8) for b in range(4)] + [(b + 0.5, "hat", 1.0) for b in range(4)]


def _phase_error(hits: list[tuple[float, str, float]], bpm: float) -> tuple[float, float]:
    """(median, 90th percentile) of the tracked beats' distance from the true beats, in beats."""
    y, truth = drum_groove(bpm, hits)
    beats = track_beats(features_from_array(y, SR)).beats
    period = 60.0 / bpm
    ph = ((beats - truth[0]) / period) % 1.0
    ph = np.where(ph > 0.5, ph - 1.0, ph)
    return float(np.median(ph)), float(np.percentile(np.abs(ph), 90))


@pytest.mark.parametrize("bpm", [76.0, 88.0, 104.0, 112.0])
def test_a_loud_swung_off_beat_does_not_take_the_beat(bpm: float) -> None:
    median, p90 = _phase_error(SWUNG_LOUD, bpm)
    assert abs(median) < 0.05  # from 88 BPM up the grid had sat 0.27 of a beat early, on the hat
    assert p90 < 0.06


@pytest.mark.parametrize("bpm", [88.0, 112.0])
def test_an_open_hat_between_four_on_the_floor_kicks_keeps_the_beat(bpm: float) -> None:
    median, p90 = _phase_error(DANCE, bpm)
    assert abs(median) < 0.05
    assert p90 < 0.06


def _samba_envelope(bpm: float, beats: int, louder: tuple[int, int]) -> tuple[np.ndarray, float]:
    """An onset envelope with every sixteenth loud (samba), the beat loudest, and the
    last sixteenth of the beat a little louder for the beats in ``louder``; (envelope,
    frames per beat)."""
    from backline.audio.analyze.features import ONSET_HOP
    from backline.audio.analyze.features import SR as FEAT_SR

    rng = np.random.default_rng(0)
    per = 60.0 * FEAT_SR / ONSET_HOP / bpm
    o = np.zeros(int((beats + 1) * per) + 10)
    for b in range(beats):
        gains = (0.95, 0.6, 0.8, 1.05) if louder[0] <= b < louder[1] else (1.0, 0.6, 0.8, 0.9)
        for s, g in enumerate(gains):
            o[round((b + s / 4) * per) + 2] += g * (1 + 0.15 * rng.standard_normal())
    return o, per


def test_a_steady_samba_does_not_slip_onto_another_sixteenth() -> None:
    import librosa

    from backline.audio.analyze.beats import dynamic_beats, slipped
    from backline.audio.analyze.features import ONSET_HOP
    from backline.audio.analyze.features import SR as FEAT_SR

    o, per = _samba_envelope(96.0, 160, (40, 70))
    _, plain = librosa.beat.beat_track(
        onset_envelope=o, sr=FEAT_SR, hop_length=ONSET_HOP, bpm=96.0, units="time"
    )
    assert slipped(np.asarray(plain))  # the tracker alone moves onto the louder sixteenth and back
    beats = dynamic_beats(o, 96.0)
    phase = (beats * FEAT_SR / ONSET_HOP - 2) / per % 1.0
    phase = np.where(phase > 0.5, phase - 1.0, phase)
    assert np.max(np.abs(phase)) < 0.05
    assert not slipped(beats)


def test_slipped_finds_a_beat_a_sixteenth_short() -> None:
    from backline.audio.analyze.beats import slipped

    grid = np.arange(40) * 0.5
    assert not slipped(grid)
    assert not slipped(grid * np.linspace(1.0, 1.02, 40))  # a gentle drift is not a slip
    short = np.concatenate([grid[:20], grid[20:] - 0.125])
    assert slipped(short)
    assert slipped(np.concatenate([grid[:20], grid[20:] + 0.125]))
