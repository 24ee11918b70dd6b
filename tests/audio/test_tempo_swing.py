"""Octave check of the tempo estimate on a swung onset pattern."""

from __future__ import annotations

import numpy as np
import pytest

from backline.audio.analyze.beats import FPS, estimate_tempo_from_onset


def _envelope(
    bpm: float, hits: list[tuple[float, float]], beats_per_cycle: int, seconds: float = 40.0
) -> np.ndarray:
    """Onset envelope with ``hits`` (position in beats within the cycle, strength)."""
    o = np.zeros(int(seconds * FPS))
    beat = 60.0 / bpm
    cycle = beats_per_cycle * beat
    start = 0.0
    while start < seconds:
        for pos, strength in hits:
            k = round((start + pos * beat) * FPS)
            if k < len(o):
                o[k] += strength
        start += cycle
    return o


# Ride "ding, ding-a, ding, ding-a" with the hi-hat on 2 and 4: the pattern repeats
# every two beats, which a plain autocorrelation reads as half time.
SWING = [(0, 1.0), (1, 2.0), (1 + 2 / 3, 0.8), (2, 1.0), (3, 2.0), (3 + 2 / 3, 0.8)]


@pytest.mark.parametrize("bpm", [132.0, 160.0, 180.0])
def test_swung_half_time_is_doubled(bpm: float) -> None:
    tempo, _ = estimate_tempo_from_onset(_envelope(bpm, SWING, 4))
    assert tempo == pytest.approx(bpm, rel=0.04)
