"""Hand-built arrangements for the render tests (no arranger needed)."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from backline.arrange.events import Arrangement, NoteEvent, Part, PlanBar
from backline.model.chord import parse_chord
from backline.model.form import TempoMap
from backline.model.song import Bar, ChordEvent, Section, Song

# C - Am - F - G, two bars each chord pattern repeated
_CHORDS = [(48, (60, 64, 67)), (45, (57, 60, 64)), (41, (57, 60, 65)), (43, (55, 59, 62))]


def make_arrangement(bars: int = 4, tempo: float = 120.0, *, seed: int = 0) -> Arrangement:
    """A four-part band (drums, bass, piano, pad) playing I-vi-IV-V in 4/4."""
    drums: list[NoteEvent] = []
    bass: list[NoteEvent] = []
    keys: list[NoteEvent] = []
    pad: list[NoteEvent] = []
    plan: list[PlanBar] = []
    song_bars: list[Bar] = []
    for b in range(bars):
        root, triad = _CHORDS[b % 4]
        t0 = 4.0 * b
        plan.append(PlanBar(b, b, "A", t0, t0 * 60 / tempo, 4.0, 4, 4, tempo))
        names = ["C", "Am", "F", "G"]
        song_bars.append(Bar((ChordEvent(Fraction(0), parse_chord(names[b % 4])),), tempo=tempo))
        for beat in range(4):
            drums.append(NoteEvent(t0 + beat, 0.25, 36 if beat % 2 == 0 else 38, 100))
            for e in (0.0, 0.5):
                drums.append(NoteEvent(t0 + beat + e, 0.25, 42, 70 + 10 * (e == 0)))
            bass.append(NoteEvent(t0 + beat, 0.9, root - 12 if beat % 2 == 0 else root, 95))
        for beat in (0.0, 1.5, 2.5):
            for p in triad:
                keys.append(NoteEvent(t0 + beat, 0.8, p, 80))
        for p in triad:
            pad.append(NoteEvent(t0, 4.0, p + 12, 60))
    parts = (
        Part("drums", "drums", 0, 9, tuple(drums), is_drum=True, reverb=0.1),
        Part("bass", "bass", 33, 1, tuple(bass), reverb=0.0),
        Part("keys", "comping", 0, 2, tuple(keys), pan=-0.2),
        Part("pad", "pad", 89, 3, tuple(pad), pan=0.2, reverb=0.4),
    )
    song = Song("Test Song", (Section("A", tuple(song_bars)),))
    tm = TempoMap.from_segments([(0.0, tempo)])
    return Arrangement(song, "test", seed, parts, tuple(plan), tm)


FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

needs_fonts = pytest.mark.skipif(
    not FLUIDR3.is_file() or importlib.util.find_spec("fluidsynth") is None,
    reason="needs FluidR3_GM (fluid-soundfont-gm) and pyfluidsynth",
)


def band_mix(bars: int, sample_rate: int) -> np.ndarray:
    """:func:`make_arrangement` rendered with FluidR3 and mixed through the default strips
    (the pre-master mix, (n, 2)); skips the test when FluidR3 is missing."""
    from backline.render.mixer import mix_parts, strip_for
    from backline.render.soundfonts import choose_sounds
    from backline.render.synth import render_parts

    if not FLUIDR3.is_file():
        pytest.skip("needs FluidR3_GM")
    arr = make_arrangement(bars)
    raw = render_parts(arr, choose_sounds(arr.parts, song_font=FLUIDR3), sample_rate).audio
    return mix_parts(raw, {p.name: strip_for(p) for p in arr.parts}, sample_rate).mix
