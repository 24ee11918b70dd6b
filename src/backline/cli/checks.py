"""Checks and defaults shared by the chart, arrange and render commands.

- :func:`refuse_overwrite`: an output that is one of the inputs (the same file by another
  name: ``./x``, ``../dir/x``, a symlink, a hard link) is refused before anything is
  read or written, so ``convert songs.txt songs.txt`` cannot turn a playlist into one song.
- :func:`intro_ending` (from :mod:`backline.arrange.own_form`): whether to add the
  style's intro and ending. Unless asked (``--intro/--no-intro``, ``--ending/--no-ending``),
  a chart that opens with its own intro gets no style intro, and one that ends with its
  own ending gets no style ending.
- :func:`check_key_option`: ``--key ""`` is a mistake, not "no transposition".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from backline.arrange.own_form import has_own_ending, has_own_intro, intro_ending
from backline.errors import ArrangeError, OutputError
from backline.util.atomic import same_file

__all__ = [
    "EndingOption",
    "IntroOption",
    "same_file",
    "refuse_overwrite",
    "has_own_intro",
    "has_own_ending",
    "intro_ending",
    "check_key_option",
]


def refuse_overwrite(output: Path, inputs: Iterable[Path], what: str = "the output") -> None:
    """Raise :class:`OutputError` (exit 2) when ``output`` is one of ``inputs``."""
    for src in inputs:
        if same_file(output, src):
            raise OutputError(
                f"{what} {output} is the input file {src}: writing it would overwrite the chart; "
                "choose another file name"
            )


def check_key_option(key: str | None) -> None:
    """``--key`` given but blank: refuse it (ArrangeError, exit 2) rather than ignore it."""
    if key is not None and not key.strip():
        raise ArrangeError("--key needs a key, e.g. --key Bb or --key F#m (leave it out to keep the chart's)")


#: ``--intro/--no-intro`` and ``--ending/--no-ending`` as ``arrange`` and ``render`` take them
#: (None: decided by :func:`intro_ending`).
IntroOption = Annotated[
    bool | None,
    typer.Option(
        "--intro/--no-intro",
        help="Play the style's intro (default: yes, unless the chart starts with its own Intro).",
        show_default=False,
    ),
]
EndingOption = Annotated[
    bool | None,
    typer.Option(
        "--ending/--no-ending",
        help="Play the style's ending (default: yes, unless the chart ends with its own: "
        "End, a final fermata, an Ending/Outro/Coda/Tag section).",
        show_default=False,
    ),
]
