"""Shared CLI plumbing: one place that turns backline errors into messages and exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from backline.errors import BacklineError

P = ParamSpec("P")
R = TypeVar("R")

# markup off: messages carry the user's text (titles, paths, "[outputs]"), and rich would
# take its brackets for style tags (dropping them, or failing on "[/x]"); styled output
# goes through say() (a Text: styles without markup), or markup=True on text of our own
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)


def say(con: Console, text: object, label: str = "", style: str = "", text_style: str = "") -> None:
    """Print ``text`` exactly as it is (no markup), after ``label`` in ``style``."""
    t = Text()
    if label:
        t.append(label, style=style or None)
        t.append(" ")
    t.append(str(text), style=text_style or None)
    con.print(t, highlight=False, soft_wrap=True)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command; a :class:`BacklineError` becomes ``error: message`` and its exit code,
    never a traceback. Ctrl-C exits 130 quietly."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BacklineError as exc:
            say(err_console, exc, "error:", "bold red")
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None

    return wrapper


def warn_song(song: object, *, tempo_given: bool = False) -> None:
    """Print what a reader accepted but will not play (``Song.warnings``) to stderr;
    ``tempo_given``: the user set the tempo, so a reader's "no tempo: 120 BPM" is moot."""
    from backline.formats.chordpro import NO_TEMPO

    for w in getattr(song, "warnings", ()):
        if tempo_given and NO_TEMPO in w:
            continue
        say(err_console, w, "warning:", "yellow")


def parse_song_selector(song: str | None) -> int | str | None:
    if song is None:
        return None
    return int(song) if song.strip().isdigit() else song
