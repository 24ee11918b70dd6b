"""Concert pitch: the tuning histogram and the in-tune semitone magnitudes."""

from __future__ import annotations

import numpy as np
import pytest

from backline.audio.analyze.features import (
    N_PITCH,
    SR,
    _TuningHistogram,
    features_from_array,
    in_tune,
)
from corpora import corpora_path


def _histogram(deviations: dict[float, float]) -> _TuningHistogram:
    """A histogram holding ``count`` peaks at each deviation (binned as ``add`` bins)."""
    h = _TuningHistogram()
    for dev, count in deviations.items():
        h.counts[int(np.floor(((dev + 0.5) % 1.0) * h.n + 1e-9)) % h.n] += count
    return h


def test_a_spike_does_not_outvote_a_band_in_tune() -> None:
    """One detuned sample makes the highest bin; the band's peaks, spread over a few
    bins around 0, make the heaviest window."""
    band = {d / 100: 180.0 for d in range(-3, 4)}
    h = _histogram(band | {-0.40: 400.0})
    assert abs(h.tuning()) <= 0.01


def test_tuning_near_a_quarter_tone_wraps_around() -> None:
    """Peaks just flat of -0.5 and just sharp of +0.49 are one tuning (half a semitone
    off): together they outweigh a cluster at +0.2 that beats either side alone."""
    h = _histogram({-0.5: 100.0, -0.49: 100.0, -0.48: 60.0, 0.49: 120.0, 0.2: 250.0, 0.21: 50.0})
    assert abs(abs(h.tuning()) - 0.5) <= 0.01
    assert _TuningHistogram().tuning() == 0.0  # nothing heard: standard pitch


@pytest.mark.parametrize("cents", [-30.0, 0.0, 20.0])
def test_a_tone_off_standard_pitch(cents: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """A harmonic tone on A3 (and its octave) tuned ``cents`` off: the measured tuning
    matches, and the in-tune magnitudes put it on A."""
    t = np.arange(int(6 * SR)) / SR
    f0 = 220.0 * 2 ** (cents / 1200)
    y = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6))
    feat = features_from_array((0.3 * y).astype(np.float32), SR)
    assert feat.tuning * 100 == pytest.approx(cents, abs=3.0)
    assert feat.a4_hz == pytest.approx(440.0 * 2 ** (cents / 1200), abs=1.0)
    a3 = 57 - 24  # row of A3 (MIDI 57)
    assert int(np.argmax(feat.pitch[:, 20:-20].mean(axis=1))) == a3
    if cents:
        # The tuning reaches the pitch features: read at 440 Hz instead, A3 is weaker.
        monkeypatch.setattr(_TuningHistogram, "tuning", lambda self: 0.0)
        at_440 = features_from_array((0.3 * y).astype(np.float32), SR)
        assert at_440.tuning == 0.0
        gain = feat.pitch[a3, 20:-20].mean() / at_440.pitch[a3, 20:-20].mean()
        assert gain > (1.4 if abs(cents) >= 30 else 1.04)


def test_in_tune_reads_between_bins() -> None:
    thirds = np.zeros((N_PITCH * 3, 1), dtype=np.float32)
    thirds[3 * 10 + 1] = 1.0  # semitone 10, at A = 440 Hz
    thirds[3 * 10 + 2] = 3.0  # a third of a semitone sharp
    assert in_tune(thirds, 0.0)[10, 0] == pytest.approx(1.0)
    assert in_tune(thirds, 1 / 6)[10, 0] == pytest.approx(2.0)  # halfway
    assert in_tune(thirds, 1 / 3)[10, 0] == pytest.approx(3.0)
    thirds[3 * 10] = 5.0  # a third of a semitone flat
    assert in_tune(thirds, -1 / 6)[10, 0] == pytest.approx(3.0)  # halfway between 5 and 1
    assert in_tune(thirds, -1 / 3)[10, 0] == pytest.approx(5.0)
    # Half a semitone sharp: halfway from semitone 10's sharp bin to 11's flat bin.
    thirds[3 * 11] = 7.0
    assert in_tune(thirds, 0.5)[10, 0] == pytest.approx(5.0)
    assert in_tune(thirds, 0.0).shape == (N_PITCH, 1)
    assert in_tune(np.zeros((N_PITCH * 3, 0), dtype=np.float32), 0.2).shape == (N_PITCH, 0)


def test_in_tune_at_the_edges_of_the_range() -> None:
    """The lowest and highest semitones read their own bins, clamped at the array's ends
    when the tuning points past them (no index error)."""
    thirds = np.arange(N_PITCH * 3, dtype=np.float32)[:, None]
    assert in_tune(thirds, 0.0)[0, 0] == 1.0 and in_tune(thirds, 0.0)[-1, 0] == 3 * N_PITCH - 2
    assert in_tune(thirds, -0.5)[0, 0] == 0.0  # clamped to the first row
    assert in_tune(thirds, 0.5)[-1, 0] == 3 * N_PITCH - 1  # clamped to the last row


def test_peaks_spread_by_chance_mean_standard_pitch() -> None:
    """120 peaks spread evenly (a short, dense clip): no tuning stands out, 0 is kept."""
    rng = np.random.default_rng(3)
    h = _histogram({})
    np.add.at(h.counts, rng.integers(0, h.n, 120), 1.0)
    assert h.tuning() == 0.0


def test_a_real_piano_recording_against_its_midi_annotation() -> None:
    """madmom's stereo_sample (a piano, with its notes annotated): the tuning measured
    from the whole mix matches the median deviation of the annotated notes' own
    fundamentals (found in a fine spectrum around each), within 5 cents; the 2.8 s
    sample.wav, whose peaks are spread by chance, is read at standard pitch."""
    import soundfile as sf

    from backline.audio.analyze import analyze_file

    wav = corpora_path("audio", "madmom", "stereo_sample.wav")
    notes = np.loadtxt(wav.with_suffix(".notes"), ndmin=2)
    y, sr = sf.read(wav, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    freqs = np.fft.rfftfreq(1 << 18, 1 / sr)
    devs = []
    for onset, midi in notes[:, :2]:
        seg = y[int((onset + 0.05) * sr) : int((onset + 0.35) * sr)]
        if len(seg) < 4096:
            continue
        spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n=1 << 18))
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        band = (freqs > f0 * 2 ** (-0.6 / 12)) & (freqs < f0 * 2 ** (0.6 / 12))
        devs.append(1200 * np.log2(freqs[band][np.argmax(spec[band])] / f0))
    assert len(devs) >= 5
    a = analyze_file(wav)
    assert a.tuning_cents == pytest.approx(float(np.median(devs)), abs=5.0)
    assert analyze_file(corpora_path("audio", "madmom", "sample.wav")).a4_hz == 440.0
