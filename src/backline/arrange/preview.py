"""A short song to hear a style before choosing it (``backline styles --preview``).

Two 8-bar sections on the changes the style's players know: an A section at the style's
own intensity (its A groove) and a B section at 85 (its B groove, with the fill that leads
into it), with the style's intro and ending around them. The changes follow the style's
family:

- jazz, latin and Brazilian styles: a I-vi-ii-V turnaround and a bridge through IV7 and
  III7-VI7 (``Cmaj7 Am7 Dm7 G7 ...``), so that walking lines and rootless voicings are heard
  over real ii-V-Is;
- the ``blues`` family: a 12-bar blues in the A section and its last 8 bars in the B
  section;
- every other family (pop, rock, funk, country, reggae, folk, dance, soul, gospel, odd
  meters): I-vi-IV-V and IV-V-iii-vi.

The key is C (arrange it in another), the tempo the style's default, the meter the first
it lists (``time``: one of the others).
"""

from __future__ import annotations

from backline.arrange.styles.loader import parse_meter
from backline.arrange.styles.model import Style
from backline.errors import StyleError
from backline.formats import loads_songs
from backline.model.song import Song

__all__ = ["PREVIEW_B_INTENSITY", "preview_chart", "preview_song"]

#: The B section's intensity (the style's stronger groove).
PREVIEW_B_INTENSITY = 85

_JAZZ = (
    "| Cmaj7 | Am7 | Dm7 | G7 | Em7 | A7 | Dm7 G7 | Cmaj7 |",
    "| Fmaj7 | Bb7 | Em7 | A7 | Dm7 | G7 | Cmaj7 | Dm7 G7 |",
)
_BLUES = (
    "| C7 | F7 | C7 | C7 | F7 | F7 | C7 | C7 | G7 | F7 | C7 | G7 |",
    "| F7 | F7 | C7 | C7 | G7 | F7 | C7 | G7 |",
)
_POP = (
    "| C | Am | F | G | C | Am | F G | C |",
    "| F | G | Em | Am | F | G | C | G |",
)
_CHANGES = {"jazz": _JAZZ, "latin": _JAZZ, "brazilian": _JAZZ, "blues": _BLUES}


def preview_chart(style: Style, *, time: str | None = None, tempo: float | None = None) -> str:
    """The preview song of ``style`` as ``.chart`` text, in C. Raises
    :class:`~backline.errors.StyleError` for a meter the style does not play."""
    meters = [str(m) for m in style.meters]
    if time is not None:
        want = str(parse_meter(time, "--time"))
        if want not in meters:
            raise StyleError(f"{style.name} plays {', '.join(meters)}, not {time}")
    else:
        want = meters[0]
    bpm = style.default_tempo if tempo is None else tempo
    a, b = _CHANGES.get(style.family, _POP)
    return (
        f"title: {style.name} preview\n"
        f"key: C\ntempo: {bpm:g}\ntime: {want}\nstyle: {style.name}\n\n"
        f"[A]\n{a}\n[B {PREVIEW_B_INTENSITY}%]\n{b}\n"
    )


def preview_song(style: Style, *, time: str | None = None, tempo: float | None = None) -> Song:
    """The preview song of ``style`` (see the module docstring), in C: arrange it with
    ``key=`` for another key."""
    return loads_songs(preview_chart(style, time=time, tempo=tempo).encode(), "preview.chart")[0]
