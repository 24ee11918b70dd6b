"""Shared CLI plumbing: one place that turns backline errors into messages and exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from backline.errors import BacklineError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command; a :class:`BacklineError` becomes ``error: message`` and its exit code,
    never a traceback. Ctrl-C exits 130 quietly."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BacklineError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None

    return wrapper


def warn_song(song: object) -> None:
    """Print what a reader accepted but will not play (``Song.warnings``) to stderr."""
    for w in getattr(song, "warnings", ()):
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)


def parse_song_selector(song: str | None) -> int | str | None:
    if song is None:
        return None
    return int(song) if song.strip().isdigit() else song
