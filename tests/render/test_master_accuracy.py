"""The master's loudness accuracy at the tolerance it promises.

src/backline/render/master.py searches the gain "until the loudness is within 0.1 LU of
target" (``MasterSettings.tolerance_lu``). The other master tests allow 0.5 LU, which a
master four times looser still meets. Here, with the default settings:

- the master's own reading (``MasterReport.integrated_lufs``) is within 0.1 LU of the target;
- pyloudnorm (an independent BS.1770 meter) reads within 0.15 LU of it: the promised
  0.1 LU plus 0.05 LU, the most our meter and pyloudnorm disagree (test_master.py).

Measured when this was written: at most 0.09 LU off (pyloudnorm), 0.03 LU on average;
with ``tolerance_lu`` 0.45 up to 0.35 LU off.
"""

from __future__ import annotations

import numpy as np
import pytest
from render_helpers import band_mix as render_band_mix
from render_helpers import needs_fonts

from backline.render.master import MasterSettings, master

pyln = pytest.importorskip("pyloudnorm")
SR = 22050
PROMISED_LU = 0.1
METER_AGREEMENT_LU = 0.05
TARGETS = (-11.0, -14.0, -18.0)


def _noise_mix(seed: int) -> np.ndarray:
    """Swelling noise with spikes: the limiter has work to do at the louder targets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SR * 6, 2)) * np.linspace(0.01, 0.3, SR * 6)[:, None]
    x[::3000] *= 6
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def band_mix() -> np.ndarray:
    return render_band_mix(4, SR)


def _errors(x: np.ndarray, target: float) -> tuple[float, float]:
    y, rep = master(x, SR, MasterSettings(lufs_target=target))
    measured = pyln.Meter(SR).integrated_loudness(np.asarray(y, np.float64))
    return rep.integrated_lufs - target, measured - target


def test_the_promise_is_what_the_settings_say() -> None:
    assert MasterSettings().tolerance_lu == PROMISED_LU


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_noise_mixes_land_within_0_1_lu(seed: int) -> None:
    x = _noise_mix(seed)
    for target in TARGETS:
        own, ref = _errors(x, target)
        assert abs(own) <= PROMISED_LU + 1e-9, (
            f"seed {seed}, {target} LUFS: the master reads {own:+.3f} LU off"
        )
        assert abs(ref) <= PROMISED_LU + METER_AGREEMENT_LU, f"seed {seed}, {target} LUFS: {ref:+.3f} LU off"


@needs_fonts
def test_a_band_mix_lands_within_0_1_lu(band_mix: np.ndarray) -> None:
    for target in TARGETS:
        own, ref = _errors(band_mix, target)
        assert abs(own) <= PROMISED_LU + 1e-9, f"{target} LUFS: the master reads {own:+.3f} LU off"
        assert abs(ref) <= PROMISED_LU + METER_AGREEMENT_LU, f"{target} LUFS: {ref:+.3f} LU off"


def test_on_average_much_closer_than_the_tolerance() -> None:
    errs = [abs(_errors(_noise_mix(seed), t)[1]) for seed in (7, 8) for t in TARGETS]
    assert float(np.mean(errs)) < PROMISED_LU / 2, errs
