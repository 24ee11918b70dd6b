"""Sections: where the music changes character, and which parts repeat.

Bars (downbeat to downbeat) are described by their mean timbre (MFCC 1-13, z-scored
over the song) and mean chroma. A checkerboard kernel slid along the diagonal of the
bar self-similarity matrix gives a novelty curve; its peaks (at least 4 bars apart)
are the section boundaries. Segments are then labelled A, B, C... in order of
appearance: a segment takes the label of an earlier one when their bars, aligned
from the start, are as close as bars within a section usually are.
"""

from __future__ import annotations

import numpy as np

__all__ = ["segment_bars"]

_MIN_BARS = 4


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


def segment_bars(bar_features: np.ndarray) -> tuple[list[int], list[str]]:
    """(start bar of each segment, label of each segment) from ``(dims, bars)`` features."""
    nb = bar_features.shape[1]
    if nb < 2 * _MIN_BARS:
        return [0], ["A"]
    f = bar_features / (np.linalg.norm(bar_features, axis=0, keepdims=True) + 1e-9)
    ssm = f.T @ f
    nov = _novelty(ssm, _MIN_BARS)
    thresh = nov.mean() + 0.5 * nov.std()
    starts = [0]
    order = np.argsort(nov)[::-1]
    for i in order:
        if nov[i] <= thresh or nov[i] <= 0:
            break
        lo, hi = max(0, i - 2), min(nb, i + 3)
        if nov[i] < nov[lo:hi].max():
            continue
        if i < _MIN_BARS or nb - i < _MIN_BARS:
            continue
        if all(abs(i - s) >= _MIN_BARS for s in starts):
            starts.append(int(i))
    starts.sort()
    ends = starts[1:] + [nb]
    # Label by aligned similarity.
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
            labels.append(chr(ord("A") + best) if best < 26 else f"S{best}")
        else:
            reps.append((s, e))
            li = len(reps) - 1
            labels.append(chr(ord("A") + li) if li < 26 else f"S{li}")
    return starts, labels
