"""A pad swell is a held chord with a crescendo: a rising CC11 ramp across the swell bar,
in the arrangement, in the MIDI file and in the rendered stem (review finding 7)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import mido
import numpy as np
import pytest
from arrange_helpers import REGISTRY, bar, song, still

from backline.arrange.engine import arrange
from backline.arrange.events import Arrangement
from backline.arrange.midi_out import PPQ, arrangement_to_midi_bytes

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def _ballad() -> Arrangement:
    a = [bar("Cmaj7", tempo=80.0), bar("Am7", tempo=80.0), bar("Dm7", tempo=80.0), bar("G7", tempo=80.0)]
    b = [bar("Fmaj7", tempo=80.0), bar("Em7", tempo=80.0), bar("Dm7", tempo=80.0), bar("G7", tempo=80.0)]
    return arrange(song(("A", a), ("B", b), ("A", a)), still("jazz-ballad"), registry=REGISTRY, intro=False,
                   ending=False)  # fmt: skip


def _swell_bar(arr: Arrangement) -> tuple[float, float]:
    """Start and end beat of the bar before the B section (a swell bar in jazz-ballad)."""
    pb = next(b for b in arr.bars if b.written_bar == 3)
    return pb.start_beat, pb.start_beat + pb.beats


def test_swell_bar_holds_a_rising_cc11_ramp() -> None:
    arr = _ballad()
    pad = next(p for p in arr.parts if p.role == "pad")
    s, e = _swell_bar(arr)
    ramp = [c for c in pad.controls if c.controller == 11 and s - 1e-9 <= c.beat < e - 1e-9]
    assert len(ramp) >= 8
    values = [c.value for c in ramp]
    assert values == sorted(values) and values[-1] - values[0] >= 50, values
    assert any(c.beat == e and c.value == 127 for c in pad.controls)  # back to full on the downbeat
    # the MIDI file carries the same ramp on the pad's channel
    mid = mido.MidiFile(file=io.BytesIO(arrangement_to_midi_bytes(arr)))
    track = next(t for t in mid.tracks if t.name == pad.name)
    tick, got = 0, []
    for msg in track:
        tick += msg.time
        if msg.type == "control_change" and msg.control == 11 and s * PPQ <= tick < e * PPQ:
            assert msg.channel == pad.channel
            got.append(msg.value)
    assert got == values
    # the same arrangement twice: the same controls
    assert _ballad().part(pad.name).controls == pad.controls


@pytest.mark.skipif(
    not FLUIDR3.is_file() or importlib.util.find_spec("fluidsynth") is None, reason="needs FluidSynth"
)
def test_rendered_pad_gets_louder_across_the_swell_bar() -> None:
    from backline.render.soundfonts import choose_sounds
    from backline.render.synth import render_parts

    arr = _ballad()
    pad = next(p for p in arr.parts if p.role == "pad")
    sr = 22050
    res = render_parts(arr, choose_sounds(arr.parts, song_font=FLUIDR3), sr, parts=[pad.name])
    x = res.audio[pad.name].mean(axis=1)
    s, e = _swell_bar(arr)
    t0, t1 = arr.tempo_map.seconds_at(s), arr.tempo_map.seconds_at(e)
    # RMS over the first and the last quarter of the swell bar (the chord is held across it)
    q = (t1 - t0) / 4

    def rms(a: float, b: float) -> float:
        seg = x[int(a * sr) : int(b * sr)]
        return float(np.sqrt(np.mean(seg**2)))

    early, late = rms(t0 + 0.05, t0 + q), rms(t1 - q, t1 - 0.02)
    assert 20 * np.log10(late / early) > 3.0, (early, late)


def test_a_chord_held_into_a_swell_bar_fades_down_before_the_ramp() -> None:
    """A chord held from the bar before must not drop to the ramp's soft start at the bar
    line (heard as a cut in the middle of the chord): the expression falls in small steps
    first, then rises. A chord struck at the bar line starts the ramp soft at once."""
    held = [bar("Cmaj7", tempo=80.0), bar("Am7", tempo=80.0), bar("G7", tempo=80.0), bar("G7", tempo=80.0)]
    b = [bar("Fmaj7", tempo=80.0), bar("Em7", tempo=80.0)]
    arr = arrange(
        song(("A", held), ("B", b)), still("jazz-ballad"), registry=REGISTRY, intro=False, ending=False
    )
    pad = next(p for p in arr.parts if p.role == "pad")
    values = [c.value for c in pad.controls if c.controller == 11]
    assert values, "no swell in the test song"
    steps = np.diff([127, *values])
    assert steps.min() >= -20, values  # never a cut
    assert min(values) <= 70 and values[-1] == 127  # still a real swell
    # the struck case: the ballad's swell bar begins on a new chord, at the soft level
    ballad = _ballad()
    s, _ = _swell_bar(ballad)
    first = next(c for c in ballad.part(pad.name).controls if c.controller == 11 and c.beat >= s - 1e-9)
    assert first.beat == pytest.approx(s) and first.value <= 70
