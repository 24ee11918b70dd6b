"""Analysis of recordings: tempo, beats, downbeats, meter, key, chords, sections, and a chart.

Importing this package is cheap; librosa is imported only when an analysis runs.
"""

from __future__ import annotations

from backline.audio.analyze.chart import analysis_to_song
from backline.audio.analyze.core import (
    Analysis,
    Segment,
    analyze_array,
    analyze_features,
    analyze_file,
    estimate_tempo,
    measure_a4,
)

__all__ = [
    "Analysis",
    "Segment",
    "analyze_array",
    "analyze_features",
    "analyze_file",
    "analysis_to_song",
    "estimate_tempo",
    "measure_a4",
]
