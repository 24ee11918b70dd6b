"""Songs built in code and small helpers for the engine/drums/feel/MIDI tests."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction as F

from backline.arrange.styles import Humanise, Style, StyleRegistry
from backline.model.chord import parse_chord_or_nc
from backline.model.song import Bar, ChordEvent, Section, Song, TimeSignature

REGISTRY = StyleRegistry.load([])


def bar(*chords: str | tuple[str, float] | tuple[str, float, str], time: TimeSignature = TimeSignature(4, 4),
        tempo: float = 120.0, **flags: object) -> Bar:  # fmt: skip
    """``bar("C", ("G7", 2, "push"))``: chords at beats, optional "push"/"hit" flags."""
    evs = []
    for c in chords:
        if isinstance(c, str):
            evs.append(ChordEvent(F(0), parse_chord_or_nc(c)))
        else:
            sym, beat, *fl = c
            evs.append(
                ChordEvent(
                    F(beat).limit_denominator(96), parse_chord_or_nc(sym), push="push" in fl, hit="hit" in fl
                )
            )
    return Bar(tuple(evs), time, tempo, **flags)  # type: ignore[arg-type]


def song(*sections: tuple[str, list[Bar]], style: str = "", title: str = "Test") -> Song:
    return Song(title, tuple(Section(label, tuple(bars)) for label, bars in sections), style=style)


def aaba() -> Song:
    a = [bar("Cmaj7"), bar("Am7"), bar("Dm7"), bar("G7")] * 2
    b = [bar("Fmaj7"), bar("Fm7"), bar("Em7"), bar("A7")] * 2
    return song(("A", a), ("A", a), ("B", b), ("A", a), style="Medium Swing")


def still(style: Style | str) -> Style:
    """The style with humanisation switched off (events land exactly on the grid)."""
    st = REGISTRY.get(style) if isinstance(style, str) else style
    return replace(st, humanise=Humanise(0.0, 0.0, {}))


def onsets(notes: object) -> list[float]:
    return sorted({round(n.start, 6) for n in notes})  # type: ignore[attr-defined]
