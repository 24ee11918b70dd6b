"""``backline arrange`` and ``backline styles``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arrange"))
from arrange_helpers import aaba

from backline.cli.app import app
from backline.formats import save_song

runner = CliRunner()


@pytest.fixture
def chart(tmp_path: Path) -> Path:
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
    from corpora import corpora_path

    src = corpora_path("ireal", "blues50.txt")
    res = runner.invoke(app, ["arrange", str(src), "-o", str(tmp_path / "x.mid")])
    assert res.exit_code == 2 and "--song" in res.output
    res = runner.invoke(
        app, ["arrange", str(src), "--song", "2", "--style", "blues-shuffle", "-o", str(tmp_path / "x.mid")]
    )
    assert res.exit_code == 0, res.output


def test_a_plan_that_cannot_be_written_leaves_no_midi(chart: Path, tmp_path: Path) -> None:
    # the MIDI was written, then the plan failed (exit 2): now neither is
    out = tmp_path / "out.mid"
    res = runner.invoke(app, ["arrange", str(chart), "-o", str(out), "--plan", "/proc/p.json"])
    assert res.exit_code == 2, res.output
    assert "/proc" in res.output and "cannot write out.mid" not in res.output
    assert not out.exists() and list(tmp_path.glob(".out.mid*")) == []
    # the plan may not be the input, nor the MIDI
    before = chart.read_bytes()
    res = runner.invoke(app, ["arrange", str(chart), "-o", str(out), "--plan", str(chart)])
    assert res.exit_code == 2 and "is the input file" in res.output and chart.read_bytes() == before
    res = runner.invoke(app, ["arrange", str(chart), "-o", str(out), "--plan", str(out)])
    assert res.exit_code == 2 and "same file" in res.output and not out.exists()


def test_plan_with_all_is_refused(chart: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["arrange", str(chart), "--all", "-o", str(tmp_path / "d"), "--plan", "p.json"])
    assert res.exit_code == 2 and "beside its MIDI" in res.output
    assert not (tmp_path / "d").exists()


def test_key_must_keep_the_mode_and_not_be_blank(chart: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.mid"
    song = json.loads(chart.read_text())
    mode_key = "Am" if not str(song.get("key", "C")).endswith("m") else "C major"
    for args, message in (([mode_key], "a change of mode"), ([""], "--key needs a key")):
        res = runner.invoke(app, ["arrange", str(chart), "--key", *args, "-o", str(out)])
        assert res.exit_code == 2, res.output
        assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_intro_and_ending_defaults_follow_the_chart(tmp_path: Path) -> None:
    # the demo opens with its own [Intro] and ends on "Fmaj7~ End": no style intro
    # before it, no style ending after it; a bare chart still gets both
    from backline.data import demo_chart_path
    from backline.formats import load_song
    from backline.model.form import expand

    demo = Path(demo_chart_path())
    plan = tmp_path / "demo.json"
    res = runner.invoke(app, ["arrange", str(demo), "-o", str(tmp_path / "demo.mid"), "--plan", str(plan)])
    assert res.exit_code == 0, res.output
    bars = json.loads(plan.read_text())["bars"]
    assert [b["written_bar"] for b in bars] == [pb.written for pb in expand(load_song(demo))]
    bare = tmp_path / "bare.chart"
    bare.write_text("title: Bare\nkey: C\nstyle: pop\n\n[A]\n| C | Am | F | G |\n")
    for args, extra in (([], True), (["--no-intro", "--no-ending"], False)):
        res = runner.invoke(
            app, ["arrange", str(bare), "-o", str(tmp_path / "b.mid"), "--plan", str(plan), *args]
        )
        assert res.exit_code == 0, res.output
        bars = json.loads(plan.read_text())["bars"]
        assert (bars[0]["written_bar"] is None) is extra and (bars[-1]["written_bar"] is None) is extra


def test_styles_never_cut_a_name_at_80_columns() -> None:
    import os
    import subprocess

    env = {**os.environ, "COLUMNS": "80"}
    r = subprocess.run(
        [sys.executable, "-m", "backline", "styles"], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout
    assert max(map(len, r.stdout.splitlines())) <= 80
    shown = {line.split("│")[1].strip() for line in r.stdout.splitlines() if line.startswith("│")}
    names = {s["name"] for s in json.loads(runner.invoke(app, ["styles", "--json"]).output)}
    assert names <= shown, names - shown


def test_styles_preview_renders_one_file_to_hear(tmp_path: Path) -> None:
    """A style heard before it is chosen: one mastered file (no click, no cues), in a new
    folder, in the key asked for; nothing else left beside it."""
    import soundfile as sf

    out = tmp_path / "previews" / "swing.flac"
    res = runner.invoke(app, ["styles", "--preview", "Up Tempo Swing", "-o", str(out), "--key", "Bb", "-q"])
    assert res.exit_code == 0, res.output
    assert "up-tempo-swing: " in res.output and "in Bb, 4/4 at 240 BPM" in res.output
    assert [p.name for p in out.parent.iterdir()] == ["swing.flac"]
    info = sf.info(str(out))
    assert info.channels == 2 and info.samplerate == 44100
    seconds = float(res.output.split(" BPM, ")[1].split(" s,")[0])
    assert info.frames / info.samplerate == pytest.approx(seconds, abs=0.05)
    # 16 bars and the style's intro and ending at 240 BPM: well under a minute
    assert 16 < seconds < 45
    mix, sr = sf.read(out, dtype="float32")
    assert np.abs(mix[: sr // 10]).max() > 0.01  # the band at once: no silent count-in bar


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preview", "bosa"], "unknown style 'bosa'; did you mean bossa-nova?"),
        (["--preview", "waltz", "--time", "4/4"], "waltz plays 3/4, 3/8, 9/8, not 4/4"),
        (
            ["--preview", "rock", "-o", "rock.txt"],
            "rock.txt: the preview is a .wav, .flac, .mp3 or .ogg file",
        ),
        (["--tempo", "100"], "-o, --time, --tempo and --key go with --preview NAME"),
        (["--preview", "rock", "--tempo", "0"], "--tempo: tempo 0 is outside 10-400 bpm"),
    ],
)
def test_styles_preview_mistakes_are_said_plainly(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be written where it runs
    res = runner.invoke(app, ["styles", *args])
    assert res.exit_code != 0
    assert message in res.output and "Traceback" not in res.output
    assert not list(tmp_path.iterdir())


def test_arrange_tempo_out_of_range_is_said_like_render_says_it(tmp_path: Path) -> None:
    # it was typer's boxed 'Invalid value for --tempo', where render says it in one line
    chart = tmp_path / "t.chart"
    chart.write_text("title: T\nkey: C\n| C | F |\n")
    for args in (
        ["arrange", str(chart), "-o", str(tmp_path / "t.mid")],
        ["render", str(chart), "-o", str(tmp_path / "r")],
    ):
        res = runner.invoke(app, [*args, "--tempo", "0"])
        assert res.exit_code == 2, res.output
        assert res.output.strip().endswith("tempo 0 BPM is outside 10..400") and "╭" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.chart"]


def test_arrange_says_when_the_tempo_is_far_off_the_style(tmp_path: Path) -> None:
    chart = tmp_path / "t.chart"
    chart.write_text("title: T\nkey: C\n| C | F |\n")
    res = runner.invoke(
        app, ["arrange", str(chart), "--style", "pop-ballad", "--tempo", "130", "-o", str(tmp_path / "t.mid")]
    )
    assert res.exit_code == 0, res.output
    assert "warning: 130 BPM is far above the pop-ballad style's range (50-96 BPM)" in res.output
    assert "; pop plays it" in res.output
