"""A fermata (``C~``) is held by the whole band: one attack per note at the held chord,
then nothing until the next chord (or the end of the song)."""

from __future__ import annotations

import pytest

from backline.arrange.engine import arrange
from backline.arrange.styles import StyleRegistry
from backline.formats.chart import loads

REGISTRY = StyleRegistry.load([])
STYLES = [s.name for s in REGISTRY]

MIDDLE = "title: Hold\nkey: C\n| C | G7 | C~ | F | C |\n"
LAST = "title: Hold end\nkey: F\n| Gm7 | C7 | Fmaj7~ End |\n"


def _held_window(arr, song_start_bar: int, beats_per_bar: float = 4.0) -> tuple[float, float]:
    start = arr.chart_start_beat + song_start_bar * beats_per_bar
    return start, start + beats_per_bar


def _check_held(arr, lo: float, hi: float) -> None:
    for part in arr.parts:
        inside = [n for n in part.notes if lo - 0.15 <= n.start < hi - 0.15]
        assert inside, f"{arr.style}/{part.name}: nothing plays the held chord"
        # every attack within a few ms of the fermata onset (humanisation), one per key
        assert all(abs(n.start - lo) < 0.15 for n in inside), (
            f"{arr.style}/{part.name}: notes after the fermata onset: "
            f"{[(round(n.start - lo, 3), n.pitch) for n in inside if abs(n.start - lo) >= 0.15]}"
        )
        pitches = [n.pitch for n in inside]
        assert len(pitches) == len(set(pitches)), f"{arr.style}/{part.name}: a key struck twice"
        if not part.is_drum:
            # harmonic parts let it ring to the next chord
            assert max(n.start + n.duration for n in inside) >= hi - 0.3, f"{arr.style}/{part.name}"
            # nothing from before rings into the hold
            before = [n for n in part.notes if n.start < lo - 0.15 and n.start + n.duration > lo + 0.15]
            assert not before, f"{arr.style}/{part.name}: {before[:3]}"


@pytest.mark.parametrize("style", STYLES)
def test_fermata_mid_song_is_held_by_every_part(style: str) -> None:
    song = loads(MIDDLE, "hold.chart")[0]
    arr = arrange(song, style, registry=REGISTRY, seed=3)
    lo, hi = _held_window(arr, 2, float(song.bars[2].beats))
    _check_held(arr, lo, hi)
    # the band plays on after the hold
    for part in arr.parts:
        assert any(n.start >= hi - 0.15 for n in part.notes), f"{style}/{part.name} stops after the hold"


@pytest.mark.parametrize("style", ["medium-swing", "pop", "bossa-nova", "jazz-ballad", "rock"])
def test_final_fermata_is_the_ending(style: str) -> None:
    song = loads(LAST, "end.chart")[0]
    arr = arrange(song, style, registry=REGISTRY, seed=1)
    lo, hi = _held_window(arr, 2)
    assert arr.total_beats == pytest.approx(hi)  # no style ending after a held last chord
    _check_held(arr, lo, hi)


def test_fermata_changes_the_arrangement() -> None:
    held = arrange(loads(MIDDLE, "a.chart")[0], "medium-swing", registry=REGISTRY, seed=0)
    plain = arrange(loads(MIDDLE.replace("~", ""), "b.chart")[0], "medium-swing", registry=REGISTRY, seed=0)
    assert [len(p.notes) for p in held.parts] != [len(p.notes) for p in plain.parts]
