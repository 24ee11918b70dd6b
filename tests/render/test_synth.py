"""SoundFont discovery/validation and offline synthesis on real SoundFonts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from render_helpers import FLUIDR3, make_arrangement, needs_fonts

from backline.arrange.events import NoteEvent
from backline.errors import SoundFontError
from backline.render.soundfonts import AVL_GM_MAP, choose_sounds, read_presets, validate_soundfont
from backline.render.synth import FLUID_BLOCK, render_parts

pytestmark = needs_fonts


def test_missing_and_corrupt_soundfonts_are_named(tmp_path: Path) -> None:
    with pytest.raises(SoundFontError, match="not found"):
        validate_soundfont(tmp_path / "nope.sf2")
    junk = tmp_path / "junk.sf2"
    junk.write_bytes(b"this is not a soundfont at all" * 10)
    with pytest.raises(SoundFontError, match="not a SoundFont"):
        validate_soundfont(junk)
    cut = tmp_path / "cut.sf2"
    cut.write_bytes(FLUIDR3.read_bytes()[:4096])
    with pytest.raises(SoundFontError, match="truncated"):
        validate_soundfont(cut)


def test_fluidr3_is_general_midi() -> None:
    presets = read_presets(FLUIDR3)
    assert {p.program for p in presets if p.bank == 0} == set(range(128))
    assert any(p.bank == 128 and p.program == 0 for p in presets)


def test_defaults_drums_on_avl_kit_and_overrides() -> None:
    arr = make_arrangement(1)
    sounds = choose_sounds(arr.parts)
    drums = sounds["drums"]
    if "LV2" in drums.font.name:  # the AVL kit is installed
        assert drums.note_map is AVL_GM_MAP and drums.extra_font is not None
        assert len(read_presets(drums.font)) == 1
        assert set(AVL_GM_MAP.values()) <= set(range(36, 62))
    assert sounds["bass"].program == 33 and sounds["bass"].bank == 0
    over = choose_sounds(arr.parts, programs={"bass": 34}, part_fonts={"keys": FLUIDR3})
    assert over["bass"].program == 34
    assert over["keys"].font == FLUIDR3.resolve()
    with pytest.raises(SoundFontError, match="unknown part"):
        choose_sounds(arr.parts, programs={"tuba": 58})


def _onset(x: np.ndarray, thresh: float = 1e-7) -> int:
    return int(np.argmax(np.abs(x).max(axis=1) > thresh))


def test_note_starts_on_time_and_render_is_deterministic() -> None:
    sr = 44100
    arr = make_arrangement(2, tempo=120.0)
    # bass plays its first note at beat 0; with a 1 s offset it must start at 1.0 s
    sounds = choose_sounds(arr.parts, song_font=FLUIDR3)
    a = render_parts(arr, sounds, sr, offset_seconds=1.0, parts=["bass", "pad"])
    b = render_parts(arr, sounds, sr, offset_seconds=1.0, parts=["pad"])
    assert a.backend == "fluidsynth"
    on = _onset(a.audio["bass"])
    assert abs(on - sr) <= FLUID_BLOCK // 2 + 2  # block rounding: <= 0.73 ms
    c = render_parts(arr, sounds, sr, offset_seconds=1.0, parts=["bass", "pad"])
    assert np.array_equal(a.audio["bass"], c.audio["bass"])
    assert np.array_equal(a.audio["pad"], b.audio["pad"])  # a part never depends on the others
    assert a.audio["bass"].dtype == np.float32 and a.audio["bass"].shape[1] == 2


def test_tinysoundfont_fallback_plays_drums() -> None:
    pytest.importorskip("tinysoundfont")
    sr = 22050
    arr = make_arrangement(1)
    sounds = choose_sounds(arr.parts, song_font=FLUIDR3)
    r = render_parts(arr, sounds, sr, parts=["drums"], backend="tinysoundfont")
    assert r.backend == "tinysoundfont"
    x = r.audio["drums"]
    assert np.abs(x).max() > 0.01
    assert abs(_onset(x) - 0) <= 2  # kick on beat 0, sample-accurate
    r2 = render_parts(arr, sounds, sr, parts=["drums"], backend="tinysoundfont")
    assert np.array_equal(x, r2.audio["drums"])


def test_unmapped_drum_note_uses_the_gm_kit() -> None:
    arr = make_arrangement(1)
    sounds = choose_sounds(arr.parts)
    if sounds["drums"].note_map is None:
        pytest.skip("AVL kit not installed")
    from dataclasses import replace

    conga = (NoteEvent(1.0, 0.5, 63, 110),)  # open high conga: not in the AVL kit
    arr = replace(arr, parts=(replace(arr.part("drums"), notes=conga),))
    x = render_parts(arr, sounds, 22050).audio["drums"]
    assert np.abs(x[int(0.5 * 22050) : int(0.8 * 22050)]).max() > 0.01
