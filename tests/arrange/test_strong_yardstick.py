"""The strong-beat yardstick (tests/arrange/strong_yardstick.py) and the arranger's own
table (``idiomatic_pcs`` / ``ChordFacts.strong_ok`` / ``_TENSIONS``) held against it.

The musical checks measure "chord tones on strong beats" with the yardstick, so widening
the arranger's table cannot make them pass; these tests make the table itself fail when it
allows on a strong beat more than the yardstick does."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from ctxutil import bars_from_text, strong_beat_stats
from strong_yardstick import TENSIONS, family_of, strong_pcs, strong_pcs_any_scale

from backline.arrange.roles import get_role
from backline.arrange.roles._common import idiomatic_pcs
from backline.arrange.roles.base import PartSpec
from backline.errors import ChordSymbolError
from backline.model.chord import Chord, parse_chord
from corpora import corpora_path

_PC = {
    "C": 0,
    "Db": 1,
    "D": 2,
    "D#": 3,
    "Eb": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "Gb": 6,
    "G": 7,
    "Ab": 8,
    "A": 9,
    "Bb": 10,
    "B": 11,
}


def _pcs(names: str) -> frozenset[int]:
    return frozenset(_PC[n] for n in names.split())


# Written out by hand, in note names: chord tones + the tensions a player uses on a strong
# beat that fit the chord-scale.
EXPECTED = {
    "C": "C E G D A",  # + 9 13 (no #11 in ionian)
    "Cmaj7": "C E G B D A",
    "Cmaj7#11": "C E G B F# D A",
    "C6": "C E G A D",
    "Cm": "C Eb G D F A",  # dorian: 9 11 13
    "Cm7": "C Eb G Bb D F A",
    "C7": "C E G Bb D A",  # mixolydian: 9 13, no altered tensions
    "C7b9": "C E G Bb Db D# F# A",  # half-whole: b9 #9 #11 13
    "C7alt": "C E Bb Db D# F# Ab",
    "C13": "C E G Bb D A",
    "Cm7b5": "C Eb Gb Bb F Ab",  # locrian: 11 b13 (its 9 is b9)
    "Cdim7": "C Eb Gb A D F Ab B",
    "Caug": "C E Ab D F#",
    "Csus4": "C F G D A",
    "C7sus4": "C F G Bb D A",
    "C5": "C G D",
    "C/E": "C E G D A",
    "Am7/G": "A C E G B D F#",
}


def _chords() -> list[Chord]:
    """Every chord of the ChordPro reference table that backline reads, and the ones above."""
    out = {parse_chord(s) for s in EXPECTED}
    path = corpora_path("chordpro", "chord-tables", "105_chords.tsv")
    for line in path.read_text(encoding="utf-8").splitlines():
        symbol = line.partition("\t")[0].strip()
        if symbol:
            try:
                out.add(parse_chord(symbol))
            except ChordSymbolError:
                continue
    return sorted(out, key=lambda c: c.name)


@pytest.mark.parametrize("symbol", sorted(EXPECTED))
def test_the_yardstick_by_hand(symbol: str) -> None:
    assert strong_pcs(parse_chord(symbol)) == _pcs(EXPECTED[symbol])


def test_families_from_the_intervals() -> None:
    assert family_of((0, 4, 7, 10)) == "dominant"
    assert family_of((0, 4, 7, 11)) == "major"
    assert family_of((0, 3, 7, 10)) == "minor"
    assert family_of((0, 3, 6, 10)) == "half-diminished"
    assert family_of((0, 3, 6, 9)) == "diminished"
    assert family_of((0, 4, 8)) == "augmented"
    assert family_of((0, 5, 7)) == "sus"
    assert family_of((0, 7)) == "power"
    # at most the root's 7 semitone classes... every family leaves most notes out
    assert all(len(t) <= 6 for t in TENSIONS.values())


def test_the_arranger_allows_no_more_on_strong_beats_than_the_yardstick() -> None:
    chords = _chords()
    assert len(chords) >= 250
    wider = {
        c.name: sorted(idiomatic_pcs(c) - strong_pcs(c))
        for c in chords
        if not idiomatic_pcs(c) <= strong_pcs(c)
    }
    assert not wider, f"the arranger's strong-beat table allows more than the tests' yardstick: {wider}"
    # and never a note outside chord tones + the family's tensions, whatever the scale says
    assert all(idiomatic_pcs(c) <= strong_pcs_any_scale(c) for c in chords)
    # it is not empty-handed either: every chord tone is allowed
    assert all(frozenset(c.pitch_classes) <= idiomatic_pcs(c) for c in chords)


def test_no_chord_allows_every_note_on_a_strong_beat() -> None:
    for c in _chords():
        assert len(strong_pcs(c)) <= 8, c.name
        assert len(idiomatic_pcs(c)) <= 8, c.name


PROGRESSION = ["C^7", "A-7", "D-7 G7", "C^7", "F^7", "Bb7", "E-7 A7", "D-7 G7"] * 2


def test_the_measurement_fails_a_part_a_semitone_off_on_strong_beats() -> None:
    """Negative control: the yardstick really rejects wrong notes on strong beats."""
    bars = bars_from_text(PROGRESSION)
    spec = PartSpec("p", "comping", low=48, high=84, params={"pattern": "pop"})
    notes = get_role("comping").generate(bars, spec, random.Random(1))
    ok, total = strong_beat_stats(notes, bars)
    assert total >= 30 and ok / total >= 0.95
    strong = [float(b.start) + off for b in bars for off in (0.0, 2.0)]

    def on_strong(n: object) -> bool:
        s, e = n.start, n.start + n.duration  # type: ignore[attr-defined]
        return any(s - 1e-6 <= t < e - 1e-6 for t in strong)

    shifted = [replace(n, pitch=n.pitch + 1) if on_strong(n) else n for n in notes]
    ok2, total2 = strong_beat_stats(shifted, bars)
    assert total2 == total
    assert ok2 / total2 < 0.95
