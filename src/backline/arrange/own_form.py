"""Whether a chart brings its own intro and ending, so that the style's are left out.

A chart that opens with its own intro (a first section labelled Intro) gets no style
intro, and one that ends with its own ending (an ``End`` mark or a fermata on the last
bar played, or a last section labelled Ending, Outro, Coda or Tag) gets no style
ending, unless asked for (``--intro`` / ``--ending``, a setlist's ``intro`` / ``ending``):
the demo chart's ``[Intro]`` and ``Fmaj7~ End`` are played as written, not after four
bars of the style's intro and before five of its ending. A chart's own ending without a
fermata still ends on a held tonic chord (:func:`backline.arrange.context.build_layout`).
"""

from __future__ import annotations

import re

from backline.model.form import expand
from backline.model.song import Song

__all__ = ["has_own_ending", "has_own_intro", "intro_ending"]

_INTRO = re.compile(r"intro", re.IGNORECASE)
_ENDING = re.compile(r"(?:ending|outro|coda|tag)\b", re.IGNORECASE)


def has_own_intro(song: Song) -> bool:
    """The chart's first section (with bars) is labelled Intro (Intro, Intro 2, Introduction)."""
    first = next((s for s in song.sections if s.bars), None)
    return first is not None and bool(_INTRO.match(first.label.strip()))


def has_own_ending(song: Song) -> bool:
    """The last bar played carries ``End`` or a fermata on its last chord, or belongs to a
    section labelled Ending, Outro, Coda or Tag."""
    tl = expand(song)
    if not tl.bars:
        return False
    last = tl.bars[-1]
    if last.bar.end:
        return True
    if last.bar.chords and last.bar.chords[-1].fermata:
        return True
    return bool(_ENDING.match(last.section.strip()))


def intro_ending(song: Song, intro: bool | None, ending: bool | None) -> tuple[bool, bool]:
    """(play the style's intro, play its ending): as asked, else the defaults above."""
    return (
        (not has_own_intro(song)) if intro is None else intro,
        (not has_own_ending(song)) if ending is None else ending,
    )
