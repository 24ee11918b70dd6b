"""Hand-made arrangements for the click, cue and practice tests (no arranger needed)."""

from __future__ import annotations

from fractions import Fraction

from backline.arrange.events import Arrangement, PlanBar
from backline.model.chord import parse_chord
from backline.model.form import TempoMap, expand
from backline.model.pitch import Key
from backline.model.song import Bar, ChordEvent, Section, Song, TimeSignature

__all__ = ["bar", "song_of", "arrangement_of"]


def bar(num: int = 4, den: int = 4, tempo: float = 120.0, key: Key | None = None, **flags: object) -> Bar:
    """A one-chord bar (C) with the given meter, tempo, key and form flags."""
    return Bar(
        (ChordEvent(Fraction(0), parse_chord("C")),),
        TimeSignature(num, den),
        tempo,
        key,
        **flags,  # type: ignore[arg-type]
    )


def song_of(*sections: tuple[str, list[Bar]], title: str = "test") -> Song:
    return Song(title, tuple(Section(label, tuple(bars)) for label, bars in sections))


def arrangement_of(song: Song) -> Arrangement:
    """The plan of ``song`` as the arranger would give it (no intro, no parts)."""
    tl = expand(song)
    tm = tl.tempo_map()
    bars = tuple(
        PlanBar(
            index=pb.index,
            written_bar=pb.written,
            section=pb.section,
            start_beat=float(pb.start_beat),
            start_seconds=tm.seconds_at(float(pb.start_beat)),
            beats=float(pb.bar.beats),
            numerator=pb.bar.time.numerator,
            denominator=pb.bar.time.denominator,
            tempo=pb.bar.tempo,
            pass_number=pb.pass_number,
        )
        for pb in tl.bars
    )
    return Arrangement(
        song=song, style="test", seed=0, parts=(), bars=bars, tempo_map=TempoMap.from_timeline(tl)
    )
