"""The chart commands as a user runs them: real processes, JSON out, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backline", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_chord_json_in_order() -> None:
    r = run("chord", "Cmaj7", "F#m7b5", "Bb7/Ab", "/E", "N.C.", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [o["symbol"] for o in out] == ["Cmaj7", "F#m7b5", "Bb7/Ab", "/E", "N.C."]
    assert out[0] == {
        "symbol": "Cmaj7",
        "root": 0,
        "bass": 0,
        "quality": "maj7",
        "pitch_classes": [0, 4, 7, 11],
    }
    assert out[1]["root"] == 6 and out[1]["pitch_classes"] == [0, 4, 6, 9]
    assert out[2]["bass"] == 8 and out[2]["root"] == 10
    assert out[3]["root"] == 4 and out[3]["bass"] == 4
    assert out[4]["root"] is None and out[4]["pitch_classes"] == []


def test_unknown_chord_is_a_clear_error() -> None:
    r = run("chord", "C7", "Cmaj7#5#9#11q", "--json")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "Cmaj7#5#9#11q" in r.stderr and "'q'" in r.stderr


def test_missing_file_exit_2_no_traceback(tmp_path: Path) -> None:
    r = run("inspect", str(tmp_path / "nope.chart"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "no such file" in r.stderr


def test_unknown_extension(tmp_path: Path) -> None:
    f = tmp_path / "song.docx"
    f.write_text("hello")
    r = run("inspect", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr and ".docx" in r.stderr


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.chart"
    f.write_text("")
    r = run("inspect", str(f))
    assert r.returncode == 2 and "empty" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("ext", [".chart", ".json", ".musicxml"])
def test_inspect_json_and_convert_round_trip(tmp_path: Path, ext: str) -> None:
    pytest.importorskip("backline.formats.chart")
    from backline.data import demo_chart_path

    demo = demo_chart_path()
    r = run("inspect", str(demo), "--json")
    assert r.returncode == 0, r.stderr
    song = json.loads(r.stdout)["songs"][0]
    assert song["bars"] > 8 and song["chords"]
    assert song["time_signature"][1] in (4, 8)
    # start beats are increasing and durations fill the song
    starts = [c["start_beat"] for c in song["chords"]]
    assert starts == sorted(starts) and starts[0] == 0
    out = tmp_path / f"demo{ext}"
    mod = {".chart": "chart", ".json": "json_model", ".musicxml": "musicxml"}[ext]
    pytest.importorskip(f"backline.formats.{mod}")
    r = run("convert", str(demo), str(out))
    assert r.returncode == 0, r.stderr
    r2 = run("inspect", str(out), "--json")
    assert r2.returncode == 0, r2.stderr
    again = json.loads(r2.stdout)["songs"][0]
    assert again["bars"] == song["bars"]
    assert [(c["start_beat"], c["pitch_classes"]) for c in again["chords"]] == [
        (c["start_beat"], c["pitch_classes"]) for c in song["chords"]
    ]
