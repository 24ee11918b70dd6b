"""What a writer leaves out: a warning, never silence.

Some formats cannot hold every part of a song (ChordPro grids have no segno, coda or
D.S.; MusicXML lead sheets written by backline carry no hits or fermatas). A writer that
drops something that changes how the song plays calls :func:`warn_lost`, which issues a
:class:`FormLostWarning` through Python's :mod:`warnings` (printed on stderr by the CLI's
``convert``, and catchable with :func:`warnings.catch_warnings` by library users).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

from backline.model.song import Bar, Song

__all__ = ["FormLostWarning", "warn_lost", "lost_marks", "bars_item"]


class FormLostWarning(UserWarning):
    """A writer left out part of the song (form marks, hits, fermatas...): the written file
    plays differently from the song."""


#: (name, test) for each mark a bar can carry, in the order they are reported.
_MARKS: tuple[tuple[str, Callable[[Bar], bool]], ...] = (
    ("segno", lambda b: b.segno),
    ("coda", lambda b: b.coda),
    ("To Coda", lambda b: b.to_coda),
    ("Fine", lambda b: b.fine),
    ("D.C./D.S.", lambda b: b.jump is not None),
    ("End", lambda b: b.end),
    ("vamp", lambda b: b.vamp),
    ("hits (!)", lambda b: any(e.hit for e in b.chords)),
    ("fermatas (~)", lambda b: any(e.fermata for e in b.chords)),
    ("pushes (<)", lambda b: any(e.push for e in b.chords)),
    ("endings for several passes ([1,2])", lambda b: len(b.endings) > 1),
)


def lost_marks(song: Song, dropped: Iterable[str]) -> list[str]:
    """``"name (bars 3, 7)"`` for each mark in ``dropped`` that ``song`` uses."""
    wanted = set(dropped)
    out: list[str] = []
    bars = song.bars
    for name, test in _MARKS:
        if name not in wanted:
            continue
        item = bars_item(name, [i + 1 for i, b in enumerate(bars) if test(b)])
        if item:
            out.append(item)
    return out


def bars_item(name: str, bars: Iterable[int]) -> str:
    """``"name (bars 3, 7)"`` for the 1-based written ``bars`` (the first six named), or
    ``""`` when there are none."""
    where = [str(b) for b in bars]
    if not where:
        return ""
    more = f", ... ({len(where)} bars)" if len(where) > 6 else ""
    label = "bar" if len(where) == 1 else "bars"
    return f"{name} ({label} {', '.join(where[:6])}{more})"


def warn_lost(song: Song, fmt: str, items: list[str]) -> None:
    """Warn that the ``fmt`` file written for ``song`` leaves out ``items``."""
    if not items:
        return
    name = song.title or song.source or "song"
    warnings.warn(
        f"{name}: {fmt} cannot hold {'; '.join(items)}: left out, so the file plays differently",
        FormLostWarning,
        stacklevel=3,
    )
