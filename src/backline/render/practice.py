"""Practice options: loop a section, ramp the tempo, mute parts ("minus one").

:func:`loop_section` and :func:`tempo_ramp` rewrite the :class:`~backline.model.song.Song`
before arranging; :func:`mute_parts` removes parts from an arranged
:class:`~backline.arrange.events.Arrangement`.

Conventions (documented choices):

- **Unrolled form.** Both song transforms first play the form out (repeats, endings,
  D.C./D.S. as :func:`~backline.model.form.expand` does) and return a song with no
  form marks: every repetition is written out, so bar counts and tempos are exactly
  what will be heard. Melody notes follow their bars.
- **Looping** plays *just that section* ``times`` times in a row (what a musician
  practising the bridge wants), one written section per time round, so spoken
  cues announce each pass and say "Last time" before the final one. Repeats inside
  the section are kept (played out); jumps out of it are ignored.
- **Section names** are matched case-insensitively; an integer is a section number
  counted from 1 in written order, as a musician counts (and as ``--loop 2:4`` and
  every message here number them). A label shared by several sections with different
  bars (A1, A2 both called "A" but with different endings) is an error asking for the
  number; when they are identical the first is used.
- **Tempo ramp:** pass ``k`` (0-based) plays at ``start_percent + k * step_percent``
  percent of the written tempo of every bar (tempo changes inside the song keep
  their proportions). Without a number of passes the ramp runs *until 100 %*: it
  stops at the written tempo, the last pass clamped to 100 % (75 %, +10: 75, 85, 95,
  100), never above it (:func:`ramp_percents`).

The errors (:class:`~backline.errors.PracticeError`,
:class:`~backline.errors.UnknownSectionError`, :class:`~backline.errors.UnknownPartError`)
live in :mod:`backline.errors` and are importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from backline.arrange.events import Arrangement
from backline.errors import PracticeError, UnknownPartError, UnknownSectionError
from backline.model.form import expand
from backline.model.song import Bar, Note, Section, Song

__all__ = [
    "UnknownSectionError",
    "UnknownPartError",
    "PracticeError",
    "MAX_RAMP_PASSES",
    "loop_section",
    "ramp_percents",
    "tempo_ramp",
    "mute_parts",
    "find_section",
]


def _plain(bar: Bar) -> Bar:
    """The bar without form marks (repeats, endings, jumps, coda, fine, end, vamp)."""
    return replace(
        bar,
        repeat_start=False,
        repeat_end=0,
        endings=frozenset(),
        segno=False,
        to_coda=False,
        coda=False,
        fine=False,
        jump=None,
        vamp=False,
        end=False,
    )


def _where(song: Song) -> str:
    return song.title or song.source or "song"


def find_section(song: Song, label_or_index: str | int) -> int:
    """The 0-based index in ``song.sections`` of a label (case-insensitive) or of a
    section number (1-based: 1 is the first section).

    Raises :class:`UnknownSectionError` naming the sections there are, numbered from 1.
    """
    known = ", ".join(f"{i}:{s.label or '(unnamed)'}" for i, s in enumerate(song.sections, 1))
    if isinstance(label_or_index, int):
        if 1 <= label_or_index <= len(song.sections):
            return label_or_index - 1
        raise UnknownSectionError(
            f"no section number {label_or_index} (they are numbered from 1); sections are {known}",
            _where(song),
        )
    want = label_or_index.strip().casefold()
    matches = [i for i, s in enumerate(song.sections) if s.label.strip().casefold() == want]
    if not matches:
        raise UnknownSectionError(f"no section called {label_or_index!r}; sections are {known}", _where(song))
    first = song.sections[matches[0]]
    for i in matches[1:]:
        if tuple(_plain(b) for b in song.sections[i].bars) != tuple(_plain(b) for b in first.bars):
            raise UnknownSectionError(
                f"{len(matches)} different sections are called {label_or_index!r} "
                f"(numbers {', '.join(str(i + 1) for i in matches)}): give the section number; "
                f"sections are {known}",
                _where(song),
            )
    return matches[0]


def _played_section(song: Song, index: int) -> tuple[tuple[Bar, ...], list[list[Note]]]:
    """The bars of one section as played (its own repeats and endings taken), and their melody."""
    sec = song.sections[index]
    first = sum(len(s.bars) for s in song.sections[:index])
    inner = [
        replace(b, jump=None, segno=False, to_coda=False, coda=False, fine=False, end=False) for b in sec.bars
    ]
    tl = expand(Song(song.title, (replace(sec, bars=tuple(inner)),)))
    melody = _melody_by_bar(song)
    bars = tuple(_plain(pb.bar) for pb in tl.bars)
    notes = [melody.get(first + pb.written, []) for pb in tl.bars]
    return bars, notes


def _melody_by_bar(song: Song) -> dict[int, list[Note]]:
    out: dict[int, list[Note]] = {}
    for n in song.melody:
        out.setdefault(n.bar, []).append(n)
    return out


def _build(song: Song, sections: list[tuple[Section, list[list[Note]]]], title: str) -> Song:
    melody: list[Note] = []
    i = 0
    for _sec, notes in sections:
        for bar_notes in notes:
            melody.extend(replace(n, bar=i) for n in bar_notes)
            i += 1
    return replace(song, title=title, sections=tuple(s for s, _ in sections), melody=tuple(melody))


def _check_times(song: Song, times: int) -> None:
    if times < 1:
        raise PracticeError(f"the number of times round must be 1 or more, not {times}", _where(song))


def loop_section(song: Song, label_or_index: str | int, times: int) -> Song:
    """A song that plays just one section (a label, or a number counted from 1) ``times``
    times (form played out, no form marks).

    Raises :class:`UnknownSectionError` for an unknown or ambiguous section and
    :class:`PracticeError` when ``times`` < 1.
    """
    _check_times(song, times)
    index = find_section(song, label_or_index)
    sec = song.sections[index]
    if not sec.bars:
        raise PracticeError(
            f"section {index + 1} [{sec.label}] has no bars: there is nothing to loop", _where(song)
        )
    bars, notes = _played_section(song, index)
    looped = [(replace(sec, bars=bars), notes) for _ in range(times)]
    return _build(song, looped, f"{song.title} ({sec.label} x{times})")


def _played_song(song: Song) -> list[tuple[Section, list[list[Note]]]]:
    """The whole song played out: one section per run of consecutive played bars of a section."""
    tl = expand(song)
    melody = _melody_by_bar(song)
    out: list[tuple[Section, list[list[Note]]]] = []
    cur_bars: list[Bar] = []
    cur_notes: list[list[Note]] = []
    cur_index = -1
    prev_written = -2
    for pb in tl.bars:
        new = pb.section_index != cur_index or (pb.written != prev_written + 1 and pb.section_start)
        if new and cur_bars:
            out.append((replace(song.sections[cur_index], bars=tuple(cur_bars)), cur_notes))
            cur_bars, cur_notes = [], []
        cur_index, prev_written = pb.section_index, pb.written
        cur_bars.append(_plain(pb.bar))
        cur_notes.append(melody.get(pb.written, []))
    if cur_bars:
        out.append((replace(song.sections[cur_index], bars=tuple(cur_bars)), cur_notes))
    return out


#: the most passes a ramp "until 100 %" may take (50 %, +0.25 % would be 201)
MAX_RAMP_PASSES = 200


def ramp_percents(start_percent: float, step_percent: float, times: int | None = None) -> list[float]:
    """The tempo of each pass of a ramp, in percent of the written tempo.

    With ``times``, exactly that many passes: ``start + k * step``. Without (``None``),
    the ramp runs until 100 %: passes go up by ``step`` while under 100 % and the last
    is clamped to 100 % (``ramp_percents(75, 10)`` is ``[75, 85, 95, 100]``); a start at
    or above 100 %, or a step of 0, is one pass at ``start``.

    Raises :class:`PracticeError` for ``times`` < 1, a pass at 0 % or less, a ramp until
    100 % with a negative step or more than :data:`MAX_RAMP_PASSES` passes, or numbers
    that are not finite.
    """
    if not (math.isfinite(start_percent) and math.isfinite(step_percent)):
        raise PracticeError(f"tempo ramp {start_percent:g}% + {step_percent:g}%: not a number")
    if times is None:
        if step_percent < 0:
            raise PracticeError(
                f"a tempo ramp up to 100 % needs a step of 0 % or more, not {step_percent:g}%"
            )
        if step_percent == 0 or start_percent >= 100:
            count = 1
        else:
            count = math.ceil((100 - start_percent) / step_percent - 1e-9) + 1
        if count > MAX_RAMP_PASSES:
            raise PracticeError(
                f"tempo ramp {start_percent:g}% + {step_percent:g}% takes {count} passes to reach 100 % "
                f"(at most {MAX_RAMP_PASSES}): take a larger step"
            )
        percents = [start_percent + k * step_percent for k in range(count)]
        if count > 1:
            percents[-1] = 100.0  # the written tempo, not a step past it
    else:
        if times < 1:
            raise PracticeError(f"the number of times round must be 1 or more, not {times}")
        percents = [start_percent + k * step_percent for k in range(times)]
    if min(percents) <= 0:
        raise PracticeError(f"tempo ramp {start_percent:g}% + {step_percent:g}% reaches {min(percents):g}%")
    return percents


def tempo_ramp(
    song: Song,
    start_percent: float,
    step_percent: float,
    times: int | None = None,
    *,
    section: str | int | None = None,
) -> Song:
    """The song (or one ``section``) played again and again, speeding up each time round.

    Pass ``k`` (0-based) plays every bar at ``start_percent + k * step_percent`` percent
    of its written tempo. ``times`` passes, e.g. ``tempo_ramp(song, 70, 10, 4)`` plays at
    70, 80, 90 and 100 %; without ``times``, until 100 % and never above it (the last pass
    clamped: ``tempo_ramp(song, 75, 10)`` plays at 75, 85, 95 and 100 %; see
    :func:`ramp_percents`). Raises :class:`PracticeError` for ``times`` < 1 or a pass at
    0 % or less.
    """
    try:
        percents = ramp_percents(start_percent, step_percent, times)
    except PracticeError as exc:
        raise PracticeError(str(exc), _where(song)) from None
    if section is not None:
        index = find_section(song, section)
        bars, notes = _played_section(song, index)
        one = [(replace(song.sections[index], bars=bars), notes)]
        what = song.sections[index].label
    else:
        one = _played_song(song)
        what = "song"
    passes: list[tuple[Section, list[list[Note]]]] = []
    for pct in percents:
        ratio = pct / 100.0
        for sec, notes in one:
            passes.append(
                (replace(sec, bars=tuple(replace(b, tempo=b.tempo * ratio) for b in sec.bars)), notes)
            )
    title = f"{song.title} ({what} {percents[0]:g}%..{percents[-1]:g}% x{len(percents)})"
    return _build(song, passes, title)


def mute_parts(arr: Arrangement, names: Iterable[str]) -> Arrangement:
    """The arrangement without the named parts (a "minus one" track); names are case-insensitive.

    Raises :class:`UnknownPartError` naming the parts there are when a name is unknown.
    """
    wanted = [n.strip() for n in names if n.strip()]
    have = {p.name.casefold(): p.name for p in arr.parts}
    unknown = [n for n in wanted if n.casefold() not in have]
    if unknown:
        known = ", ".join(p.name for p in arr.parts) or "(none)"
        raise UnknownPartError(
            f"cannot mute {', '.join(repr(n) for n in unknown)}: no such part; the parts are {known}"
        )
    drop = {n.casefold() for n in wanted}
    return replace(arr, parts=tuple(p for p in arr.parts if p.name.casefold() not in drop))
