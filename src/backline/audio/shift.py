"""Pitch shift and time stretch with Rubber Band (pedalboard.time_stretch, high-quality mode).

A pitch shift keeps the duration; a tempo change keeps the pitch. The output length is
exactly ``round(n / tempo_ratio)`` samples.

Timing. Rubber Band's offline engine does not keep an exact time map: its hop sizes are
rounded integers, so a call drifts by 1-2 ms per second (measured: 112 ms after 60 s at
``--tempo 0.9``), by an amount that depends on the ratio, the pitch and the content. So:

- every stem of a folder goes through the *same* Rubber Band call (the channels of one call
  share the time map) at pitch 0 for the tempo change; pitched stems then get a pitch pass
  at tempo 1.0, and click/cue stems skip it (time-stretched, never pitch-shifted);
- after every call the output's onsets are matched against the input's (onset envelopes,
  cross-correlated in 2 s windows) and the output is re-timed with a windowed-sinc
  interpolator onto the exact ``t / tempo_ratio`` time map (:func:`_retime`). A signal
  without onsets (a held tone) has nothing to drift against and is left as it is.

Long files are processed in chunks (bounded memory, shorter when there are many
channels), overlapping by ``CONTEXT_SECONDS``; the two runs are joined inside the overlap
at the lag where they agree best, with a short crossfade.

Level. A pitch shift changes the phase relations between partials, so the peaks of a
mastered track rise (a track mastered at -1 dBTP came out at +0.5 dBFS) and a 16/24-bit
or FLAC writer would clip them. So by default (``headroom=True``) the shifted audio goes
first to a raw 32-bit float file beside each output; once its peak is known, it is
streamed into the output, turned down by the smallest constant gain that keeps it at or
under its *ceiling* (:func:`ceiling_dbfs`): the source's sample peak, or
``HEADROOM_FLOOR_DBFS`` when the source is quieter, never above full scale for a
fixed-point output, ``LOSSY_MARGIN_DB`` lower for MP3/OGG (their encoders overshoot). All
stems of a folder get one common gain, so their balance is kept. Never louder, never a
limiter. ``headroom=False`` writes Rubber Band's level in one pass, as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backline.audio.io import AUDIO_EXTENSIONS, AudioInfo, open_audio, open_writer, probe
from backline.errors import AudioInputError, OutputError
from backline.util.atomic import same_file, write_failed

# the one stem-name rule (shared with audio/source.py and the live player)
from backline.util.stem_names import CLICK_WORDS as CLICK_WORDS
from backline.util.stem_names import is_click_or_cue
from backline.util.stem_names import name_tokens as name_tokens

__all__ = [
    "HEADROOM_FLOOR_DBFS",
    "LOSSY_MARGIN_DB",
    "ceiling_dbfs",
    "shift_audio",
    "shift_file",
    "shift_folder",
    "ShiftResult",
    "is_click_or_cue",
    "is_hidden",
    "MAX_SEMITONES",
    "ShiftProgress",
    "truncation_warnings",
]

#: Chunk length for a stereo file; with more channels (a folder of stems) chunks are
#: shorter in proportion, so Rubber Band's buffers stay around the same size.
CHUNK_SECONDS = 300.0
MIN_CHUNK_SECONDS = 60.0
CONTEXT_SECONDS = 4.0
FADE_SECONDS = 0.02
JOIN_SHIFT_SECONDS = 0.006
MAX_SEMITONES = 36.0

#: The lowest ceiling for the output's peaks (dBFS): a source quieter than this is not
#: turned down while its shifted peaks stay under it. -1 dB is the usual ceiling of a
#: master (EBU R 128 and AES streaming guidance give -1 dBTP; backline's own renders are
#: mastered to it): a shifted track that peaks under it is as clean as one backline
#: renders, and turning a quiet track further down would only lose level for nothing.
HEADROOM_FLOOR_DBFS = -1.0
#: How much lower the ceiling of an MP3/OGG output is (dB): the encoder's overshoot,
#: measured on limited dense mixes at -1 dBFS, was up to 1.1 dB (MP3 V2, OGG 160 kbps;
#: a source clipped hard into a near square wave can overshoot more).
LOSSY_MARGIN_DB = 1.0
#: Frames per block when a first pass is streamed into the output.
_REPLAY_FRAMES = 1 << 17

Reader = Callable[[int, int], np.ndarray]
Writer = Callable[[np.ndarray], None]
#: ``progress(done, total)``: seconds of input audio shifted so far, of ``total``. Called
#: after each chunk and each Rubber Band pass, never decreasing; the last call has
#: ``done == total``. With the headroom pass the shift counts for :data:`SHIFT_SHARE` of
#: ``total`` and writing the outputs at their level for the rest.
ShiftProgress = Callable[[float, float], None]
#: Share of the progress the shift itself takes when a level pass follows it (measured:
#: the level pass, float scratch to WAV/FLAC/MP3, takes 3-6% of the time).
SHIFT_SHARE = 0.95


def shift_audio(
    audio: np.ndarray, sample_rate: int, *, semitones: float = 0.0, tempo_ratio: float = 1.0
) -> np.ndarray:
    """Shift ``(channels, samples)`` audio by ``semitones`` and play it ``tempo_ratio`` times faster.

    Output has exactly ``round(samples / tempo_ratio)`` samples.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    pieces: list[np.ndarray] = []
    _shift_stream(
        lambda a, b: x[:, a:b],
        x.shape[1],
        [semitones] * x.shape[0],
        sample_rate,
        tempo_ratio,
        pieces.append,
    )
    return np.concatenate(pieces, axis=1) if pieces else np.zeros((x.shape[0], 0), np.float32)


def check_shift(semitones: float, tempo_ratio: float) -> None:
    """Raise :class:`AudioInputError` for a shift Rubber Band cannot do well."""
    if not np.isfinite(semitones) or abs(semitones) > MAX_SEMITONES:
        raise AudioInputError(f"semitones must be a number between -{MAX_SEMITONES:g} and +{MAX_SEMITONES:g}")
    if not np.isfinite(tempo_ratio) or not 0.25 <= tempo_ratio <= 4.0:
        raise AudioInputError("tempo ratio must be a number between 0.25 and 4")


# --------------------------------------------------------------------------- Rubber Band


def _rubberband(x: np.ndarray, sr: int, ratio: float, semitones: float) -> np.ndarray:
    """One Rubber Band call, its pitch nudged so that the pitch is right *after* :func:`_retime`
    has undone the call's drift (re-timing a drift of 0.17% would move the pitch 3 cents)."""
    from pedalboard import time_stretch

    y = time_stretch(
        np.ascontiguousarray(x, dtype=np.float32),
        float(sr),
        stretch_factor=ratio,
        pitch_shift_in_semitones=_nudged(sr, ratio, semitones),
        high_quality=True,
    )
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        y = y[None, :]
    return _fit(y, round(x.shape[1] / ratio))


_DRIFTS: dict[tuple[int, float, float], float] = {}


def _nudged(sr: int, ratio: float, semitones: float) -> float:
    """The pitch to ask Rubber Band for so that ``semitones`` comes out after re-timing.

    Re-timing a drift ``d`` raises the pitch by ``12 log2(1 + d)`` semitones; asking for a
    slightly different pitch changes Rubber Band's hops and so its drift (the drift jumps
    between about -0.15% and +0.17% as the pitch moves by cents), so the nudged pitch is
    measured too (:func:`_drift`) and used only when it lands closer. What is left is at
    most about 3 cents per Rubber Band pass."""
    if semitones == 0.0 and ratio == 1.0:
        return 0.0

    def landing(p: float) -> float:
        return p + 12 * float(np.log2(1 + _drift(sr, ratio, p)))

    first = landing(semitones) - semitones
    p = semitones - first
    return p if abs(landing(p) - semitones) < abs(first) else semitones


def _drift(sr: int, ratio: float, semitones: float) -> float:
    """Rubber Band's drift for these settings (output late by this fraction of the elapsed
    time), measured once on 6 s of noise bursts and remembered."""
    from pedalboard import time_stretch

    key = (sr, ratio, semitones)
    if key not in _DRIFTS:
        rng = np.random.default_rng(7)
        x = np.zeros(int(6 * sr), dtype=np.float32)
        burst = int(0.02 * sr)
        decay = np.exp(-np.arange(burst) / (0.004 * sr)).astype(np.float32)
        for t in np.arange(0.25, 5.7, 0.25):
            i = int(t * sr)
            x[i : i + burst] += 0.5 * rng.standard_normal(burst).astype(np.float32) * decay
        y = time_stretch(
            x[None], float(sr), stretch_factor=ratio, pitch_shift_in_semitones=semitones, high_quality=True
        )
        curve = _lag_curve(_fit(np.asarray(y, np.float32), round(x.size / ratio)), x[None], sr, ratio)
        slope = 0.0
        if curve is not None and curve[0].size >= 4:
            slope = float(np.polyfit(curve[0], curve[1], 1)[0])
        _DRIFTS[key] = float(np.clip(slope, -0.005, 0.005))
    return _DRIFTS[key]


def _process_block(
    x: np.ndarray,
    sr: int,
    semitones: Sequence[float],
    ratio: float,
    tick: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Shift one block of channels; every channel ends on the same exact time map.

    ``tick(fraction)`` is told how much of the block is done after each Rubber Band pass
    but the last (the caller reports the whole block)."""
    shifts = sorted(set(semitones))
    if len(shifts) == 1:
        # one call for all channels: they share Rubber Band's time map
        y = _rubberband(x, sr, ratio, shifts[0])
        return _retime(y, x, sr, ratio)
    passes = int(ratio != 1.0) + sum(st != 0.0 for st in shifts)
    done = 0

    def passed() -> None:
        nonlocal done
        done += 1
        if tick is not None and done < passes:
            tick(done / passes)

    y = x
    if ratio != 1.0:
        y = _retime(_rubberband(x, sr, ratio, 0.0), x, sr, ratio)
        passed()
    out = np.array(y, dtype=np.float32)
    sel = np.asarray(semitones)
    for st in shifts:
        if st == 0.0:
            continue
        rows = np.flatnonzero(sel == st)
        part = y[rows]
        out[rows] = _retime(_rubberband(part, sr, 1.0, st), part, sr, 1.0)
        passed()
    return out


# --------------------------------------------------------------------------- timing


_HOP = 32
_ENV_WINDOW = 512
_WINDOW_S = 2.0
_STEP_S = 0.5
_MAX_LAG_S = 0.04


def _log_energy(x: np.ndarray) -> np.ndarray:
    """Log RMS over 12 ms (long enough that a held bass note does not ripple), every 32 samples."""
    m = (x.astype(np.float64) ** 2).mean(axis=0)
    c = np.concatenate([[0.0], np.cumsum(m)])
    w = _ENV_WINDOW
    starts = np.arange(0, max(1, m.size - w + 1), _HOP)
    e = (c[np.minimum(starts + w, m.size)] - c[starts]) / w
    return np.log(np.sqrt(e) + 1e-4)


def _onsets(logenv: np.ndarray) -> np.ndarray:
    d = np.maximum(np.diff(logenv, prepend=logenv[:1]), 0.0)
    # smoothed over ~5 ms: Rubber Band spreads an attack over a few frames
    return np.convolve(d, np.hanning(9)[1:-1], mode="same")


def _lag_curve(y: np.ndarray, x: np.ndarray, sr: int, ratio: float) -> tuple[np.ndarray, np.ndarray] | None:
    """How late ``y``'s onsets lie against ``x``'s on the ideal map: (output sample, lag in
    samples) pairs, one per 2 s window with a clear onset, or ``None`` when there is none.

    The lag is searched within ``_MAX_LAG_S`` of the previous window's, so a drift that
    builds up to far more than that over a long chunk is followed."""
    ex = _log_energy(x)
    ey = _log_energy(y)
    if ex.size < 8 or ey.size < 8:
        return None
    # the input's envelope on the output's time axis (frame k of y is input time k*ratio)
    ref = np.interp(np.arange(ey.size) * ratio, np.arange(ex.size), ex)
    a, b = _onsets(ref), _onsets(ey)
    win = int(_WINDOW_S * sr / _HOP)
    step = int(_STEP_S * sr / _HOP)
    lmax = int(_MAX_LAG_S * sr / _HOP)
    centres: list[float] = []
    lags: list[float] = []
    track = 0  # the lag (frames) found last
    track_at: float | None = None  # where it was found (frames)
    for s in range(0, max(1, a.size - win // 2), step):
        e = min(a.size, s + win)
        ra = a[s:e]
        if ra.size < 16 or float(ra.max()) < 0.5:  # no clear onset in this window
            continue
        # Rubber Band drifts < 3 ms a second: after the first window, only lags within
        # 4 ms + 3 ms/s of the last one are plausible (a beat-periodic song would
        # otherwise let the search hop a beat's worth of onsets away)
        reach = lmax
        if track_at is not None:
            reach = min(lmax, int((0.004 + 0.003 * ((s + e) / 2 - track_at) * _HOP / sr) * sr / _HOP) + 1)
        ks = np.arange(track - reach, track + reach + 1)
        ok = (s + ks >= 0) & (e + ks <= b.size)
        if not ok.any():
            continue
        ks = ks[ok]
        cc = np.array([float(ra @ b[s + k : e + k]) for k in ks])
        k = int(np.argmax(cc))
        seg = b[s + ks[k] : e + ks[k]]
        norm = float(np.sqrt((ra @ ra) * (seg @ seg))) or 1.0
        if cc[k] / norm < 0.25 or k in (0, cc.size - 1):
            continue
        p, q, r = cc[k - 1], cc[k], cc[k + 1]
        den = p - 2 * q + r
        frac = 0.5 * (p - r) / den if den < 0 else 0.0
        centres.append((s + e) / 2)
        lags.append((ks[k] + frac) * _HOP)
        track, track_at = int(ks[k]), (s + e) / 2
    if not lags:
        return None
    c, g = np.asarray(centres), np.asarray(lags)
    if g.size >= 3:  # drop outliers: a lag far from its neighbours' median
        med = np.array([np.median(g[max(0, i - 2) : i + 3]) for i in range(g.size)])
        keep = np.abs(g - med) <= 0.002 * sr
        c, g = c[keep], g[keep]
    return (c * _HOP, g) if g.size else None


def _retime(y: np.ndarray, x: np.ndarray, sr: int, ratio: float) -> np.ndarray:
    """Move ``y`` (Rubber Band's output for ``x``) onto the exact time map ``t / ratio``."""
    curve = _lag_curve(y, x, sr, ratio)
    if curve is None:
        return y
    at, lag = curve
    if np.max(np.abs(lag)) < 0.05:
        return y
    pos = np.arange(y.shape[1], dtype=np.float64)
    shift = np.interp(pos, at, lag)
    if at.size >= 2:  # before the first and after the last window: carry the trend on, gently
        for edge, (i, j) in (((pos < at[0]), (0, 1)), ((pos > at[-1]), (-2, -1))):
            slope = (lag[j] - lag[i]) / max(at[j] - at[i], 1.0)
            slope = float(np.clip(slope, -0.003, 0.003))  # Rubber Band drifts < 3 ms/s
            ref = at[i] if i == 0 else at[j]
            lag_ref = lag[i] if i == 0 else lag[j]
            shift[edge] = lag_ref + slope * (pos[edge] - ref)
    return _interpolate(y, pos + shift)


def _interpolate(y: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``y`` read at fractional positions ``pos`` (quintic B-spline: flat within 0.01 dB to
    10 kHz and 0.35 dB to 15 kHz at the worst, half-sample, offset; zeros outside)."""
    from scipy.ndimage import map_coordinates

    out = np.empty((y.shape[0], pos.size), dtype=np.float32)
    for c in range(y.shape[0]):
        out[c] = map_coordinates(y[c], pos[None, :], order=5, mode="constant", cval=0.0, prefilter=True)
    return out


# --------------------------------------------------------------------------- streaming


class _Reporter:
    """Passes input samples done to a :data:`ShiftProgress` as seconds, only when they grow."""

    def __init__(self, progress: ShiftProgress | None, n: int, sample_rate: int) -> None:
        self._progress, self._n, self._sr = progress, n, sample_rate
        self._last = 0

    def __call__(self, samples: float) -> None:
        done = min(self._n, int(samples))
        if self._progress is not None and done > self._last:
            self._last = done
            self._progress(done / self._sr, self._n / self._sr)

    def span(self, start: int, end: int) -> Callable[[float], None] | None:
        """A ``tick(fraction)`` for a block covering input samples ``start..end``."""
        if self._progress is None:
            return None
        return lambda f: self(start + f * (end - start))


def _shift_stream(
    read: Reader,
    n: int,
    semitones: Sequence[float],
    sample_rate: int,
    tempo_ratio: float,
    write: Writer,
    progress: ShiftProgress | None = None,
) -> None:
    """Shift ``n`` samples obtained with ``read(a, b)`` and pass the result to ``write`` in order.

    ``semitones`` has one value per channel. Long inputs are processed in chunks that
    overlap by ``2 * CONTEXT_SECONDS``; consecutive runs are joined in the overlap at the
    lag where they agree best (see :func:`_join`): memory stays bounded. ``progress`` is
    told the seconds of input done after each chunk (see :data:`ShiftProgress`).
    """
    check_shift(max(semitones, key=abs) if semitones else 0.0, tempo_ratio)
    report = _Reporter(progress, n, sample_rate)
    channels = len(semitones)
    n_out = round(n / tempo_ratio)
    per_stereo = CHUNK_SECONDS * 2 / max(2, channels)
    chunk = int(max(min(MIN_CHUNK_SECONDS, CHUNK_SECONDS), per_stereo) * sample_rate)
    if all(s == 0 for s in semitones) and tempo_ratio == 1.0:
        for a in range(0, n, chunk):
            write(np.array(read(a, min(n, a + chunk)), dtype=np.float32))
            report(min(n, a + chunk))
        return
    ctx = int(CONTEXT_SECONDS * sample_rate)
    if n <= chunk + 2 * ctx:
        y = _process_block(read(0, n), sample_rate, semitones, tempo_ratio, report.span(0, n))
        write(_fit(y, n_out))
        report(n)
        return
    fade = max(1, int(FADE_SECONDS * sample_rate))
    max_shift = int(JOIN_SHIFT_SECONDS * sample_rate)
    done = 0  # output samples written
    held: np.ndarray | None = None  # the previous run, its sample 0 at output sample ``held_at``
    held_at = 0
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        a, b = max(0, start - ctx), min(n, end + ctx)
        y = _process_block(read(a, b), sample_rate, semitones, tempo_ratio, report.span(start, end))
        if end < n:
            report(end)
        y_at = round(a / tempo_ratio)  # output position of y[:, 0] on the ideal map
        if held is None:
            held, held_at = y, y_at
            continue
        y_at += _best_shift(held, held_at, y, y_at, max_shift)
        overlap = held_at + held.shape[1] - y_at
        cut = _join(held[:, y_at - held_at :], y[:, :overlap], fade)
        cut_at = y_at + cut
        write(held[:, done - held_at : cut_at - held_at - fade])
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        write(
            held[:, cut_at - held_at - fade : cut_at - held_at] * (1.0 - ramp) + y[:, cut - fade : cut] * ramp
        )
        done = cut_at
        held, held_at = y, y_at
    assert held is not None
    write(_fit(held[:, done - held_at :], n_out - done))
    report(n)


def _best_shift(held: np.ndarray, held_at: int, y: np.ndarray, y_at: int, m: int) -> int:
    """How many samples (within ``m`` of the ideal place) to move the next run so that it
    lines up with the previous one in their overlap: two Rubber Band runs over the same
    audio agree in timing (both are re-timed) but not in the phase of held tones."""
    from scipy.signal import correlate

    ov = held_at + held.shape[1] - y_at
    m0, m1 = y_at + ov // 4, y_at + 3 * ov // 4
    if m1 - m0 < 4 * m or m0 - y_at - m < 0:
        return 0
    h = held[:, m0 - held_at : m1 - held_at].sum(axis=0, dtype=np.float64)
    yy = y[:, m0 - y_at - m : m1 - y_at + m].sum(axis=0, dtype=np.float64)
    if yy.size < h.size + 2 * m or float(h @ h) < 1e-10:
        return 0
    c = correlate(yy, h, mode="valid")  # c[i]: y moved by s = m - i
    e = np.concatenate([[0.0], np.cumsum(yy**2)])
    win = e[h.size : h.size + c.size] - e[: c.size]
    score = c / np.sqrt(np.maximum(win, 1e-12) * float(h @ h))
    return int(m - int(np.argmax(score)))


def _join(prev: np.ndarray, nxt: np.ndarray, fade: int) -> int:
    """Where to cut from ``prev`` to ``nxt`` (two runs over the same output span): the
    ``fade``-long stretch in the middle half of the overlap where they differ least."""
    m = min(prev.shape[1], nxt.shape[1])
    lo, hi = m // 4, 3 * m // 4
    if hi - lo <= fade:
        return max(fade, m // 2)
    d = ((prev[:, :m] - nxt[:, :m]) ** 2).sum(axis=0)
    e = (prev[:, :m] ** 2 + nxt[:, :m] ** 2).sum(axis=0) + 1e-9
    cd = np.concatenate([[0.0], np.cumsum(d, dtype=np.float64)])
    ce = np.concatenate([[0.0], np.cumsum(e, dtype=np.float64)])
    ends = np.arange(lo + fade, hi)
    score = (cd[ends] - cd[ends - fade]) / (ce[ends] - ce[ends - fade])
    return int(ends[int(np.argmin(score))])


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    if y.shape[1] >= n:
        return np.ascontiguousarray(y[:, :n], dtype=np.float32)
    return np.pad(y, ((0, 0), (0, n - y.shape[1]))).astype(np.float32)


# --------------------------------------------------------------------------- names


def is_hidden(path: str | os.PathLike[str]) -> bool:
    """Dot files (macOS ``._name`` AppleDouble files, ``.DS_Store``) are not stems."""
    return Path(path).name.startswith(".")


def stem_files(folder: Path) -> list[Path]:
    """The audio files of a stems folder, sorted, hidden files skipped."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in AUDIO_EXTENSIONS and not is_hidden(p) and p.is_file()
    )


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class ShiftResult:
    inputs: list[Path]
    outputs: list[Path]
    semitones: float
    tempo_ratio: float
    pitch_kept: list[Path]
    #: the highest output sample peak in dBFS (after ``gain_db``; for MP3/OGG, of what went
    #: into the encoder), and how many samples were clipped to full scale
    peak_dbfs: float = float("-inf")
    clipped: int = 0
    #: plain sentences for the user: an input cut off while copying (see :func:`truncation_warnings`)
    warnings: tuple[str, ...] = ()
    #: the gain applied to every output to keep the source's headroom, in dB: 0 when none
    #: was needed (or with ``headroom=False``), else negative (turned down)
    gain_db: float = 0.0
    #: the highest output sample peak before that gain, in dBFS
    shifted_peak_dbfs: float = float("-inf")
    #: the highest input sample peak, in dBFS; when a gain was applied, that of the input
    #: whose output set the gain (:attr:`level_set_by`)
    source_peak_dbfs: float = float("-inf")
    #: the ceiling the output was kept at or under (see :func:`ceiling_dbfs`), in dBFS;
    #: when a gain was applied, that of :attr:`level_set_by`; ``inf`` with ``headroom=False``
    ceiling_dbfs: float = float("inf")
    #: the output whose ceiling set the gain (for a folder: one stem; ``None`` when no gain)
    level_set_by: Path | None = None


class _PeakWatch:
    """Counts what a fixed-point writer clips (samples beyond full scale)."""

    def __init__(self, write: Writer, clips: bool) -> None:
        self._write, self._clips = write, clips
        self.peak = 0.0
        self.clipped = 0

    def __call__(self, block: np.ndarray) -> None:
        if block.size:
            mag = np.abs(block)
            self.peak = max(self.peak, float(mag.max()))
            if self._clips:
                self.clipped += int(np.count_nonzero(mag > 1.0))
        self._write(block)


class _Scratch:
    """A raw 32-bit float file (interleaved frames, no header: no size limit) beside
    ``dst`` that holds a first pass; hidden, and removed when the ``with`` block ends,
    on success or failure."""

    def __init__(self, dst: Path, channels: int) -> None:
        folder = dst.parent if str(dst.parent) else Path(".")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".shift.f32", dir=folder)
        except OSError as exc:
            raise OutputError(f"cannot write to {folder}: {exc.strerror or exc}") from exc
        self.dst, self.path = dst, Path(name)
        self._fh = os.fdopen(fd, "w+b")
        self._channels = channels
        self.frames = 0  # written so far

    def __enter__(self) -> _Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()
        self.path.unlink(missing_ok=True)

    def write(self, block: np.ndarray) -> None:
        self.frames += block.shape[1]
        try:
            self._fh.write(np.ascontiguousarray(block.T, dtype=np.float32).data)
        except OSError as exc:  # a full disk
            raise write_failed(self.dst, exc) from exc

    def blocks(self) -> Iterator[np.ndarray]:
        """The audio written, from the start, as ``(channels, n)`` float32 blocks of
        :data:`_REPLAY_FRAMES`."""
        step = _REPLAY_FRAMES * self._channels * 4
        try:
            self._fh.flush()
            self._fh.seek(0)
            data = self._fh.read(step)
        except OSError as exc:
            raise write_failed(self.dst, exc) from exc
        while data:
            yield np.frombuffer(data, dtype=np.float32).reshape(-1, self._channels).T
            try:
                data = self._fh.read(step)
            except OSError as exc:
                raise write_failed(self.dst, exc) from exc


def truncation_warnings(infos: Sequence[AudioInfo], *, named: bool) -> tuple[str, ...]:
    """A warning per input whose header promises more audio than the file holds (a WAV cut
    off while copying: it is shifted for what it has), worded as ``audio check`` and
    ``audio analyze`` word it; ``named`` puts the file name first (a stems folder)."""
    return tuple(
        f"{i.path.name + ': ' if named else ''}the file is truncated: {i.missing_seconds:.1f} s of the "
        f"length in its header are missing (shifted the {i.duration:.1f} s that are there)"
        for i in infos
        if i.missing_seconds > 0
    )


def _clips(path: Path, bit_depth: int | str) -> bool:
    return path.suffix.lower() in (".wav", ".flac", ".aif", ".aiff") and bit_depth != "float"


def _lossy(path: Path) -> bool:
    return path.suffix.lower() in (".mp3", ".ogg")


def _db(x: float) -> float:
    return float(20 * np.log10(x)) if x > 0 else float("-inf")


def ceiling_dbfs(source_peak_dbfs: float, dst: str | os.PathLike[str], bit_depth: int | str = 24) -> float:
    """The level (dBFS) that the shifted output ``dst`` is kept at or under: the source's
    sample peak, or :data:`HEADROOM_FLOOR_DBFS` when the source is quieter; at most full
    scale unless the output holds float samples (a float WAV/AIFF keeps a float source's
    overs); :data:`LOSSY_MARGIN_DB` lower for MP3/OGG, whose encoders overshoot."""
    peak = 10 ** (source_peak_dbfs / 20) if source_peak_dbfs > -np.inf else 0.0
    return _db(_ceiling(peak, Path(dst), bit_depth))


def _ceiling(source_peak: float, dst: Path, bit_depth: int | str) -> float:
    """:func:`ceiling_dbfs` on linear peaks (no round trip through dB: a copy's peak equals
    its source's exactly, and must not read as an over)."""
    c = max(source_peak, 10 ** (HEADROOM_FLOOR_DBFS / 20))
    if _clips(dst, bit_depth) or _lossy(dst):
        c = min(c, 1.0)
    if _lossy(dst):
        c *= 10 ** (-LOSSY_MARGIN_DB / 20)
    return c


def shift_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    semitones: float = 0.0,
    tempo_ratio: float = 1.0,
    bit_depth: int | str = 24,
    pad_to: int | None = None,
    progress: ShiftProgress | None = None,
    headroom: bool = True,
) -> Path:
    """Shift one file into ``dst`` (format from its extension), streaming: memory stays
    bounded for any length. The input is never overwritten. ``pad_to`` pads the input
    with silence to that many samples first; ``progress`` is told the seconds done (see
    :data:`ShiftProgress`). ``headroom`` (the default) turns the output down when the
    shift raised its peaks above the source's (see :func:`ceiling_dbfs`); without it the
    output has Rubber Band's level."""
    report = shift_file_report(
        src,
        dst,
        semitones=semitones,
        tempo_ratio=tempo_ratio,
        bit_depth=bit_depth,
        pad_to=pad_to,
        progress=progress,
        headroom=headroom,
    )
    return report.outputs[0]


def shift_file_report(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    semitones: float = 0.0,
    tempo_ratio: float = 1.0,
    bit_depth: int | str = 24,
    pad_to: int | None = None,
    progress: ShiftProgress | None = None,
    headroom: bool = True,
) -> ShiftResult:
    """:func:`shift_file` with the output peak, clip count and the gain applied."""
    return _shift_files(
        [Path(src)],
        [Path(dst)],
        [semitones],
        tempo_ratio,
        bit_depth,
        pad_to,
        progress=progress,
        named=False,
        headroom=headroom,
    )


@dataclass(frozen=True)
class _Level:
    """The common gain for the outputs of one stream, and what set it (else the highest
    source peak and the lowest ceiling, in dBFS)."""

    gain: float = 1.0
    ceiling_dbfs: float = float("inf")
    source_peak_dbfs: float = float("-inf")
    set_by: Path | None = None


def _common_gain(
    shifted: Sequence[float], sources: Sequence[float], dsts: Sequence[Path], bit_depth: int | str
) -> _Level:
    """The smallest turn-down (one gain for all outputs, so stems keep their balance) that
    keeps every output's peak (``shifted``, linear) at or under its ceiling."""
    ceilings = [_ceiling(p, d, bit_depth) for p, d in zip(sources, dsts, strict=True)]
    level = _Level(1.0, _db(min(ceilings)), _db(max(sources)))
    for out_peak, src_peak, c, d in zip(shifted, sources, ceilings, dsts, strict=True):
        # within 1e-6 (0.00001 dB, float32 precision) counts as at the ceiling, but not
        # over full scale in a fixed-point file: that sample would be clipped
        tol = 1.0 if c >= 1.0 and _clips(d, bit_depth) else 1 + 1e-6
        if out_peak > c * tol and c / out_peak < level.gain:
            level = _Level(c / out_peak, _db(c), _db(src_peak), d)
    if level.gain < 1.0:
        # a hair lower (1e-6) so that float32 rounding cannot land above the ceiling
        level = dataclasses.replace(level, gain=float(np.float32(level.gain * (1 - 1e-6))))
    return level


def _shift_files(
    srcs: list[Path],
    dsts: list[Path],
    semitones: list[float],
    tempo_ratio: float,
    bit_depth: int | str,
    pad_to: int | None,
    *,
    progress: ShiftProgress | None = None,
    named: bool = False,
    headroom: bool = True,
) -> ShiftResult:
    """Shift files together, in one stream: all their channels share Rubber Band's calls.
    ``progress`` is told the seconds of input done (see :data:`ShiftProgress`); ``named``:
    warnings name their file (the stems of a folder). ``headroom``: the shift goes to raw
    float files first (see :class:`_Scratch`), then into the outputs with one common gain
    (see :func:`_common_gain`); else straight into the outputs."""
    check_shift(max(semitones, key=abs), tempo_ratio)
    for s, d in zip(srcs, dsts, strict=True):
        if same_file(s, d):
            raise AudioInputError(f"{d}: output would overwrite the input; choose another name")
    infos = [probe(s) for s in srcs]
    rates = {i.sample_rate for i in infos}
    if len(rates) > 1:
        raise AudioInputError(f"stems have different sample rates {sorted(rates)}; convert them first")
    sr = rates.pop()
    n = max([i.frames for i in infos] + [pad_to or 0])
    per_channel = [st for i, st in zip(infos, semitones, strict=True) for _ in range(i.channels)]
    bounds = np.cumsum([0] + [i.channels for i in infos])
    nonfinite = [0]
    source_peaks = [0.0] * len(srcs)
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open_audio(s)) for s in srcs]
        # the outputs are opened first (formats and channel counts checked before any work);
        # each is written under a temporary name and appears only when all is done
        writers = [
            stack.enter_context(open_writer(d, sr, info.channels, bit_depth))
            for d, info in zip(dsts, infos, strict=True)
        ]
        watches = [_PeakWatch(w, _clips(d, bit_depth)) for w, d in zip(writers, dsts, strict=True)]
        firsts: list[_PeakWatch] = watches
        scratches: list[_Scratch] = []
        if headroom:  # removed before the outputs are renamed into place, or on any failure
            scratches = [
                stack.enter_context(_Scratch(d, i.channels)) for d, i in zip(dsts, infos, strict=True)
            ]
            firsts = [_PeakWatch(s.write, False) for s in scratches]

        def read(a: int, b: int) -> np.ndarray:
            out = np.zeros((len(per_channel), b - a), dtype=np.float32)
            for k, (f, info, c0) in enumerate(zip(files, infos, bounds, strict=False)):
                if a < info.frames:
                    f.seek(a)
                    got = f.read(min(b, info.frames) - a)
                    bad = ~np.isfinite(got)
                    if bad.any():  # a damaged float file: written as silence, with a warning
                        nonfinite[0] += int(np.count_nonzero(bad))
                        got = np.where(bad, np.float32(0.0), got)
                    if got.size:
                        source_peaks[k] = max(source_peaks[k], float(np.abs(got).max()))
                    out[c0 : c0 + info.channels, : got.shape[1]] = got
            return out

        def write(block: np.ndarray) -> None:
            for w, c0, c1 in zip(firsts, bounds[:-1], bounds[1:], strict=True):
                w(block[c0:c1])

        first_progress = progress
        if headroom and progress is not None:
            first_progress = lambda done, total: progress(done * SHIFT_SHARE, total)  # noqa: E731
        _shift_stream(read, n, per_channel, sr, tempo_ratio, write, first_progress)
        level = _Level(source_peak_dbfs=_db(max(source_peaks)))
        if headroom:
            level = _common_gain([w.peak for w in firsts], source_peaks, dsts, bit_depth)
            gain = np.float32(level.gain)
            _level_pass(scratches, watches, gain if level.gain < 1.0 else None, progress, n / sr)
    return ShiftResult(
        srcs,
        dsts,
        max(semitones, key=abs),
        tempo_ratio,
        [],
        peak_dbfs=_db(max(w.peak for w in watches)),
        clipped=sum(w.clipped for w in watches),
        warnings=truncation_warnings(infos, named=named)
        + (
            (f"{nonfinite[0]} not-a-number/infinite samples in the input were written as silence",)
            if nonfinite[0]
            else ()
        ),
        gain_db=_db(level.gain),
        shifted_peak_dbfs=_db(max(w.peak for w in firsts)),
        source_peak_dbfs=level.source_peak_dbfs,
        ceiling_dbfs=level.ceiling_dbfs,
        level_set_by=level.set_by,
    )


def _level_pass(
    scratches: Sequence[_Scratch],
    watches: Sequence[_PeakWatch],
    gain: np.float32 | None,
    progress: ShiftProgress | None,
    total: float,
) -> None:
    """Copy each first pass into its output, times ``gain`` (None: as it is), telling
    ``progress`` the last ``1 - SHIFT_SHARE`` of ``total`` as the frames go by."""
    frames = sum(s.frames for s in scratches)
    done = 0
    for scratch, watch in zip(scratches, watches, strict=True):
        for block in scratch.blocks():
            watch(block * gain if gain is not None else block)
            done += block.shape[1]
            if progress is not None and done < frames:
                progress(total * (SHIFT_SHARE + (1 - SHIFT_SHARE) * done / frames), total)
    if progress is not None:
        progress(total, total)


def shift_folder(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    semitones: float = 0.0,
    tempo_ratio: float = 1.0,
    bit_depth: int | str = 24,
    progress: ShiftProgress | None = None,
    headroom: bool = True,
) -> ShiftResult:
    """Shift every stem of a folder, keeping them sample-aligned.

    Every output has ``round(n / tempo_ratio)`` samples where ``n`` is the longest
    stem (shorter stems are padded with silence). All stems go through the same Rubber
    Band calls, so they share one time map; click and cue stems are time-stretched but
    keep their pitch. Hidden files (``._bass.wav``) are skipped. ``progress`` is told the
    seconds of audio done, of the longest stem's (see :data:`ShiftProgress`).
    ``headroom``: when the shift raised a stem's peaks above its ceiling (see
    :func:`ceiling_dbfs`), *all* stems are turned down by one common gain (the smallest
    that keeps every stem at or under its own), so their balance is kept.
    """
    s, d = Path(src), Path(dst)
    if not s.is_dir():
        raise AudioInputError(f"{s}: not a folder")
    files = stem_files(s)
    if not files:
        raise AudioInputError(f"{s}: no audio files ({', '.join(AUDIO_EXTENSIONS)})")
    if same_file(d, s):
        raise AudioInputError(f"{d}: output folder is the input folder; choose another")
    if d.suffix.lower() in AUDIO_EXTENSIONS and not d.is_dir():
        raise OutputError(
            f"{d}: a folder of stems is shifted into a folder, and this names an audio file "
            f"(give a folder, e.g. {d.with_suffix('')})"
        )
    check_shift(semitones, tempo_ratio)
    shifts = [0.0 if is_click_or_cue(f) else semitones for f in files]
    res = _shift_files(
        files,
        [d / f.name for f in files],
        shifts,
        tempo_ratio,
        bit_depth,
        None,
        progress=progress,
        named=True,
        headroom=headroom,
    )
    kept = [f for f, st in zip(files, shifts, strict=True) if st != semitones]
    return dataclasses.replace(res, semitones=semitones, pitch_kept=kept)
