"""The master bus: gentle compression, loudness normalisation and a true-peak limiter.

:func:`master` takes the stereo mix and returns it mastered with a
:class:`MasterReport`. The chain:

1. bus compressor (pedalboard, 1.5:1 above -18 dBFS, 30 ms / 250 ms): glue, not squash;
2. a gain that brings the integrated loudness (BS.1770) to the target (-14 LUFS);
3. a look-ahead true-peak limiter: the peak envelope is taken on the 4x oversampled
   signal, the gain reduction looks ahead 5 ms, holds 50 ms and is smoothed so it is
   never above what a sample needs; then a final check on the oversampled output
   trims any residue, so the result never exceeds the ceiling (-1 dBTP);
4. steps 2-3 repeat (at most 8 times, secant steps) until the loudness is within 0.1 LU of target;
5. a DC-blocking high-pass (first order, :data:`DC_BLOCK_HZ`, run in float64): the
   limiter's gain riding asymmetric kick and bass waveforms leaves a small DC offset
   (-70 to -90 dBFS) that the parts do not have; then the final true-peak check, so
   the ceiling still holds.

A fixed gain (``MasterSettings.gain_db``) replaces the search: a render with parts
muted takes the full band's gain, so the rest of the band plays at the level it has in
the full mix. ``MasterSettings.max_reduction_db`` caps the limiting the search may ask
for: the gain stops where the limiter would pull the loudest peak down by more, and
the loudness then falls short of the target (the render warns).

The gain never goes past :data:`MAX_LIMITING_DB` of limiting, and a target so quiet that
the whole mix falls under BS.1770's absolute gate (-70 LUFS) stops the search at the gain
that got there: the output is finite for any target and ceiling. (``backline render``
takes targets from -60 LUFS to just below 0 LUFS.)

Cost: the mix is K-weighted once; while the gain is searched, the loudness of the
limited signal is estimated from that (the limiter's slow gain applied to the
K-weighted power, only where it is under 1) and the result is then measured exactly
(one more K-weighting pass, which also gives the loudness range for the report). The
limiter's gain is computed only around the samples it must pull down, and only the
256-sample blocks that could come near the ceiling are oversampled (the bound is
rigorous: :func:`~backline.render.loudness.interpolation_bound`).

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
from backline.render.loudness import (
    gated_loudness,
    hop_energies,
    interpolation_bound,
    k_power,
    loudness_range_from_hops,
    loudness_stats,
    true_peak,
    true_peak_envelope,
)
from backline.render.mixer import run_plugin_in_place

__all__ = [
    "MasterSettings",
    "MasterReport",
    "master",
    "limit_true_peak",
    "measure",
    "TRUE_PEAK_MARGIN_DB",
    "DC_BLOCK_HZ",
]

TRUE_PEAK_MARGIN_DB = 0.15
#: Corner of the DC-blocking high-pass after the limiter (Hz).
DC_BLOCK_HZ = 5.0

#: The most gain reduction the loudness search may ask of the limiter (dB above the gain
#: that puts the mix's sample peak at the ceiling): past it a louder target only squares
#: the waveform off, and the gain stays finite for any target and ceiling (the render
#: warns that the target was missed).
MAX_LIMITING_DB = 24.0
#: At most this many passes of the loudness search (estimated and measured together).
MAX_SEARCH_PASSES = 16


@dataclass(frozen=True)
class MasterSettings:
    """Master bus settings; ``lufs_target`` None skips normalisation (limiter only).
    ``gain_db``: a fixed gain instead of the loudness search (the target is then not
    used). ``max_reduction_db``: the most limiting (dB of gain reduction on the loudest
    true peak) the search may ask for; None: up to :data:`MAX_LIMITING_DB`."""

    lufs_target: float | None = -14.0
    ceiling_dbtp: float = -1.0
    compress: bool = True
    comp_threshold_db: float = -18.0
    comp_ratio: float = 1.5
    lookahead_ms: float = 5.0
    hold_ms: float = 50.0
    tolerance_lu: float = 0.1
    gain_db: float | None = None
    max_reduction_db: float | None = None
    dc_block: bool = True


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


Region = tuple[int, int, np.ndarray]  # (start, stop, gain of those samples)


def _limiter_regions(
    env: np.ndarray, scale: float, ceiling: float, la: int, hold: int
) -> tuple[list[Region], float]:
    """The limiter's gain where it is under 1, for the signal ``scale * x`` whose
    true-peak envelope (before scaling) is ``env``: the smoothed gain is computed only
    around the samples over the ceiling (everywhere else it is exactly 1), and equals
    what the filters give on the whole signal. Returns the regions and the largest
    reduction in dB."""
    over = np.flatnonzero(env > ceiling / scale)
    if over.size == 0:
        return [], 0.0
    n = env.size
    reach = la + hold + 2
    breaks = np.flatnonzero(np.diff(over) > 2 * reach + 2)
    firsts = np.concatenate(([over[0]], over[breaks + 1]))
    lasts = np.concatenate((over[breaks], [over[-1]]))
    size = la + hold
    regions: list[Region] = []
    worst = 1.0
    for i0, i1 in zip(firsts.tolist(), lasts.tolist(), strict=True):
        lo, hi = max(0, i0 - reach), min(n, i1 + reach + 1)
        need = np.minimum(1.0, ceiling / np.maximum(env[lo:hi] * np.float32(scale), 1e-12)).astype(np.float32)
        worst = min(worst, float(need.min()))
        # window [n - hold, n + la - 1]: the gain at n covers every sample la ahead
        # (scipy's window for output n starts at n - size // 2 - origin)
        m = minimum_filter1d(need, size=size, origin=hold - size // 2, mode="nearest")
        # average over [n - la + 1, n]: each term covers n, so the result is <= need[n]
        g = uniform_filter1d(m, size=la, origin=la - 1 - la // 2, mode="nearest")
        regions.append((lo, hi, g))
    return regions, -20 * math.log10(max(worst, 1e-12))


def _apply(x: np.ndarray, scale: float, regions: list[Region]) -> np.ndarray:
    """``scale * x`` (planar (ch, n)) with the limiter's regions applied."""
    y = np.multiply(x, np.float32(scale), dtype=np.float32)
    _apply_regions(y, regions)
    return y


def _apply_regions(y: np.ndarray, regions: list[Region]) -> None:
    """The limiter's regions applied to planar ``y`` (ch, n) in place."""
    for lo, hi, g in regions:
        y[:, lo:hi] *= g


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
    (float32, (n, ch)) and the largest gain reduction in dB.
    """
    ceiling = 10 ** (ceiling_dbtp / 20.0)
    a = np.asarray(x, dtype=np.float32)
    xp = a[None, :] if a.ndim == 1 else np.ascontiguousarray(a.T)
    env = true_peak_envelope(xp.T, floor=ceiling / interpolation_bound()) if envelope is None else envelope
    la = max(1, round(lookahead_ms * 1e-3 * sample_rate))
    hold = max(0, round(hold_ms * 1e-3 * sample_rate))
    regions, reduction = _limiter_regions(env, 1.0, ceiling, la, hold)
    y = _apply(xp, 1.0, regions)
    if guard:
        y, _, _ = _guard(y, ceiling_dbtp)
    return (y[0] if a.ndim == 1 else y.T), reduction


def _guard(
    y: np.ndarray,
    ceiling_dbtp: float,
    *,
    known: tuple[np.ndarray, float, float, list[Region]] | None = None,
) -> tuple[np.ndarray, float, float]:
    """Trim planar ``y`` (ch, n) so its oversampled peak is under the ceiling; returns
    it (scaled in place when trimmed), its true peak (dBTP) and the factor applied.

    The peak is exact: only blocks that could hold it, or go over the ceiling, are
    oversampled. ``known`` = ``(env, scale, floor, regions)`` says that ``y`` is
    ``scale * x`` except inside the limiter's ``regions``, where ``env`` is the
    envelope of ``x`` (exact where it reached ``floor``): outside the regions the
    peak is then read from ``env``, and only the regions are oversampled again."""
    ceiling = 10 ** (ceiling_dbtp / 20.0)
    sp = max(float(y.max(initial=0.0)), -float(y.min(initial=0.0)))
    if sp == 0.0:
        return y, float("-inf"), 1.0
    tp = -1.0
    if known is not None:
        env, scale, floor, regions = known
        reach = 16  # > the interpolator's reach (10 samples) + 1
        n = y.shape[1]
        pos = 0  # regions are sorted and apart: read env between them
        for lo, hi, _g in regions:
            a, b = max(0, lo - reach), min(n, hi + reach)
            if a > pos:
                tp = max(tp, float(env[pos:a].max()) * scale)
            pos = max(pos, b)
            c0, c1 = max(0, a - 32), min(n, b + 32)
            seg = true_peak_envelope(y[:, c0:c1].T)[a - c0 : b - c0]
            tp = max(tp, float(seg.max(initial=0.0)))
        if pos < n:
            tp = max(tp, float(env[pos:].max()) * scale)
        if tp < floor * scale * interpolation_bound():
            tp = -1.0  # the peak may sit where env was not oversampled: measure it
    if tp < 0:
        tp = float(true_peak_envelope(y.T, floor=min(sp, ceiling) / interpolation_bound()).max(initial=0.0))
    factor = 1.0
    if tp > ceiling:  # scaling is linear: the new peak is known without measuring again
        factor = ceiling / tp * 0.999
        y *= np.float32(factor)
        tp *= factor
    return y, 20 * math.log10(tp), factor


def _dc_block(y: np.ndarray, sample_rate: int) -> None:
    """High-pass planar float32 ``y`` (ch, n) at :data:`DC_BLOCK_HZ`, in place: one
    first-order section, run in float64 chunk by chunk (a float32 state would add
    low-frequency rounding noise near the pole)."""
    from scipy.signal import lfilter

    k = math.tan(math.pi * DC_BLOCK_HZ / sample_rate)
    b = np.array([1.0, -1.0]) / (k + 1.0)
    a = np.array([1.0, (k - 1.0) / (k + 1.0)])
    zi = np.zeros((y.shape[0], 1))
    step = 1 << 16
    for start in range(0, y.shape[1], step):
        stop = min(y.shape[1], start + step)
        out, zi = lfilter(b, a, y[:, start:stop].astype(np.float64), axis=1, zi=zi)
        y[:, start:stop] = out


def measure(x: np.ndarray, sample_rate: int, *, with_peak: bool = True) -> tuple[float, float, float]:
    """(integrated LUFS, LRA LU, true peak dBTP); the peak is NaN when ``with_peak`` is
    False. Loudness uses :mod:`backline.render.loudness` (pyloudnorm's algorithm,
    vectorised: the tests hold it to pyloudnorm within 0.05 LU), one K-weighting pass."""
    lufs, lra = loudness_stats(x, sample_rate)
    return lufs, lra, true_peak(x) if with_peak else float("nan")


def master(
    mix: np.ndarray, sample_rate: int, settings: MasterSettings = MasterSettings()
) -> tuple[np.ndarray, MasterReport]:
    """Master a stereo mix (n, 2) float32; see the module docstring for the chain.

    Returns (n, 2) float32 (a transposed view of a planar buffer)."""
    import pedalboard as pb

    if mix.ndim != 2 or mix.shape[0] == 0:
        raise RenderError("nothing to master: the mix is empty")
    if settings.ceiling_dbtp > 0:
        raise RenderError(f"true-peak ceiling must be at most 0 dBTP, not {settings.ceiling_dbtp}")
    x = np.asarray(mix, dtype=np.float32).T  # planar (ch, n)
    if settings.compress:
        comp = pb.Compressor(
            threshold_db=settings.comp_threshold_db,
            ratio=settings.comp_ratio,
            attack_ms=30.0,
            release_ms=250.0,
        )
        x = run_plugin_in_place(comp, np.array(x, dtype=np.float32, order="C"), sample_rate)
    else:
        x = np.ascontiguousarray(x)
    # the K-weighted power of x, once: the loudness of the limited signal g(t) * G * x is
    # estimated from it (the limiter's gain moves slowly against the K-filter), then
    # measured exactly on the result
    power = k_power(x.T, sample_rate)
    hops, hop = hop_energies(power, sample_rate)
    lufs_in = gated_loudness(hops, hop)
    if not math.isfinite(lufs_in):
        return np.zeros_like(x).T, MasterReport(float("-inf"), 0.0, float("-inf"), 0.0, 0.0, 0)
    fixed = settings.gain_db is not None or settings.lufs_target is None
    if settings.gain_db is not None:
        gain_db = settings.gain_db
    else:
        gain_db = 0.0 if settings.lufs_target is None else settings.lufs_target - lufs_in
    la = max(1, round(settings.lookahead_ms * 1e-3 * sample_rate))
    hold = max(0, round(settings.hold_ms * 1e-3 * sample_rate))
    # the envelope scales with the gain: computed once, oversampled where it can matter
    # (where it could reach the ceiling at up to 2 dB more gain than the first guess;
    # again, with more room, if the search goes past that)
    aim = settings.ceiling_dbtp - TRUE_PEAK_MARGIN_DB
    ceiling_lin = 10 ** (aim / 20.0)
    env_upto = gain_db + 2.0
    env_floor = ceiling_lin / 10 ** (env_upto / 20.0) / interpolation_bound()
    env0 = true_peak_envelope(x.T, floor=env_floor)
    n_hops = hops.size

    def estimate(scale: float, regions: list[Region]) -> float:
        lost = np.zeros(n_hops)
        for lo, hi, g in regions:
            hi = min(hi, n_hops * hop)
            if hi <= lo:
                continue
            w = (1.0 - np.square(g[: hi - lo], dtype=np.float64)) * power[lo:hi]
            lost += np.bincount(np.arange(lo, hi) // hop, weights=w, minlength=n_hops)[:n_hops]
        return gated_loudness(np.maximum(hops - lost, 0.0) * scale * scale, hop)

    peak_in = float(np.max(np.abs(x)))
    max_gain_db = aim - 20 * math.log10(peak_in) + MAX_LIMITING_DB if peak_in > 0 else 0.0
    if settings.max_reduction_db is not None and peak_in > 0:
        # the true peak where it counts: env0 is exact wherever it reached env_floor
        tp_in = max(peak_in, float(env0.max(initial=0.0)))
        max_gain_db = min(max_gain_db, aim - 20 * math.log10(tp_in) + settings.max_reduction_db)
    if not fixed:
        gain_db = min(gain_db, max_gain_db)
    iterations = 0
    passes = 0
    last: tuple[float, float] | None = None
    exact = False
    stop = False  # measure this gain exactly, then stop
    while True:
        passes += 1
        iterations += 0 if exact else 1
        g_lin = 10 ** (gain_db / 20.0)
        if gain_db > env_upto:
            env_upto = gain_db + 6.0
            env_floor = ceiling_lin / 10 ** (env_upto / 20.0) / interpolation_bound()
            env0 = true_peak_envelope(x.T, floor=env_floor)
        regions, reduction = _limiter_regions(env0, g_lin, ceiling_lin, la, hold)
        if fixed or settings.lufs_target is None:
            break
        if exact or iterations >= 8:
            exact = True
            y = _apply(x, g_lin, regions)
            hops_y, _ = hop_energies(k_power(y.T, sample_rate), sample_rate)
            lufs_now = gated_loudness(hops_y, hop)
            if (
                stop
                or iterations >= 8
                or passes >= MAX_SEARCH_PASSES
                or not math.isfinite(lufs_now)
                or abs(settings.lufs_target - lufs_now) <= settings.tolerance_lu
            ):
                break
        else:
            lufs_now = estimate(g_lin, regions)
            if not math.isfinite(lufs_now):  # the whole mix under the absolute gate
                exact = stop = True
                continue
        err = settings.lufs_target - lufs_now
        if abs(err) <= settings.tolerance_lu:
            exact = True  # confirm on the real signal (the estimate is rarely 0.01 LU off)
            continue
        # secant step: under heavy limiting loudness grows slower than the gain
        slope = 1.0
        if last is not None and abs(gain_db - last[0]) > 1e-6:
            slope = max(0.2, min(1.0, (lufs_now - last[1]) / (gain_db - last[0])))
        last = (gain_db, lufs_now)
        step = min(gain_db + err / slope, max_gain_db)
        if step == gain_db:  # already at the most limiting allowed: louder cannot be had
            exact = stop = True
            continue
        gain_db = step
    if fixed:
        y = _apply(x, 10 ** (gain_db / 20.0), regions)
        hops_y, _ = hop_energies(k_power(y.T, sample_rate), sample_rate)
    g_final = 10 ** (gain_db / 20.0)
    if settings.dc_block:
        # the high-pass turns the phase of the lowest notes a little (7 degrees at 40 Hz),
        # so a few peaks held at the ceiling go over it by a tenth of a dB: the limiter
        # runs once more on the result to catch them (it touches only those peaks), the
        # loudness is measured again on the result, then the guard checks it
        _dc_block(y, sample_rate)
        floor2 = ceiling_lin / interpolation_bound()
        env2 = true_peak_envelope(y.T, floor=floor2)
        regions2, reduction2 = _limiter_regions(env2, 1.0, ceiling_lin, la, hold)
        _apply_regions(y, regions2)
        reduction = max(reduction, reduction2)
        hops_y, _ = hop_energies(k_power(y.T, sample_rate), sample_rate)
        y, tp, factor = _guard(y, aim, known=(env2, 1.0, floor2, regions2))
    else:
        y, tp, factor = _guard(y, aim, known=(env0, g_final, env_floor, regions))
    # the guard only scales: the loudness of the result follows from the hops exactly
    hops_y = hops_y * (factor * factor)
    lufs, lra = gated_loudness(hops_y, hop), loudness_range_from_hops(hops_y, hop)
    return y.T, MasterReport(lufs, lra, tp, gain_db, reduction, iterations)
