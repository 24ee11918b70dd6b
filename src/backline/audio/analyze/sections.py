"""Sections: where a new part of the song starts, and which parts repeat.

A section boundary is heard the way a band plays it, so each bar line is scored by cues
a musician hears (each bar is downbeat to downbeat):

- **a fill** in the bar before: the second half of that bar strays from the drum pattern
  of the bars before it (the onset strength on every sixteenth);
- **repeated harmony** starting there: the chords of the next 4 bars or more come back
  elsewhere in the song, aligned bar for bar, while the bars just before do not (a
  verse that comes round again), or the bars before end a repeat that the bars after
  leave;
- **a change of sound**: a checkerboard novelty on the bar self-similarity of timbre
  (MFCC 1-13), and a change in which earlier bars the chroma repeats (a lag novelty);
- **the phrase grid**: bars 1, 3, 5... (every 2), 1, 5, 9... (every 4) and every 8
  bars from the first downbeat, where sections of 4 and 8 bars start.

The continuous cues are standardised within the song (a loud fill in a busy groove is
judged against that groove) and combined by a logistic model (:data:`WEIGHTS`), fitted
on the bar lines of 136 rendered songs (the four analysis evaluation sets) and checked on
160 others (five more sets): boundary F (3 s window) 0.65 and 0.66, where the timbre
and chroma novelty alone scored 0.38 on both. Boundaries are taken from the likeliest down, at
least :data:`MIN_BARS` apart. Segments are then labelled A, B, C... in order of
appearance: a segment takes the label of an earlier one when their bars, aligned from
the start, are as close as bars within a section usually are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "BIAS",
    "MIN_BARS",
    "THRESHOLD",
    "WEIGHTS",
    "bar_onset_patterns",
    "boundary_scores",
    "fill_strength",
    "lag_novelty",
    "repeat_cues",
    "segment_bars",
]

MIN_BARS = 4
#: Logistic weights of the cues (the continuous ones standardised within the song).
WEIGHTS = {
    "fill": 1.201,
    "lag": 0.445,
    "timbre": 0.335,
    "every2": 0.718,
    "every4": 0.760,
    "every8": 0.410,
    "repeat_starts": 1.566,
    "repeat_ends": 0.488,
}
BIAS = -4.824
#: A bar line is a boundary candidate when its log-odds reach this (probability 0.22).
#: -1.75 scores a little higher (F 0.639 on the fitting sets, 0.671 on the check sets)
#: but split an 8-bar part made of one 4-bar phrase played twice; -1.25 (0.631, 0.662)
#: keeps it whole, with fewer false boundaries (precision 0.67 and 0.71 against 0.63
#: and 0.68, recall 0.66 and 0.67 against 0.72).
THRESHOLD = -1.25
#: Two bars hold "the same chords" when at least this share of their beats agree.
SAME_BAR = 0.75
#: A repeat counts from this many bars, and is capped at :data:`REPEAT_CAP` bars.
REPEAT_MIN = 4
REPEAT_CAP = 8
#: A song whose typical bar strays from its median bar by more than this (in
#: :func:`fill_strength`'s units) has no steady drum pattern, so no fills: over 296
#: rendered songs the typical bar strays by at most 0.74, a drumless synthetic one by 6.8.
NO_GROOVE = 1.5
#: A fill is heard against the groove of this many bars before it (a chorus's busier
#: groove is not a fill): boundary F 0.624 -> 0.631 on the fitting sets and 0.638 ->
#: 0.662 on the check sets, against the song's median bar.
GROOVE_BARS = 4
#: Onset samples per beat in :func:`bar_onset_patterns` (sixteenths in 4/4).
STEPS_PER_BEAT = 4


def _kernel(half: int) -> np.ndarray:
    g = np.arange(-half, half) + 0.5
    sign = np.sign(g)[:, None] * np.sign(g)[None, :]
    taper = np.exp(-0.5 * (g / (half * 0.6)) ** 2)
    return sign * taper[:, None] * taper[None, :]


def _novelty(ssm: np.ndarray, half: int) -> np.ndarray:
    n = len(ssm)
    k = _kernel(half)
    pad = np.pad(ssm, half, mode="edge")
    out = np.zeros(n)
    for i in range(n):
        out[i] = float((pad[i : i + 2 * half, i : i + 2 * half] * k).sum())
    return np.maximum(out, 0)


def _gram(x: np.ndarray) -> np.ndarray:
    """Cosine similarity of the columns of ``x``."""
    f = x / (np.linalg.norm(x, axis=0, keepdims=True) + 1e-9)
    return f.T @ f


def lag_novelty(ssm: np.ndarray, width: int = 4) -> np.ndarray:
    """(bars,): for each bar line, the largest change, over all lags, in how much the
    ``width`` bars after it and the ``width`` bars before it resemble the bars that
    many bars earlier (structure features in time-lag form)."""
    n = len(ssm)
    lag = np.full((n, n), np.nan)  # lag[i, l] = ssm[i, i - l]
    for the_lag in range(1, n):
        lag[the_lag:, the_lag] = ssm[np.arange(the_lag, n), np.arange(0, n - the_lag)]
    out = np.zeros(n)
    for i in range(1, n):
        after, before = lag[i : i + width], lag[max(0, i - width) : i]
        ok = (np.sum(~np.isnan(after), axis=0) >= 2) & (np.sum(~np.isnan(before), axis=0) >= 2)
        if ok.any():
            diff = np.abs(np.nanmean(after[:, ok], axis=0) - np.nanmean(before[:, ok], axis=0))
            out[i] = float(diff.max())
    return out


def bar_onset_patterns(
    onset: np.ndarray, hop_seconds: float, beats: np.ndarray, downbeat_beats: np.ndarray
) -> list[np.ndarray]:
    """Each bar's onset pattern: the strongest onset in each of :data:`STEPS_PER_BEAT`
    steps of every beat (``downbeat_beats``: the beat index of each downbeat)."""
    nb = len(beats)
    lengths = np.diff(downbeat_beats)
    typical = int(np.median(lengths)) if len(lengths) else 4
    bars: list[np.ndarray] = []
    for j, b0 in enumerate(downbeat_beats):
        b1 = int(downbeat_beats[j + 1]) if j + 1 < len(downbeat_beats) else min(nb, int(b0) + typical)
        steps: list[float] = []
        for b in range(int(b0), b1):
            t0 = beats[b]
            t1 = beats[b + 1] if b + 1 < nb else t0 + (beats[b] - beats[b - 1] if b > 0 else 0.5)
            for s in range(STEPS_PER_BEAT):
                a = t0 + (t1 - t0) * s / STEPS_PER_BEAT
                e = t0 + (t1 - t0) * (s + 1) / STEPS_PER_BEAT
                i0 = int(a / hop_seconds)
                i1 = max(i0 + 1, int(e / hop_seconds))
                steps.append(float(onset[i0:i1].max()) if i1 <= len(onset) else 0.0)
        bars.append(np.array(steps))
    return bars


def fill_strength(patterns: Sequence[np.ndarray]) -> np.ndarray:
    """(bars,): for each bar, how far the second half of the bar *before* it strays from
    the groove just before that (the median pattern of the :data:`GROOVE_BARS` bars
    before it; the song's median bar when fewer have its length), as the mean absolute
    difference over the song's median onset strength; 0 for the first bar and after
    bars of another length. All 0 when the bars share no pattern (a song without drums:
    the median bar strays by more than :data:`NO_GROOVE`)."""
    n = len(patterns)
    out = np.zeros(n)
    lengths = [len(p) for p in patterns]
    if n < 2 or not any(lengths):
        return out
    common = max(set(lengths), key=lengths.count)
    usual = np.array([p for p in patterns if len(p) == common])
    song_median = np.median(usual, axis=0)
    scale = float(np.median(usual)) + 1e-9
    half = common // 2
    if half == 0:
        return out
    for i in range(1, n):
        p = patterns[i - 1]
        if len(p) != common:
            continue
        before = [q for q in patterns[max(0, i - 1 - GROOVE_BARS) : i - 1] if len(q) == common]
        groove = np.median(np.array(before), axis=0) if len(before) >= 2 else song_median
        out[i] = float(np.abs(p[half:] - groove[half:]).sum()) / (scale * half)
    if np.median(out[1:]) > NO_GROOVE:
        return np.zeros(n)  # no steady pattern to stray from: no fill can be heard
    return out


def repeat_cues(bar_chords: Sequence[Sequence[object]]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends), each (bars,) in 0..1: at each bar line, the longest run of bars
    (from :data:`REPEAT_MIN`, capped at :data:`REPEAT_CAP`, over the cap) that repeats
    elsewhere in the song starting at that bar while the bar before does not repeat with
    it (``starts``), or that repeats ending at the bar before while the bar itself does
    not (``ends``). ``bar_chords``: each bar's chord on every beat."""
    n = len(bar_chords)
    ids: dict[object, int] = {}
    width = max((len(bar) for bar in bar_chords), default=0)
    beats = np.full((n, max(width, 1)), -1)  # each beat's chord as a number, -1 past the bar
    for i, bar in enumerate(bar_chords):
        beats[i, : len(bar)] = [ids.setdefault(c, len(ids)) for c in bar]
    lengths = (beats >= 0).sum(axis=1)
    agree = ((beats[:, None, :] == beats[None, :, :]) & (beats[:, None, :] >= 0)).sum(axis=2)
    same = agree >= SAME_BAR * np.maximum(np.maximum(lengths[:, None], lengths[None, :]), 1)
    fwd = np.zeros((n + 1, n + 1), dtype=int)  # run of equal bars starting at (i, j)
    bwd = np.zeros((n + 1, n + 1), dtype=int)  # run of equal bars ending at (i - 1, j - 1)
    for i in range(n - 1, -1, -1):
        fwd[i, :n] = np.where(same[i], fwd[i + 1, 1:] + 1, 0)
    for i in range(n):
        bwd[i + 1, 1:] = np.where(same[i], bwd[i, :n] + 1, 0)
    starts, ends = np.zeros(n), np.zeros(n)
    for i in range(1, n):
        f, b = fwd[i, :n].copy(), bwd[i, :n].copy()
        f[i] = b[i] = 0
        s = f[(f >= REPEAT_MIN) & (b < 2)]
        e = b[(b >= REPEAT_MIN) & (f < 2)]
        starts[i] = min(int(s.max()), REPEAT_CAP) / REPEAT_CAP if len(s) else 0.0
        ends[i] = min(int(e.max()), REPEAT_CAP) / REPEAT_CAP if len(e) else 0.0
    return starts, ends


def _standardised(v: np.ndarray) -> np.ndarray:
    """``v`` over its bar lines (bar 0 has none) minus their median, over their spread."""
    out = np.zeros_like(v)
    lines = v[1:]
    if len(lines):
        out[1:] = (lines - np.median(lines)) / (np.std(lines) + 1e-9)
    return out


def boundary_scores(
    timbre: np.ndarray,
    chroma: np.ndarray,
    fill: np.ndarray | None = None,
    bar_chords: Sequence[Sequence[object]] | None = None,
) -> np.ndarray:
    """(bars,) log-odds that a section starts at each bar (``timbre``, ``chroma``:
    ``(dims, bars)`` means per bar; ``fill`` from :func:`fill_strength`; ``bar_chords``
    as for :func:`repeat_cues`). A missing cue counts as absent."""
    n = timbre.shape[1]
    idx = np.arange(n)
    cues = {
        "fill": _standardised(fill) if fill is not None else np.zeros(n),
        "lag": _standardised(lag_novelty(_gram(chroma))),
        "timbre": _standardised(_novelty(_gram(timbre), 2)),
        "every2": (idx % 2 == 0).astype(float),
        "every4": (idx % 4 == 0).astype(float),
        "every8": (idx % 8 == 0).astype(float),
    }
    cues["repeat_starts"], cues["repeat_ends"] = repeat_cues(bar_chords) if bar_chords else (np.zeros(n),) * 2
    return BIAS + sum(WEIGHTS[k] * v for k, v in cues.items())


def segment_bars(
    timbre: np.ndarray,
    chroma: np.ndarray,
    fill: np.ndarray | None = None,
    bar_chords: Sequence[Sequence[object]] | None = None,
) -> tuple[list[int], list[str]]:
    """(start bar of each segment, label of each segment); arguments as for
    :func:`boundary_scores`."""
    nb = timbre.shape[1]
    if nb < 2 * MIN_BARS:
        return [0], ["A"]
    score = boundary_scores(timbre, chroma, fill, bar_chords)
    starts = [0]
    for i in np.argsort(-score[1:], kind="stable") + 1:
        if score[i] < THRESHOLD:
            break
        if i >= MIN_BARS and nb - i >= MIN_BARS // 2 and all(abs(i - s) >= MIN_BARS for s in starts):
            starts.append(int(i))
    starts.sort()
    return starts, _labels(np.vstack([0.35 * timbre, 1.5 * chroma]), starts)


def _labels(bar_features: np.ndarray, starts: list[int]) -> list[str]:
    """A, B, C... in order of appearance; a segment repeats an earlier label when their
    bars, aligned from the start, are as close as bars of a section usually are."""
    nb = bar_features.shape[1]
    ssm = _gram(bar_features)
    ends = starts[1:] + [nb]
    off = ssm[~np.eye(nb, dtype=bool)]
    typical = float(np.median(off))
    labels: list[str] = []
    reps: list[tuple[int, int]] = []  # (start, end) of the first segment of each label
    for s, e in zip(starts, ends, strict=True):
        best, best_sim = -1, -np.inf
        for li, (rs, re_) in enumerate(reps):
            n = min(e - s, re_ - rs)
            sim = float(np.mean([ssm[s + k, rs + k] for k in range(n)]))
            if sim > best_sim:
                best, best_sim = li, sim
        if best >= 0 and best_sim > typical + 0.6 * (1 - typical):
            labels.append(_name(best))
        else:
            reps.append((s, e))
            labels.append(_name(len(reps) - 1))
    return labels


def _name(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"S{i}"
