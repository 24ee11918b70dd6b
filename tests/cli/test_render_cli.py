"""``backline render`` and ``backline demo`` end to end (a tiny chart, FluidR3 for speed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backline.cli.app import app

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
pytestmark = pytest.mark.skipif(not FLUIDR3.is_file(), reason="needs FluidR3_GM")
pytest.importorskip("backline.arrange.engine")

CHART = "title: Tiny\nkey: C\ntempo: 150\ntime: 4/4\nstyle: pop\n\n[Verse]\n| C | Am | F | G |\n"
runner = CliRunner()


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.chart"
    p.write_text(CHART)
    return p


def _run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.output


def test_render_writes_the_asked_files(chart: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = _run(
        "render", str(chart), "-o", str(out), "--stems", "--split", "--format", "flac", "--sample-rate", "22050",
        "--soundfont", str(FLUIDR3), "--no-cues", "--mute", "pad", "--count-in", "2", "--lufs", "-16", "-q",
    )  # fmt: skip
    assert code == 0, text
    rep = json.loads((out / "render.json").read_text())
    assert rep["format"] == "flac" and rep["sample_rate"] == 22050 and rep["count_in_bars"] == 2
    assert (out / rep["files"]["mix"]).is_file() and (out / "split.flac").is_file()
    assert rep["integrated_lufs"] == pytest.approx(-16.0, abs=0.5)
    assert rep["muted"] == ["pad"] and "pad" not in rep["files"]["stems"]
    assert "rendered" in text


def test_render_errors_are_clear(chart: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = _run("render", str(chart), "-o", str(out), "--soundfont", str(tmp_path / "none.sf2"), "-q")
    assert code == 2 and "SoundFont not found" in text
    code, text = _run("render", str(chart), "-o", str(out), "--mute", "tuba", "-q")
    assert code != 0 and "tuba" in text and "Traceback" not in text
    code, text = _run("render", str(chart), "-o", str(out), "--format", "aiff", "-q")
    assert code != 0 and "aiff" in text
    code, text = _run("render", str(chart), "-o", str(out), "--loop", "Verse", "-q")
    assert code != 0 and "SECTION:N" in text
    assert not out.exists() or not any(out.iterdir())
