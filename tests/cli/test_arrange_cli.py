"""``backline arrange`` and ``backline styles``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mido
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arrange"))
from arrange_helpers import aaba

from backline.cli.app import app
from backline.formats import save_song

runner = CliRunner()


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    pytest.importorskip("backline.formats.json_model")
    return save_song(aaba(), tmp_path / "song.json")


def test_arrange_one_song_with_plan(chart: Path, tmp_path: Path) -> None:
    out, plan = tmp_path / "out.mid", tmp_path / "plan.json"
    res = runner.invoke(app, ["arrange", str(chart), "--style", "rock", "--seed", "5", "--tempo", "100",
                              "--no-intro", "-o", str(out), "--plan", str(plan)])  # fmt: skip
    assert res.exit_code == 0, res.output
    mid = mido.MidiFile(out)
    assert mid.type == 1 and len(mid.tracks) == 6
    data = json.loads(plan.read_text())
    assert data["style"] == "rock" and data["seed"] == 5 and data["chart_start_seconds"] == 0
    assert len(data["bars"]) == 32 + 1  # no intro; the held final chord
    first = data["bars"][0]
    assert set(first) >= {"index", "written_bar", "section", "start_beat", "start_seconds"}
    assert data["bars"][1]["start_seconds"] == pytest.approx(4 * 60 / 100)
    # same seed, same bytes
    out2 = tmp_path / "again.mid"
    runner.invoke(app, ["arrange", str(chart), "--style", "rock", "--seed", "5", "--tempo", "100",
                        "--no-intro", "-o", str(out2)])  # fmt: skip
    assert out2.read_bytes() == out.read_bytes()


def test_arrange_errors_exit_2_without_traceback(chart: Path, tmp_path: Path) -> None:
    for args, message in (
        (["--style", "zydeco-metal"], "unknown style"),
        (["--key", "H"], "not a key"),
    ):
        res = runner.invoke(app, ["arrange", str(chart), *args, "-o", str(tmp_path / "x.mid")])
        assert res.exit_code == 2, res.output
        assert message in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["arrange", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.mid")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_arrange_playlist_all(tmp_path: Path) -> None:
    pytest.importorskip("backline.formats.ireal")
    from corpora import corpora_path

    src = corpora_path("ireal", "blues50.txt")
    res = runner.invoke(app, ["arrange", str(src), "--all", "-o", str(tmp_path / "out"), "--no-ending"])
    assert res.exit_code == 0, res.output
    mids = sorted((tmp_path / "out").glob("*.mid"))
    plans = sorted((tmp_path / "out").glob("*.plan.json"))
    assert len(mids) == len(plans) == 54
    assert "wrote 54 of 54" in res.output


def test_styles_list_and_json() -> None:
    res = runner.invoke(app, ["styles", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    names = {s["name"] for s in data}
    assert len(data) >= 24 and {"medium-swing", "bossa-nova", "odd-7"} <= names
    swing = next(s for s in data if s["name"] == "medium-swing")
    assert swing["meters"] == ["4/4", "2/2"] and swing["tempo"] == [90, 220]
    assert [p["role"] for p in swing["parts"]][:2] == ["drums", "walking"]
    plain = runner.invoke(app, ["styles"])
    assert plain.exit_code == 0 and "bossa-nova" in plain.output


def test_song_selection_in_a_playlist(tmp_path: Path) -> None:
    pytest.importorskip("backline.formats.ireal")
    from corpora import corpora_path

    src = corpora_path("ireal", "blues50.txt")
    res = runner.invoke(app, ["arrange", str(src), "-o", str(tmp_path / "x.mid")])
    assert res.exit_code == 2 and "--song" in res.output
    res = runner.invoke(
        app, ["arrange", str(src), "--song", "2", "--style", "blues-shuffle", "-o", str(tmp_path / "x.mid")]
    )
    assert res.exit_code == 0, res.output
