"""The mixer: strips (EQ, compression, level, pan, reverb), mute/solo, stems that sum to the mix."""

from __future__ import annotations

import numpy as np
import pytest
from render_helpers import FLUIDR3, make_arrangement, needs_fonts

from backline.arrange.events import Part
from backline.errors import RenderError
from backline.render.loudness import integrated_loudness
from backline.render.mixer import ROLE_STRIPS, Strip, mix_parts, pan_gains, process_strip, strip_for
from backline.render.soundfonts import choose_sounds
from backline.render.synth import render_parts

SR = 22050


def _band_db(x: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x.mean(axis=1))) ** 2
    f = np.fft.rfftfreq(x.shape[0], 1 / SR)
    return float(10 * np.log10(spec[(f >= lo) & (f < hi)].sum() + 1e-20))


def test_pan_law() -> None:
    assert pan_gains(0.0) == pytest.approx((1.0, 1.0))
    left, right = pan_gains(-1.0)
    assert right == pytest.approx(0.0, abs=1e-12) and left == pytest.approx(np.sqrt(2))
    l2, r2 = pan_gains(0.5)
    assert l2**2 + r2**2 == pytest.approx(2.0)


def test_role_defaults_leave_the_bottom_to_bass_and_kick() -> None:
    assert ROLE_STRIPS["bass"].reverb_send == 0.0
    assert (ROLE_STRIPS["comping"].highpass_hz or 0) >= 150
    assert (ROLE_STRIPS["pad"].highpass_hz or 0) >= 150
    assert ROLE_STRIPS["drums"].highpass_hz is not None and ROLE_STRIPS["drums"].highpass_hz < 40
    # presence cuts, never boosts, on the accompaniment
    for role in ("comping", "guitar", "pad"):
        assert all(g <= 0 for f, g, _ in ROLE_STRIPS[role].eq if f >= 2000)


def test_strip_sets_the_level_and_high_passes(rng: np.random.Generator) -> None:
    noise = (rng.standard_normal((SR * 4, 2)) * 0.05).astype(np.float32)
    strip = Strip(level_lufs=-23.0, highpass_hz=200.0, reverb_send=0.0)
    y, _ = process_strip(noise, SR, strip)
    assert integrated_loudness(y, SR) == pytest.approx(-23.0, abs=0.3)
    lows_in = _band_db(noise, 20, 60) - _band_db(noise, 1000, 4000)
    lows_out = _band_db(y, 20, 60) - _band_db(y, 1000, 4000)
    assert lows_in - lows_out > 15.0  # 20-60 Hz at least 15 dB down relative to the mids


@pytest.mark.parametrize(
    ("reverb", "send"), [(None, 0.0), (0.19, 0.19), (0.2, 0.2), (0.21, 0.21), (0.0, 0.0)]
)
def test_a_style_reverb_is_honoured_even_at_0_2(reverb: float | None, send: float) -> None:
    # 0.2 was the "not set" sentinel: a bass asking for exactly 0.2 got its role's 0.0
    part = Part(name="bass", role="bass", program=33, channel=1, notes=(), reverb=reverb)
    assert strip_for(part).reverb_send == send
    pad = Part(name="pad", role="pad", program=89, channel=2, notes=())  # not set: the role's
    assert pad.reverb is None and strip_for(pad).reverb_send == ROLE_STRIPS["pad"].reverb_send == 0.3


def test_strip_rejects_unknown_settings() -> None:
    part = make_arrangement(1).part("bass")
    with pytest.raises(RenderError, match="bad mixer setting"):
        strip_for(part, {"wobble": 3})
    assert strip_for(part, {"gain_db": 2.0}).gain_db == 2.0


@needs_fonts
def test_mute_and_solo_touch_only_their_parts() -> None:
    arr = make_arrangement(2)
    raw = render_parts(arr, choose_sounds(arr.parts, song_font=FLUIDR3), SR).audio
    strips = {p.name: strip_for(p) for p in arr.parts}
    full = mix_parts(raw, strips, SR)
    muted = mix_parts(raw, {**strips, "keys": Strip(mute=True)}, SR)
    assert set(muted.stems) == {"drums", "bass", "pad"}
    for name in muted.stems:
        assert np.array_equal(muted.stems[name], full.stems[name])
    # the muted mix is the full mix less the keys stem
    diff = full.mix - full.stems["keys"] - muted.mix
    assert np.abs(diff).max() < 1e-5
    solo = mix_parts(raw, {**strips, "bass": strip_for(arr.part("bass"), {"solo": True})}, SR)
    assert list(solo.stems) == ["bass"]
    # stems sum to the mix
    total = sum(full.stems.values())
    err = 20 * np.log10(np.sqrt(np.mean((total - full.mix) ** 2)) / np.sqrt(np.mean(full.mix**2)) + 1e-30)
    assert err < -100
