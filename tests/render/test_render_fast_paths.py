"""The render's fast paths give what the plain computations give: sparse true-peak
oversampling, the limiter's sparse gain, in-place and chunked filtering, the EQ cascade
against pedalboard's filters, the half-rate reverb, and the numpy 24-bit WAV writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pedalboard")
import pedalboard as pb
import soundfile as sf
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import sosfilt

from backline.render.export import write_interleaved
from backline.render.loudness import (
    interpolation_bound,
    k_power,
    k_weight,
    sosfilt_inplace,
    true_peak,
    true_peak_envelope,
)
from backline.render.master import limit_true_peak
from backline.render.mixer import ROLE_STRIPS, add_reverb, eq_sos, run_plugin_in_place

SR = 44100


def _music_like(rng: np.random.Generator, seconds: float = 3.0) -> np.ndarray:
    """Planar (2, n) float32: decaying hits on a tone bed, peaks well above the bed."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    bed = 0.15 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)
    hits = np.zeros(n)
    for start in range(0, n, SR // 4):
        k = min(2000, n - start)
        hits[start : start + k] += (
            0.8 * np.exp(-np.arange(k) / 300) * np.sin(2 * np.pi * 5000 * np.arange(k) / SR)
        )
    left = bed + hits
    right = 0.9 * bed - 0.7 * hits
    return np.ascontiguousarray(np.stack([left, right]), dtype=np.float32)


def test_sparse_true_peak_envelope_decides_like_full_oversampling(rng: np.random.Generator) -> None:
    x = _music_like(rng)
    full = true_peak_envelope(x.T)
    for level in (0.3, 0.6, 0.9):
        sparse = true_peak_envelope(x.T, floor=level / interpolation_bound())
        assert np.array_equal(full >= level, sparse >= level)
        assert np.array_equal(full[full >= level], sparse[full >= level])
        assert (sparse <= full).all()
    assert true_peak(x.T) == pytest.approx(20 * np.log10(full.max()), abs=1e-9)


def test_interpolation_bound_holds_for_a_worst_case_signal() -> None:
    h_bound = interpolation_bound()
    x = np.zeros(256, dtype=np.float32)
    x[100:116] = np.sign(np.sinc(np.arange(-7.5, 8.5, 1.0)))  # signs of the ideal interpolator
    assert true_peak_envelope(x).max() <= h_bound * 1.0001
    # the interpolator is the true-peak meter's of `audio check` (resample_poly's design):
    # a bound this size still leaves blocks more than 7 dB under the ceiling unoversampled
    assert h_bound < 2.5


def _reference_limit(x: np.ndarray, ceiling: float, la: int, hold: int) -> np.ndarray:
    env = true_peak_envelope(x)
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-12)).astype(np.float32)
    size = la + hold
    m = minimum_filter1d(need, size=size, origin=hold - size // 2, mode="nearest")
    g = uniform_filter1d(m, size=la, origin=la - 1 - la // 2, mode="nearest")
    return (x * g[:, None]).astype(np.float32)


def test_sparse_limiter_gain_matches_the_whole_signal_filters(rng: np.random.Generator) -> None:
    x = np.ascontiguousarray(_music_like(rng).T * 1.6)
    y, reduction = limit_true_peak(x, SR, -1.0, guard=False)
    ref = _reference_limit(x, 10 ** (-1 / 20), round(0.005 * SR), round(0.05 * SR))
    assert reduction > 3.0
    # identical where the limiter acts; elsewhere exactly unity (the reference's running
    # mean of ones may read 1 - 1 ulp)
    np.testing.assert_allclose(y, ref, rtol=2e-7, atol=0)
    assert true_peak(y) <= -1.0 + 0.02


def test_in_place_sosfilt_and_chunked_k_weighting_match_scipy(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 150_001)).astype(np.float32)
    sos = eq_sos(ROLE_STRIPS["drums"], SR)
    ref = sosfilt(sos.astype(np.float32), x, axis=1)
    assert np.array_equal(sosfilt_inplace(sos, x.copy()), ref)
    kw = k_weight(x.T, SR)
    np.testing.assert_allclose(k_power(x.T, SR), (kw.astype(np.float64) ** 2).sum(axis=0), rtol=1e-5)


@pytest.mark.parametrize("role", ["drums", "bass", "comping", "guitar", "pad"])
def test_eq_cascade_is_pedalboards_filters(rng: np.random.Generator, role: str) -> None:
    st = ROLE_STRIPS[role]
    fx: list[pb.Plugin] = []
    if st.highpass_hz:
        fx += [pb.HighpassFilter(cutoff_frequency_hz=st.highpass_hz) for _ in range(2)]
    if st.lowpass_hz:
        fx += [pb.LowpassFilter(cutoff_frequency_hz=st.lowpass_hz) for _ in range(2)]
    if st.low_shelf:
        fx.append(pb.LowShelfFilter(cutoff_frequency_hz=st.low_shelf[0], gain_db=st.low_shelf[1]))
    if st.high_shelf:
        fx.append(pb.HighShelfFilter(cutoff_frequency_hz=st.high_shelf[0], gain_db=st.high_shelf[1]))
    fx += [pb.PeakFilter(cutoff_frequency_hz=f, gain_db=g, q=q) for f, g, q in st.eq if f < 0.45 * SR]
    x = (0.1 * rng.standard_normal((2, SR))).astype(np.float32)
    ref = pb.Pedalboard(fx)(x, SR).astype(np.float64)
    ours = sosfilt(eq_sos(st, SR), x.astype(np.float64), axis=1)
    err_db = 10 * np.log10(((ours - ref) ** 2).sum() / (ref**2).sum())
    assert err_db < -70.0


def test_plugins_run_in_place_chunk_by_chunk_bit_identically(rng: np.random.Generator) -> None:
    x = _music_like(rng, 2.0)
    whole = pb.Compressor(threshold_db=-20, ratio=3, attack_ms=10, release_ms=100)(x, SR)
    y = x.copy()
    run_plugin_in_place(pb.Compressor(threshold_db=-20, ratio=3, attack_ms=10, release_ms=100), y, SR)
    assert np.array_equal(whole, y)


def test_half_rate_reverb_is_linear_deterministic_and_at_full_rate_level(rng: np.random.Generator) -> None:
    # chords of decaying tones under 1 kHz (where the half-rate reverb is the full one)
    n = 4 * SR
    t = np.arange(n) / SR
    env = np.exp(-(t % 0.5) * 6)
    left = env * sum(np.sin(2 * np.pi * f * t) for f in (196.0, 247.0, 294.0, 523.0)) * 0.2
    right = env * sum(np.sin(2 * np.pi * f * t + 1.0) for f in (131.0, 330.0, 392.0)) * 0.2
    a = np.ascontiguousarray(np.stack([left, right]), dtype=np.float32)
    b = np.ascontiguousarray(_music_like(rng, 4.0) * 0.5)
    wet = lambda x: add_reverb(x.copy(), SR, 0.45, 0.2) - x  # noqa: E731
    wa, wb, wab = wet(a), wet(b), wet(a + b)
    np.testing.assert_allclose(wa + wb, wab, atol=2e-6)
    assert np.array_equal(wet(a), wa)
    full = pb.Reverb(room_size=0.45, damping=0.5, wet_level=0.2, dry_level=0.0, width=1.0)(a, SR)
    level_db = 10 * np.log10((wa.astype(np.float64) ** 2).mean() / (full.astype(np.float64) ** 2).mean())
    assert abs(level_db) < 0.5


@pytest.mark.parametrize(("channels", "frames"), [(1, 1001), (2, 70_001), (7, 65_536 + 3)])
def test_numpy_wav24_writer_round_trips(
    tmp_path: Path, rng: np.random.Generator, channels: int, frames: int
) -> None:
    x = (0.4 * rng.standard_normal((frames, channels))).astype(np.float32)
    x[0, 0], x[1, 0] = 1.5, -1.5  # clipped, never wrapped
    p = write_interleaved(tmp_path / "a.wav", x, SR, bit_depth=24)
    info = sf.info(str(p))
    assert (info.subtype, info.channels, info.frames, info.samplerate) == ("PCM_24", channels, frames, SR)
    y, _ = sf.read(str(p), dtype="float32", always_2d=True)
    assert np.abs(y - np.clip(x, -1.0, 1.0 - 2**-23)).max() <= 2**-23
    # same bytes as libsndfile's own header
    assert p.read_bytes()[:12] == b"RIFF" + (p.stat().st_size - 8).to_bytes(4, "little") + b"WAVE"
