"""The one rule for telling a click or cue stem from music by its file name.

Whole name tokens count, case-insensitively (``Click Track.wav``, ``01 CLICK.wav``,
``click-track.wav``, ``Metronome.wav``, ``Guide Cues.wav``, ``Count-In_L.wav``), never
letters inside a word (``country_fiddle``, ``Cuerdas``, ``countermelody``). Used by
``audio shift`` (click and cue stems are never pitch-shifted), ``audio`` tempo detection
(a click stem gives the tempo) and the live player (click and cue stems go to the in-ears,
never to front of house).
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

__all__ = [
    "CLICK_NAMES",
    "CUE_NAMES",
    "CLICK_WORDS",
    "name_tokens",
    "is_click_or_cue",
    "is_click_name",
    "stem_role",
]

#: Tokens that name a click (metronome) track.
CLICK_NAMES = frozenset({"click", "clicks", "clicktrack", "metronome", "metro", "clk"})
#: Tokens that name a spoken-cue / count-in track.
CUE_NAMES = frozenset(
    {"cue", "cues", "guide", "guides", "voiceguide", "count", "countin", "countoff", "counts"}
)
#: Every token that names a click, count-in, cue or timecode track (never pitch-shifted).
CLICK_WORDS = CLICK_NAMES | CUE_NAMES | frozenset({"timecode", "smpte", "ltc"})


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)  # camelCase -> camel Case
    return [t.lower() for t in re.split(r"[^A-Za-z0-9]+", spaced) if t]


def name_tokens(path: str | os.PathLike[str]) -> set[str]:
    """The words of a file name, lower case, and each pair of neighbours run together
    (``Count-In_L`` -> count, in, l, countin, inl)."""
    tokens = _tokens(Path(path).stem)
    return set(tokens) | {a + b for a, b in itertools.pairwise(tokens)}


def is_click_or_cue(path: str | os.PathLike[str]) -> bool:
    """Stems named like click/metronome/count-in/cues/guide/timecode."""
    return bool(name_tokens(path) & CLICK_WORDS)


def is_click_name(path: str | os.PathLike[str]) -> bool:
    """A click (metronome) track by its name."""
    return bool(name_tokens(path) & CLICK_NAMES)


def stem_role(path: str | os.PathLike[str]) -> str | None:
    """``"click"`` (a click name token wins: ``Click + Cues.wav`` is the click), ``"cues"``,
    or None (music) for a stem file name."""
    tokens = name_tokens(path)
    if tokens & CLICK_NAMES:
        return "click"
    if tokens & CUE_NAMES:
        return "cues"
    return None
