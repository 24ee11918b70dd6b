"""The master bus: gentle compression, loudness normalisation and a true-peak limiter.

:func:`master` takes the stereo mix and returns it mastered with a
:class:`MasterReport`. The chain:

1. bus compressor (pedalboard, 1.5:1 above -18 dBFS, 30 ms / 250 ms): glue, not squash;
2. a gain that brings the integrated loudness (BS.1770) to the target (-14 LUFS);
3. a look-ahead true-peak limiter: the peak envelope is taken on the 4x oversampled
   signal, the gain reduction looks ahead 5 ms, holds 50 ms and is smoothed so it is
   never above what a sample needs; then a final check on the oversampled output
   trims any residue, so the result never exceeds the ceiling (-1 dBTP);
4. steps 2-3 repeat (at most 8 times, secant steps) until the loudness is within 0.1 LU of target.

The limiter aims :data:`TRUE_PEAK_MARGIN_DB` under the ceiling: our 16-tap-per-phase
interpolator can read a few hundredths of a dB under the BS.1770 reference filter and
under a long (near ideal) interpolator, and the file must stay under the ceiling
whichever 4x meter reads it.

Loudness is measured with pyloudnorm's BS.1770 algorithm, vectorised in
:mod:`backline.render.loudness` (the tests check it against pyloudnorm itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from backline.errors import RenderError
from backline.render.loudness import integrated_loudness, loudness_range, true_peak, true_peak_envelope

__all__ = [
    "MasterSettings",
    "MasterReport",
    "master",
    "limit_true_peak",
    "measure",
    "TRUE_PEAK_MARGIN_DB",
]

TRUE_PEAK_MARGIN_DB = 0.15


@dataclass(frozen=True)
class MasterSettings:
    """Master bus settings; ``lufs_target`` None skips normalisation (limiter only)."""

    lufs_target: float | None = -14.0
    ceiling_dbtp: float = -1.0
    compress: bool = True
    comp_threshold_db: float = -18.0
    comp_ratio: float = 1.5
    lookahead_ms: float = 5.0
    hold_ms: float = 50.0
    tolerance_lu: float = 0.1


@dataclass(frozen=True)
class MasterReport:
    """What the master did and measured (loudness in LUFS, LRA in LU, peak in dBTP)."""

    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    gain_db: float
    max_gain_reduction_db: float
    iterations: int

    def as_json(self) -> dict[str, float | None]:
        """Rounded figures; None for a silent mix (no finite loudness or peak)."""

        def r(v: float) -> float | None:
            return round(v, 2) if math.isfinite(v) else None

        return {
            "integrated_lufs": r(self.integrated_lufs),
            "loudness_range_lu": r(self.loudness_range_lu),
            "true_peak_dbtp": r(self.true_peak_dbtp),
            "master_gain_db": r(self.gain_db),
            "limiter_max_reduction_db": r(self.max_gain_reduction_db),
        }


def limit_true_peak(
    x: np.ndarray,
    sample_rate: int,
    ceiling_dbtp: float = -1.0,
    *,
    lookahead_ms: float = 5.0,
    hold_ms: float = 50.0,
    envelope: np.ndarray | None = None,
    guard: bool = True,
) -> tuple[np.ndarray, float]:
    """Limit ``x`` (n, ch) so that its true peak is at most ``ceiling_dbtp``.

    ``envelope`` is ``true_peak_envelope(x)`` when already known. With ``guard`` the
    oversampled peak of the result is checked and trimmed. Returns the limited audio
    (float32) and the largest gain reduction in dB.
    """
    ceiling = 10 ** (ceiling_dbtp / 20.0)
    env = true_peak_envelope(x) if envelope is None else envelope
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-12)).astype(np.float32)
    if float(need.min()) >= 1.0:
        y = np.asarray(x, dtype=np.float32)
    else:
        la = max(1, round(lookahead_ms * 1e-3 * sample_rate))
        hold = max(0, round(hold_ms * 1e-3 * sample_rate))
        # window [n - hold, n + la - 1]: the gain at n covers every sample la ahead
        size = la + hold
        # (scipy's window for output n starts at n - size // 2 - origin)
        m = minimum_filter1d(need, size=size, origin=hold - size // 2, mode="nearest")
        # average over [n - la + 1, n]: each term covers n, so the result is <= need[n]
        g = uniform_filter1d(m, size=la, origin=la - 1 - la // 2, mode="nearest")
        y = (np.asarray(x, dtype=np.float32) * g[:, None]).astype(np.float32)
    if guard:
        y, _ = _guard(y, ceiling_dbtp)
    reduction = -20 * math.log10(max(float(need.min()), 1e-12))
    return y, reduction


def _guard(y: np.ndarray, ceiling_dbtp: float) -> tuple[np.ndarray, float]:
    """Trim ``y`` so its oversampled peak is under the ceiling; returns it and its true peak."""
    ceiling = 10 ** (ceiling_dbtp / 20.0)
    tp = float(true_peak_envelope(y, floor=ceiling * 0.5).max(initial=0.0))
    if tp > ceiling:  # scaling is linear: the new peak is known without measuring again
        factor = ceiling / tp * 0.999
        y = y * np.float32(factor)
        tp *= factor
    return y, (20 * math.log10(tp) if tp > 0 else float("-inf"))


def measure(x: np.ndarray, sample_rate: int, *, with_peak: bool = True) -> tuple[float, float, float]:
    """(integrated LUFS, LRA LU, true peak dBTP); the peak is NaN when ``with_peak`` is
    False. Loudness uses :mod:`backline.render.loudness` (pyloudnorm's algorithm,
    vectorised: the tests hold it to pyloudnorm within 0.05 LU)."""
    lufs = integrated_loudness(x, sample_rate)
    lra = loudness_range(x, sample_rate)
    return lufs, lra, true_peak(x) if with_peak else float("nan")


def master(
    mix: np.ndarray, sample_rate: int, settings: MasterSettings = MasterSettings()
) -> tuple[np.ndarray, MasterReport]:
    """Master a stereo mix (n, 2) float32; see the module docstring for the chain."""
    import pedalboard as pb

    if mix.ndim != 2 or mix.shape[0] == 0:
        raise RenderError("nothing to master: the mix is empty")
    if settings.ceiling_dbtp > 0:
        raise RenderError(f"true-peak ceiling must be at most 0 dBTP, not {settings.ceiling_dbtp}")
    x = np.ascontiguousarray(mix, dtype=np.float32)
    if settings.compress:
        comp = pb.Compressor(
            threshold_db=settings.comp_threshold_db,
            ratio=settings.comp_ratio,
            attack_ms=30.0,
            release_ms=250.0,
        )
        x = np.ascontiguousarray(comp(np.ascontiguousarray(x.T), sample_rate).T)
    gain_db = 0.0
    lufs_in = integrated_loudness(x, sample_rate)
    if not math.isfinite(lufs_in):
        y = np.zeros_like(x)
        return y, MasterReport(float("-inf"), 0.0, float("-inf"), 0.0, 0.0, 0)
    if settings.lufs_target is not None:
        gain_db = settings.lufs_target - lufs_in
    iterations = 0
    reduction = 0.0
    last: tuple[float, float] | None = None
    # the envelope scales with the gain: computed once, oversampled where it can matter
    # (within 6 dB of the ceiling at up to 6 dB more gain than the first guess)
    aim = settings.ceiling_dbtp - TRUE_PEAK_MARGIN_DB
    ceiling_lin = 10 ** (aim / 20.0)
    env0 = true_peak_envelope(x, floor=ceiling_lin / (10 ** (gain_db / 20.0)) * 0.25)
    while True:
        iterations += 1
        g = 10 ** (gain_db / 20.0)
        y, reduction = limit_true_peak(
            x * np.float32(g),
            sample_rate,
            aim,
            lookahead_ms=settings.lookahead_ms,
            hold_ms=settings.hold_ms,
            envelope=env0 * np.float32(g),
            guard=False,
        )
        if settings.lufs_target is None or iterations >= 8:
            break
        lufs_now = integrated_loudness(y, sample_rate)
        err = settings.lufs_target - lufs_now
        if abs(err) <= settings.tolerance_lu:
            break
        # secant step: under heavy limiting loudness grows slower than the gain
        slope = 1.0
        if last is not None and abs(gain_db - last[0]) > 1e-6:
            slope = max(0.2, min(1.0, (lufs_now - last[1]) / (gain_db - last[0])))
        last = (gain_db, lufs_now)
        gain_db += err / slope
    y, tp = _guard(y, aim)
    lufs, lra, _ = measure(y, sample_rate, with_peak=False)
    return y, MasterReport(lufs, lra, tp, gain_db, reduction, iterations)
