"""Spoken cues found in a cue stem of the user's own (a guide track).

A backline render lists where it spoke each section's cue (``render.json`` ``cues``). A
bought multitrack or a DAW export has a guide stem instead ("Chorus" said in the bar
before the chorus, often with a count: "Chorus, 2, 3, 4") and no list. Given the song's
bar grid and sections (from its marker file), :func:`find_guide_cues` finds those cues in
the stem: the sound of the bar before each section's downbeat, from its first to its
last sample above the bar's quiet level. The live player says them before a jump or at
the end of a vamp loop, as it does a render's cues (:mod:`backline.live.cue_clips`).

A bar counts only when it holds a cue and nothing else: quiet on its bar line (the cue
begins after it) and before the downbeat (it ends before the section starts; a word
carried over the downbeat is not cut). A guide vocal that sings through bar lines gives
no cues.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["GuideCue", "find_guide_cues", "quiet_level"]

#: (section label, first frame, end frame, downbeat frame it leads to)
GuideCue = tuple[str, int, int, int]

#: How long the stem must be quiet at both ends of the bar before a section (seconds).
QUIET_EDGE_S = 0.02
#: The quiet level: this share of the bar's peak (-34 dB under the cue; as a render's
#: cue list is checked), and never under :data:`FLOOR` (-50 dBFS: a guide's hiss).
QUIET_SHARE = 0.02
FLOOR = 10 ** (-50 / 20)


def find_guide_cues(
    path: Path, sections: Sequence[tuple[str, int]], bar_starts: Sequence[int], frames: int
) -> tuple[GuideCue, ...]:
    """The cue said in the bar before each section (``(label, start frame)``, frames at the
    stem's rate, on the bar lines ``bar_starts``) of the cue stem at ``path``; sections
    without one (no bar before, a silent bar, speech over a bar line) are left out.
    Raises ``OSError``/``RuntimeError`` (soundfile) when the stem cannot be read."""
    import soundfile as sf

    lines = {int(b): i for i, b in enumerate(bar_starts)}
    out: list[GuideCue] = []
    with sf.SoundFile(str(path)) as f:
        sr = f.samplerate
        edge = max(1, round(QUIET_EDGE_S * sr))
        for label, start in sections:
            k = lines.get(int(start), 0)
            if k == 0 or start > frames:
                continue
            a = int(bar_starts[k - 1])
            f.seek(a)
            bar = np.abs(f.read(int(start) - a, dtype="float32", always_2d=True)).max(axis=1)
            cue = _cue_in(bar, edge)
            if cue is not None:
                out.append((label, a + cue[0], a + cue[1], int(start)))
    return tuple(out)


def quiet_level(peak: float) -> float:
    """The level under which a cue stem is quiet around a cue that peaks at ``peak``."""
    return max(FLOOR, QUIET_SHARE * peak)


def _cue_in(bar: np.ndarray, edge: int) -> tuple[int, int] | None:
    """``[first, end)`` of the sound in one bar's sample magnitudes (channels folded), or
    None: no sound, or sound at either end of the bar."""
    if bar.shape[0] <= 2 * edge or not np.isfinite(bar).all():
        return None
    peak = float(bar.max())
    quiet = quiet_level(peak)
    if peak <= quiet:
        return None
    loud = np.flatnonzero(bar >= quiet)
    first, end = int(loud[0]), int(loud[-1]) + 1
    if first < edge or end > bar.shape[0] - edge:
        return None
    return first, end
