"""Meters and the master bus: loudness target, true-peak ceiling, agreement with pyloudnorm."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from render_helpers import band_mix as render_band_mix
from render_helpers import needs_fonts
from scipy.signal import resample_poly

from backline.render.loudness import integrated_loudness, loudness_range, true_peak
from backline.render.master import MasterSettings, limit_true_peak, master

pyln = pytest.importorskip("pyloudnorm")
SR = 44100


def _ref_true_peak(x: np.ndarray) -> float:
    """An independent reference: 16x oversampling with a long high-quality FIR."""
    up = resample_poly(np.asarray(x, dtype=np.float64), 16, 1, axis=0, window=("kaiser", 12.0))
    return float(20 * np.log10(np.abs(up).max()))


@pytest.fixture(scope="module")
def music() -> np.ndarray:
    return render_band_mix(6, SR)


def test_loudness_matches_pyloudnorm(rng: np.random.Generator) -> None:
    x = (rng.standard_normal((SR * 10, 2)) * np.linspace(0.01, 0.3, SR * 10)[:, None]).astype(np.float32)
    meter = pyln.Meter(SR)
    assert integrated_loudness(x, SR) == pytest.approx(
        meter.integrated_loudness(x.astype(np.float64)), abs=0.05
    )
    assert loudness_range(x, SR) == pytest.approx(meter.loudness_range(x.astype(np.float64)), abs=0.5)
    sine = 0.5 * np.sin(2 * np.pi * 997 * np.arange(SR * 3) / SR)
    # a 997 Hz sine at -6 dBFS in both channels reads -3.01 + 3.01 - 6.02 ≈ -6.0 LUFS
    assert integrated_loudness(np.stack([sine, sine], 1), SR) == pytest.approx(-6.02 + 0.0, abs=0.2)


def test_true_peak_sees_intersample_peaks() -> None:
    n = np.arange(4096)
    x = np.sin(2 * np.pi * (SR / 4) * n / SR + np.pi / 4).astype(np.float32)  # samples at ±0.707
    # faded in and out: a sine switched on at full level overshoots at its edges
    fade = np.sin(np.linspace(0, np.pi / 2, 512)) ** 2
    x[:512] *= fade
    x[-512:] *= fade[::-1]
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-3.01, abs=0.01)
    assert true_peak(x) == pytest.approx(0.0, abs=0.05)


def test_limiter_holds_the_ceiling(rng: np.random.Generator) -> None:
    x = (rng.standard_normal((SR * 3, 2)) * 0.05).astype(np.float32)
    x[::5000] = 1.5  # spikes far over the ceiling
    y, reduction = limit_true_peak(x, SR, -1.0)
    assert reduction > 4
    assert _ref_true_peak(y) <= -1.0 + 0.05
    quiet = np.abs(y[2000:4000]).max() / np.abs(x[2000:4000]).max()
    assert quiet > 0.9  # far from a spike the signal is untouched


@needs_fonts
@pytest.mark.parametrize("target", [-14.0, -18.0, -11.0])
def test_master_hits_target_and_ceiling(music: np.ndarray, target: float) -> None:
    y, rep = master(music, SR, MasterSettings(lufs_target=target, ceiling_dbtp=-1.0))
    measured = pyln.Meter(SR).integrated_loudness(y.astype(np.float64))
    assert measured == pytest.approx(target, abs=0.5)
    assert rep.integrated_lufs == pytest.approx(measured, abs=0.01)
    assert _ref_true_peak(y) <= -1.0 + 0.05
    assert rep.true_peak_dbtp <= -1.0
    assert np.abs(y).max() < 1.0
    assert rep.loudness_range_lu >= 0


def test_master_of_silence_is_silent() -> None:
    y, rep = master(np.zeros((SR, 2), np.float32), SR)
    assert not np.any(y) and rep.integrated_lufs == float("-inf")


def test_the_master_reads_the_true_peak_as_audio_check_does(rng: np.random.Generator) -> None:
    """render.json's true peak and `backline audio check`'s are one measurement (the
    render's meter missed 0.2 dB of a cymbal's overshoot in the demo: -1.16 against -0.97)."""
    from backline.audio.loudness import LoudnessMeter

    x = (rng.standard_normal((SR * 4, 2)) * 0.05).astype(np.float32)
    # bursts that overshoot most between samples: the signs of the ideal interpolator
    # (the meter before read -1.16 dBTP where check read +0.42)
    burst = 0.5 * np.sign(np.sinc(np.arange(-19.5, 20.5)))
    for at in range(SR // 2, 4 * SR - 100, SR // 2):
        x[at : at + 40, 0] += burst
        x[at : at + 40, 1] -= burst
    y, rep = master(x, SR)
    meter = LoudnessMeter(SR, 2)
    meter.add(y.T)
    checked = meter.result().true_peak_dbtp
    assert checked <= -1.0
    assert rep.true_peak_dbtp == pytest.approx(checked, abs=0.02)


@needs_fonts
@pytest.mark.parametrize(
    ("target", "ceiling"),
    [(-60.0, -1.0), (-75.0, -1.0), (-100.0, -1.0), (-0.01, -1.0), (-1.0, 0.0), (-14.0, -20.0), (-9.0, -20.0)],
)
def test_master_stays_finite_for_any_target(music: np.ndarray, target: float, ceiling: float) -> None:
    # --lufs -70 gave NaN samples ("invalid value encountered in multiply"): the whole mix
    # fell under BS.1770's -70 LUFS gate, the measured loudness was -inf and the gain
    # search stepped to an infinite gain; a target far above what the ceiling allows ran
    # the gain up by 5x the miss each step until float32 overflowed
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y, rep = master(music, SR, MasterSettings(lufs_target=target, ceiling_dbtp=ceiling))
    assert np.isfinite(y).all() and np.isfinite(rep.gain_db)
    assert y.shape == music.shape and np.abs(y).max() > 0
    assert _ref_true_peak(y) <= ceiling + 0.05
    if target >= -60.0:
        loudness = pyln.Meter(SR).integrated_loudness(y.astype(np.float64))
        assert rep.integrated_lufs == pytest.approx(loudness, abs=0.05)
        if target - ceiling <= -5.0:  # room under the ceiling: the target is met
            assert loudness == pytest.approx(target, abs=0.5)
        else:  # no room: as loud as the limiter allows, said by the report
            assert loudness < target - 0.5
    else:  # under the gate: too quiet to measure, and reported as such
        assert rep.integrated_lufs == float("-inf") and rep.as_json()["integrated_lufs"] is None
