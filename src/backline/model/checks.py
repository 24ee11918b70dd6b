"""Checks of single song fields, one small function per field, each naming its allowed range.

Every reader (``.chart``, iReal Pro, ChordPro, MusicXML, JSON) and every model method
that sets such a field calls the same check, so a value is refused the same way whatever
the format (in the manner of mido's ``messages/checks.py``).

>>> check_tempo(96.5)
96.5
>>> check_tempo(float("nan"), "song.json")
Traceback (most recent call last):
...
backline.errors.TempoError: song.json: tempo nan is not a number of beats per minute (10-400)
"""

from __future__ import annotations

import math
from numbers import Real

from backline.errors import Location, TempoError

__all__ = ["MIN_TEMPO", "MAX_TEMPO", "check_tempo"]

#: The slowest and fastest tempo (quarter notes per minute) a song may have.
MIN_TEMPO = 10.0
MAX_TEMPO = 400.0
#: The longest count-in anything takes (bars): a render, a click for audio, the live player.
MAX_COUNT_IN_BARS = 16


def check_tempo(value: object, where: Location | str | None = None) -> float:
    """``value`` as a float when it is a finite tempo within 10-400 BPM (quarter notes per
    minute); :class:`~backline.errors.TempoError` (a ``ChartError``) naming ``where`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TempoError(f"tempo must be a number of beats per minute, not {value!r}", where)
    bpm = float(value)
    if not math.isfinite(bpm):
        raise TempoError(
            f"tempo {bpm} is not a number of beats per minute ({MIN_TEMPO:g}-{MAX_TEMPO:g})", where
        )
    if not MIN_TEMPO <= bpm <= MAX_TEMPO:
        raise TempoError(f"tempo {bpm:g} is outside {MIN_TEMPO:g}-{MAX_TEMPO:g} bpm", where)
    return bpm
