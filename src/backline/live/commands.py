"""Transport commands: what a foot-switch, a key or an event script can ask the engine.

A :class:`Command` is immutable and made in the control thread; the engine's queue
carries it to the audio callback, which applies it at the start of its next block
(``when = now``) or schedules it sample-exactly (``next_bar``, ``end_of_section``).
:func:`parse_action` reads the text form used by event scripts and the CLI;
:func:`parse_control_line` reads a whole typed or scripted line (a transport action, a
level line, or a word of the caller's own such as ``save``).

The toggles (``play/stop``, ``play/pause``, ``vamp/release``) are commands of their own:
the engine decides what they do when it applies them, from its own state, so two presses
that reach the queue before the next audio block act as two presses (play, then stop).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import StrEnum

from backline.errors import LiveError
from backline.live.levels import LevelChange, parse_level_change

__all__ = [
    "Action",
    "When",
    "Command",
    "TOGGLES",
    "parse_action",
    "parse_control_line",
    "parse_when",
    "ACTION_HELP",
    "LEVEL_HELP",
]


class Action(StrEnum):
    """Every transport action."""

    PLAY = "play"  # start (count-in at the top of a song), resume, or go
    STOP = "stop"  # stop and return to the top of the song
    PAUSE = "pause"  # pause / resume in place
    NEXT = "next"  # select the next song (stopped at its top)
    PREVIOUS = "previous"  # select the previous song
    SELECT = "select"  # select song N (1-based in the running order)
    JUMP = "jump"  # jump to a section or bar (now, at the next bar, at the end of the section)
    VAMP = "vamp"  # repeat the current section until released
    RELEASE = "release"  # leave the vamp at the end of the current loop
    GO = "go"  # continue from a stop marker (or release a vamp-until-go)
    FADE = "fade"  # fade out over N seconds, then end the song
    # toggles: decided by the engine when it applies them (from its state then)
    TOGGLE_PLAY = "play/stop"  # stop when under way (playing, counting in, paused), else play
    TOGGLE_PAUSE = "play/pause"  # pause when playing or counting in, else play
    TOGGLE_VAMP = "vamp/release"  # release when vamping, else vamp


#: The toggle actions, as written.
TOGGLES = (Action.TOGGLE_PLAY.value, Action.TOGGLE_PAUSE.value, Action.TOGGLE_VAMP.value)


class When(StrEnum):
    """When a jump happens."""

    NOW = "now"
    NEXT_BAR = "next_bar"
    END_OF_SECTION = "end_of_section"


@dataclass(frozen=True)
class Command:
    """One transport command. ``target``: a section label (``"Chorus"``, ``"Chorus #2"``),
    ``"bar N"`` (1-based) or a song number for :attr:`Action.SELECT`; ``value``: fade seconds.
    ``sent_ns`` (``time.perf_counter_ns``) lets a caller measure control latency."""

    action: Action
    target: str | int | None = None
    when: When = When.NOW
    value: float | None = None
    sent_ns: int = field(default_factory=time.perf_counter_ns, compare=False)


ACTION_HELP = (
    "play | stop | pause | next | previous | go | vamp | release | select N | fade [SECONDS] | "
    "play/stop | play/pause | vamp/release | "
    "jump TARGET [next bar|end of section|now]  (TARGET: a section name, 'NAME #2', or 'bar N'; "
    "default: at the next bar)"
)

#: The level lines, as :func:`parse_control_line` takes them (event scripts, ``--plain``).
LEVEL_HELP = "level SOURCE DB | output N DB | mute SOURCE | unmute SOURCE | solo SOURCE | unsolo SOURCE"

_WHEN = {
    "now": When.NOW,
    "next bar": When.NEXT_BAR,
    "next_bar": When.NEXT_BAR,
    "at next bar": When.NEXT_BAR,
    "end of section": When.END_OF_SECTION,
    "end_of_section": When.END_OF_SECTION,
    "at end of section": When.END_OF_SECTION,
}


def parse_when(when: When | str) -> When:
    """``"next bar"``, ``"next_bar"``, ``"at next bar"``, ``"end of section"``, ``"now"``
    (any case) or a :class:`When` -> When. Raises :class:`LiveError` for anything else."""
    if isinstance(when, When):
        return when
    w = _WHEN.get(" ".join(str(when).split()).lower())
    if w is None:
        raise LiveError(f"unknown jump time {when!r}: use now, next bar or end of section")
    return w


def parse_action(text: str, when: str | None = None) -> Command:
    """``"jump Chorus next bar"``, ``"jump bar 9"``, ``"fade 4"``, ``"select 2"``, ``"vamp"`` -> Command.

    ``when`` (if given) overrides a trailing ``now`` / ``next bar`` / ``end of section``;
    a jump with neither happens at the next bar (as :meth:`Engine.jump
    <backline.live.engine.Engine.jump>` and the UI's jump keys do).
    Raises :class:`LiveError` naming what was not understood.
    """
    words = text.strip()
    if " ".join(words.split()).lower() in TOGGLES:
        return Command(Action(" ".join(words.split()).lower()))
    m = re.match(r"^(\w+)\s*(.*)$", words)
    if not m:
        raise LiveError(f"empty action; actions: {ACTION_HELP}")
    name, rest = m.group(1).lower(), m.group(2).strip()
    aliases = {"prev": "previous", "back": "previous", "devamp": "release", "continue": "go", "start": "play"}
    name = aliases.get(name, name)
    try:
        action = Action(name)
    except ValueError:
        raise LiveError(f"unknown action {name!r}; actions: {ACTION_HELP}") from None
    if action is Action.JUMP:
        w = When.NEXT_BAR
        low = rest.lower()
        for phrase, val in sorted(_WHEN.items(), key=lambda kv: -len(kv[0])):
            if low.endswith(" " + phrase) or low == phrase:
                w = val
                rest = rest[: len(rest) - len(phrase)].strip()
                break
        if when is not None:
            w = parse_when(when)
        if not rest:
            raise LiveError("jump needs a target: a section name or 'bar N'")
        if re.fullmatch(r"bar\s+\d+", rest, re.I) and int(rest.split()[1]) < 1:
            raise LiveError("bars count from 1")
        return Command(action, rest, w)
    if action is Action.SELECT:
        if not rest.isdigit() or int(rest) < 1:
            raise LiveError(f"select needs a song number from 1, not {rest!r}")
        return Command(action, int(rest))
    if action is Action.FADE:
        try:
            secs = float(rest) if rest else 4.0
        except ValueError:
            raise LiveError(f"fade needs seconds, not {rest!r}") from None
        if not 0 < secs <= 60:
            raise LiveError(f"fade of {secs:g} s: give 0..60 seconds")
        return Command(action, None, When.NOW, secs)
    if rest:
        raise LiveError(f"{name} takes no argument (got {rest!r})")
    return Command(action)


def parse_control_line(
    text: str, *, when: str | None = None, words: tuple[str, ...] = ()
) -> Command | LevelChange | str:
    """One line typed at the ``--plain`` prompt or written in an event script:

    - one of ``words`` alone (the caller's own: ``save``, ``quit``, ``end``): that word,
      lower case;
    - a level line (``level keys -3``, ``output 3 -6``, ``mute click`` ...): a
      :class:`~backline.live.levels.LevelChange`;
    - anything else: a transport action, :func:`parse_action` (``when`` as there).

    Raises :class:`LiveError` naming what was not understood."""
    parts = text.split()
    if parts and parts[0].lower() in words:
        if len(parts) > 1:
            raise LiveError(f"{parts[0].lower()} takes no argument (got {' '.join(parts[1:])!r})")
        return parts[0].lower()
    change = parse_level_change(text)
    if change is not None:
        return change
    try:
        return parse_action(text, when)
    except LiveError as exc:
        if not str(exc).startswith("unknown action"):
            raise
        name = str(exc).split("'")[1] if "'" in str(exc) else text.split()[0]
        extra = " | ".join(words)
        raise LiveError(
            f"unknown action {name!r}; actions: {ACTION_HELP}; levels: {LEVEL_HELP}"
            + (f"; also: {extra}" if extra else "")
        ) from None
