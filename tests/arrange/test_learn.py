"""Learning grooves from MIDI loops (files made here with mido)."""

from __future__ import annotations

import io
import tomllib

import mido
import pytest
from arrange_helpers import REGISTRY, bar, song, still

import backline.arrange.roles.drums  # noqa: F401  (required, not optional: an import bug fails)
from backline.arrange.engine import arrange
from backline.arrange.learn import (
    learn_drum_grid,
    learn_pattern,
    pattern_part_toml,
    style_with_drum_grid,
    style_with_part,
)
from backline.arrange.styles import style_from_dict
from backline.errors import StyleError


def _midi(
    notes: list[tuple[float, float, int, int]], channel: int, bars_meter: tuple[int, int] = (4, 4)
) -> bytes:
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("time_signature", numerator=bars_meter[0], denominator=bars_meter[1], time=0))
    ev = []
    for start, dur, pitch, vel in notes:
        ev.append((round(start * 480), 1, mido.Message("note_on", channel=channel, note=pitch, velocity=vel)))
        ev.append(
            (round((start + dur) * 480), 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0))
        )
    ev.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for t, _, m in ev:
        tr.append(m.copy(time=t - now))
        now = t
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def test_learn_drum_loop_to_grid_and_play_it() -> None:
    loop = [(b * 0.5, 0.1, 42, 80) for b in range(16)]  # two bars of eighth hats
    loop += [(0, 0.1, 36, 110), (2, 0.1, 36, 110), (4, 0.1, 36, 110), (6.5, 0.1, 36, 110)]
    loop += [(1, 0.1, 38, 100), (3, 0.1, 38, 100), (5, 0.1, 38, 100), (7, 0.1, 38, 100)]
    grid = learn_drum_grid(_midi(loop, 9))
    assert grid.steps == 2 and grid.bars == 2
    voices = dict(grid.voices)
    assert voices["kick"] == "8...8...8....8.."
    assert voices["snare"].replace("7", "x") == "..x...x...x...x."
    toml_text = grid.to_toml("drums.A")
    assert tomllib.loads(toml_text)["drums"]["A"]["steps"] == 2
    st = style_with_drum_grid(still("rock"), grid, "A")
    s = song(("A", [bar("C"), bar("F"), bar("G"), bar("C")]))
    arr = arrange(s, st, registry=REGISTRY, parts=["drums"], intro=False, ending=False)
    kicks = sorted(n.start for n in arr.part("drums").notes if n.pitch == 36)
    assert kicks == [0.0, 2.0, 4.0, 6.5, 8.0, 10.0, 12.0, 14.5]  # the loop repeats every two bars


def test_learn_bass_pattern_follows_any_chord() -> None:
    # over C7: root, third, fifth, seventh, then a scale step (D = 9th) and the octave
    loop = [(0, 1, 36, 100), (1, 1, 40, 90), (2, 1, 43, 90), (3, 0.5, 46, 90), (3.5, 0.5, 38, 80)]
    pat = learn_pattern(_midi(loop, 0), "C7")
    assert [e[2] for e in pat.events] == ["1", "3", "5", "7", "s1"]
    part_text = pattern_part_toml(pat, "bass", 33, 28, 60)
    raw = tomllib.loads('name = "learned"\n' + part_text)
    st0 = style_from_dict(raw, "learned.toml")
    st = style_with_part(still("rock"), st0.parts[0], replace_name="bass")
    s = song(("A", [bar("Fm7"), bar("D/F#"), bar("Bbmaj7"), bar(("Gsus4", 0), ("G7", 2))]))
    arr = arrange(s, st, registry=REGISTRY, parts=["bass"], intro=False, ending=False)
    notes = arr.part("bass").notes
    by_bar = [[n.pitch for n in notes if 4 * b <= n.start < 4 * b + 4] for b in range(4)]
    pcs = [[p % 12 for p in ps] for ps in by_bar]
    assert pcs[0] == [5, 8, 0, 3, 7]  # F Ab C Eb G over Fm7
    assert pcs[1][0] == 6  # the slash bass F# on the root's beat
    assert pcs[2][:4] == [10, 2, 5, 9]  # Bb D F A over Bbmaj7
    assert pcs[3][:2] == [7, 0]  # Gsus4: the "third" is the fourth
    assert all(28 <= p <= 60 for ps in by_bar for p in ps)


def test_learn_errors() -> None:
    with pytest.raises(StyleError, match="not a MIDI file"):
        learn_drum_grid(b"not midi at all")
    with pytest.raises(StyleError, match="no drum notes"):
        learn_drum_grid(_midi([(0, 1, 36, 100)], 0))
    with pytest.raises(StyleError, match="1 to 4 bars"):
        learn_pattern(_midi([(0, 1, 36, 100), (20, 1, 36, 100)], 0), "C")
