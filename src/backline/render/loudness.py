"""Loudness and peak meters: ITU-R BS.1770-4 integrated loudness, EBU Tech 3342
loudness range, and oversampled true peak.

The K-weighting filters and gating are those of pyloudnorm (same coefficients, same
block layout), vectorised with numpy/scipy so that a three-minute song measures in a
fraction of a second; the tests check agreement with pyloudnorm within 0.05 LU.

Audio is ``(n_samples, channels)`` or ``(n_samples,)`` float arrays.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.signal import firwin, lfilter, upfirdn

__all__ = [
    "k_weight",
    "integrated_loudness",
    "loudness_range",
    "true_peak",
    "true_peak_envelope",
    "sample_peak_db",
    "TRUE_PEAK_OVERSAMPLING",
]

TRUE_PEAK_OVERSAMPLING = 4
_ABS_GATE = -70.0


def _biquad(kind: str, gain_db: float, q: float, fc: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    a_ = 10 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * (fc / rate)
    alpha = math.sin(w0) / (2.0 * q)
    c = math.cos(w0)
    if kind == "high_shelf":
        sa = 2 * math.sqrt(a_) * alpha
        b = [a_ * ((a_ + 1) + (a_ - 1) * c + sa), -2 * a_ * ((a_ - 1) + (a_ + 1) * c), a_ * ((a_ + 1) + (a_ - 1) * c - sa)]
        a = [(a_ + 1) - (a_ - 1) * c + sa, 2 * ((a_ - 1) - (a_ + 1) * c), (a_ + 1) - (a_ - 1) * c - sa]
    else:  # high pass
        b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
        a = [1 + alpha, -2 * c, 1 - alpha]
    return np.array(b) / a[0], np.array(a) / a[0]


def k_weight(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """The K-weighted signal (float64, same shape)."""
    b1, a1 = _biquad("high_shelf", 4.0, 1 / math.sqrt(2), 1500.0, sample_rate)
    b2, a2 = _biquad("high_pass", 0.0, 0.5, 38.0, sample_rate)
    y = lfilter(b1, a1, np.asarray(x, dtype=np.float64), axis=0)
    return np.asarray(lfilter(b2, a2, y, axis=0))


def _power(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Channel-summed K-weighted power per sample, with its cumulative sum (prefixed 0)."""
    y = k_weight(x, sample_rate)
    p = y * y if y.ndim == 1 else np.sum(y * y, axis=1)
    return np.concatenate(([0.0], np.cumsum(p)))


def _block_loudness(cum: np.ndarray, sample_rate: int, block_s: float, step_s: float) -> np.ndarray:
    n = cum.shape[0] - 1
    t = n / sample_rate
    n_blocks = int(round((t - block_s) / step_s)) + 1
    if n_blocks < 1:
        return np.zeros(0)
    j = np.arange(n_blocks)
    lo = (j * step_s * sample_rate).astype(np.int64)
    hi = np.minimum(((j * step_s + block_s) * sample_rate).astype(np.int64), n)
    z = (cum[hi] - cum[lo]) / (block_s * sample_rate)
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(z)


def integrated_loudness(x: np.ndarray, sample_rate: int) -> float:
    """Gated integrated loudness in LUFS (``-inf`` for silence or audio under 0.4 s)."""
    cum = _power(x, sample_rate)
    lb = _block_loudness(cum, sample_rate, 0.4, 0.1)
    if lb.size == 0:
        return float("-inf")
    z = 10 ** ((lb + 0.691) / 10.0)
    gated = lb >= _ABS_GATE
    if not gated.any():
        return float("-inf")
    rel = -0.691 + 10 * math.log10(float(z[gated].mean())) - 10.0
    sel = (lb > rel) & (lb > _ABS_GATE)
    if not sel.any():
        return float("-inf")
    return -0.691 + 10 * math.log10(float(z[sel].mean()))


def loudness_range(x: np.ndarray, sample_rate: int) -> float:
    """Loudness range (LRA, LU) after EBU Tech 3342: 3 s windows every 0.1 s, absolute
    gate -70 LUFS, relative gate -20 LU, the spread from the 10th to 95th percentile."""
    cum = _power(x, sample_rate)
    st = _block_loudness(cum, sample_rate, 3.0, 0.1)
    st = st[st >= _ABS_GATE]
    if st.size == 0:
        return 0.0
    z = 10 ** ((st + 0.691) / 10.0)
    rel = -0.691 + 10 * math.log10(float(z.mean())) - 20.0
    st = st[st >= rel]
    if st.size == 0:
        return 0.0
    lo, hi = np.percentile(st, [10, 95])
    return float(hi - lo)


@lru_cache(maxsize=8)
def _tp_filter(oversampling: int) -> np.ndarray:
    """Interpolation FIR (16 taps per phase, Kaiser): flat to 15 kHz at 44.1 kHz and
    erring high (up to +0.4 dB) near 20 kHz, so a true-peak estimate is never low."""
    taps = 16 * oversampling
    return (firwin(taps, 1.02 / oversampling, window=("kaiser", 8.0)) * oversampling).astype(np.float32)


def true_peak_envelope(x: np.ndarray, oversampling: int = TRUE_PEAK_OVERSAMPLING) -> np.ndarray:
    """Per input sample, the largest absolute value of the oversampled signal within
    one sample of it (over all channels): the input to a true-peak limiter."""
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    n = a.shape[0]
    env = _chan_max(np.abs(a))
    if n < 8:
        return env
    h = _tp_filter(oversampling)
    delay = (h.size - 1) // 2  # in oversampled samples
    chunk = 1 << 18
    pad = 32
    for start in range(0, n, chunk):
        lo = max(0, start - pad)
        hi = min(n, start + chunk + pad)
        up = _chan_max(np.abs(upfirdn(h, a[lo:hi], oversampling, 1, axis=0)))
        up = up[delay : delay + (hi - lo) * oversampling]
        r = up[: (up.size // oversampling) * oversampling].reshape(-1, oversampling)
        ph = r[:, 0].copy()
        for k in range(1, oversampling):
            np.maximum(ph, r[:, k], out=ph)
        # within one input sample either side
        both = ph.copy()
        np.maximum(both[1:], ph[:-1], out=both[1:])
        np.maximum(both[:-1], ph[1:], out=both[:-1])
        m = min(chunk, n - start)
        seg = both[start - lo : start - lo + m]
        np.maximum(env[start : start + seg.size], seg, out=env[start : start + seg.size])
    return env


def _chan_max(a: np.ndarray) -> np.ndarray:
    """Max over channels of (n, ch) without numpy's slow reduction over a tiny axis."""
    m = np.array(a[:, 0], dtype=np.float32)
    for c in range(1, a.shape[1]):
        np.maximum(m, a[:, c], out=m)
    return m


def true_peak(x: np.ndarray, oversampling: int = TRUE_PEAK_OVERSAMPLING) -> float:
    """True peak in dBTP (4x oversampled, as BS.1770-4; see :func:`true_peak_envelope`);
    ``-inf`` for silence."""
    peak = float(true_peak_envelope(x, oversampling).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else float("-inf")


def sample_peak_db(x: np.ndarray) -> float:
    """Sample peak in dBFS."""
    peak = float(np.abs(x).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else float("-inf")
