"""A soft pad in a key (the tonic chord), played between songs under the talk.

The pad is a seamless stereo loop: every partial's frequency is rounded to a whole
number of cycles per loop (at most 1/(2*loop) Hz off, under a cent for these notes),
so the loop point is inaudible.
"""

from __future__ import annotations

import numpy as np

from backline.model.pitch import Key

__all__ = ["pad_loop", "chord_pitches"]


def chord_pitches(key: Key) -> tuple[int, ...]:
    """MIDI pitches of a warm voicing of ``key``'s tonic chord (root, fifth, third, octave)."""
    root = 48 + key.tonic.pc  # C3..B3
    if root > 53:
        root -= 12
    third = 3 if key.mode == "minor" else 4
    return (root - 12, root, root + 7, root + 12 + third, root + 19)


def pad_loop(key: Key, sample_rate: int, *, seconds: float = 8.0, level_db: float = -18.0) -> np.ndarray:
    """A ``(2, n)`` float32 loop of ``seconds`` (whole samples) whose peak is ``level_db`` dBFS."""
    n = round(seconds * sample_rate)
    loop_s = n / sample_rate
    t = np.arange(n, dtype=np.float64) / sample_rate
    out = np.zeros((2, n), dtype=np.float64)
    weights = (0.5, 1.0, 0.8, 0.6, 0.4)
    for i, (p, w) in enumerate(zip(chord_pitches(key), weights, strict=True)):
        f0 = 440.0 * 2 ** ((p - 69) / 12)
        for side, detune in ((0, -1.0), (1, 1.0)):
            f = f0 * 2 ** (detune * 4 / 1200)  # +-4 cents between the sides: a gentle chorus
            cycles = max(1, round(f * loop_s))
            f = cycles / loop_s
            sway_cycles = 1 + (i % 3)  # slow swell, whole cycles per loop too
            sway = 0.75 + 0.25 * np.sin(2 * np.pi * sway_cycles * t / loop_s + i)
            out[side] += w * sway * (np.sin(2 * np.pi * f * t) + 0.15 * np.sin(2 * np.pi * 2 * f * t + 0.3))
    peak = float(np.abs(out).max())
    out *= 10 ** (level_db / 20) / peak
    return out.astype(np.float32)
