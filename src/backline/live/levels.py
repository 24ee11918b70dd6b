"""Levels as the player takes them: one rule for every level in dB, and the level lines.

Every level that reaches the mix (``Engine.set_level`` and ``set_output_level``, an
event script's ``level`` / ``output`` lines, the ``--plain`` prompt, a song's ``mix``,
the setlist's ``[levels]`` and the dB of a route) passes :func:`check_level_db`: a
number of dB up to :data:`MAX_LEVEL_DB`; ``-inf`` is silence; NaN and anything louder
are refused with a :class:`~backline.errors.LiveError` (a NaN gain would put NaN on
every sample of the output, and +200 dB is 10^10 times full scale).

:func:`parse_level_change` reads the text lines ``level SOURCE DB``, ``output N DB``,
``mute`` / ``unmute`` / ``solo`` / ``unsolo SOURCE`` into a :class:`LevelChange`, which
:meth:`LevelChange.apply` hands to the engine.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backline.errors import LiveError

if TYPE_CHECKING:
    from backline.live.engine import Engine

__all__ = [
    "MAX_LEVEL_DB",
    "MAX_TOTAL_GAIN_DB",
    "LEVEL_VERBS",
    "LevelChange",
    "check_level_db",
    "parse_db",
    "parse_level_change",
]

#: The loudest level the player accepts, in dB (a level, a route's dB, an output).
MAX_LEVEL_DB = 12.0
#: The loudest *combined* gain of any source on any output, in dB: the song's level (mix,
#: [levels], ``level``) times the route's dB times the output's level. The stages each
#: allow +12 dB, but together they are capped here (the engine's gains never exceed it).
MAX_TOTAL_GAIN_DB = 12.0
#: The first words of the level lines.
LEVEL_VERBS = ("level", "output", "mute", "unmute", "solo", "unsolo")


def check_level_db(value: object, what: str = "level") -> float:
    """``value`` as a level in dB: a number up to :data:`MAX_LEVEL_DB` (``-inf``: silence).
    Raises :class:`LiveError` naming ``what`` for NaN, +inf, anything above the limit and
    anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LiveError(f"{what} must be a number of dB, not {value!r}")
    db = float(value)
    if math.isnan(db):
        raise LiveError(f"{what} must be a number of dB, not nan")
    if db > MAX_LEVEL_DB:
        raise LiveError(f"{what} {db:g} dB is above the +{MAX_LEVEL_DB:g} dB limit (-inf mutes)")
    return db


def parse_db(text: str, what: str = "level") -> float:
    """A level written as text (``-3``, ``+1.5``, ``-inf``) -> dB, checked as :func:`check_level_db`."""
    try:
        db = float(text)
    except ValueError:
        raise LiveError(f"{what} must be a number of dB, not {text!r}") from None
    return check_level_db(db, what)


@dataclass(frozen=True)
class LevelChange:
    """One level line: ``verb`` (one of :data:`LEVEL_VERBS`), the ``source`` name (or the
    output number as text for ``output``), and ``db`` for ``level`` and ``output``."""

    verb: str
    source: str
    db: float | None = None

    def apply(self, engine: Engine) -> str | None:
        """Do it on ``engine`` (the current song for a source). Raises LiveError for an
        unknown source or output. Returns a warning when the level was capped at
        :data:`MAX_TOTAL_GAIN_DB` on some output (see :meth:`Engine.set_level`), else None."""
        v = self.verb
        if v == "level":
            assert self.db is not None
            return engine.set_level(self.source, self.db)
        if v == "output":
            assert self.db is not None
            return engine.set_output_level(int(self.source), self.db)
        if v in ("mute", "unmute"):
            engine.mute(self.source, v == "mute")
        else:
            engine.solo(self.source, v == "solo")
        return None


def parse_level_change(text: str) -> LevelChange | None:
    """``level keys -3``, ``output 3 -6``, ``mute click``, ``unsolo bass`` ... -> LevelChange;
    None when the first word is not one of :data:`LEVEL_VERBS`. Raises LiveError for a
    line of that kind that is wrong (missing values, a level that is not a number or
    above the limit, an output that is not a number)."""
    words = text.split()
    if not words or words[0].lower() not in LEVEL_VERBS:
        return None
    verb = words[0].lower()
    if verb in ("level", "output"):
        if len(words) != 3:
            raise LiveError(f"{verb} needs two values: '{verb} {'SOURCE' if verb == 'level' else 'N'} DB'")
        if verb == "output" and not words[1].isdigit():
            raise LiveError(f"output needs an output number, not {words[1]!r}")
        what = f"level of {words[1]}" if verb == "level" else f"level of output {words[1]}"
        return LevelChange(verb, words[1], parse_db(words[2], what))
    if len(words) != 2:
        raise LiveError(f"{verb} needs one source name: '{verb} SOURCE'")
    return LevelChange(verb, words[1])
