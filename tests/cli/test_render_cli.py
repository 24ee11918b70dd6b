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


def _report(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "render.json").read_text())


def _listed(rep: dict) -> set[str]:  # type: ignore[type-arg]
    out = {"render.json"}
    for v in rep["files"].values():
        if isinstance(v, str):
            out.add(v)
        elif "file" in v:
            out.add(v["file"])
        else:
            out.update(v.values())
    return out


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


FAST = ("--soundfont", str(FLUIDR3), "--sample-rate", "22050", "--no-cues", "-q")


def test_the_folder_holds_exactly_this_render(chart: Path, tmp_path: Path) -> None:
    # a second render into the same folder left the first one's stems/bass.wav, which
    # render.json no longer listed; files the user put there must stay all the same
    out = tmp_path / "out"
    code, text = _run("render", str(chart), "-o", str(out), "--stems", "--split", *FAST)
    assert code == 0, text
    first = _report(out)
    assert _files(out) == _listed(first) and "stems/bass.wav" in _listed(first)
    (out / "stems" / "notes.txt").write_text("mine")  # the user's own files
    (out / "take2.wav").write_bytes(b"not backline's")
    guitar = out / "stems" / "guitar.wav"
    guitar.write_bytes(guitar.read_bytes())  # the user edited this stem after the render
    code, text = _run(
        "render", str(chart), "-o", str(out), "--stems", "--mute", "bass,guitar", "--no-click", *FAST
    )
    assert code == 0, text
    second = _report(out)
    assert not (out / "stems" / "bass.wav").exists() and not (out / "stems" / "click.wav").exists()
    assert not (out / "split.wav").exists()
    assert _files(out) == _listed(second) | {"stems/notes.txt", "take2.wav", "stems/guitar.wav"}
    assert (out / "stems" / "notes.txt").read_text() == "mine"
    assert (out / "take2.wav").read_bytes() == b"not backline's"
    # no stems at all: the stems folder goes when backline's files were all that was in it
    (out / "stems" / "notes.txt").unlink()
    guitar.unlink()
    code, text = _run("render", str(chart), "-o", str(out), *FAST)
    assert code == 0, text
    assert not (out / "stems").exists()
    assert _files(out) == _listed(_report(out)) | {"take2.wav"}
    assert not [p for p in out.iterdir() if p.name.startswith(".backline-render")]


INTRO_END = (
    "title: Framed\nkey: C\ntempo: 150\ntime: 4/4\nstyle: pop\n\n"
    "[Intro]\n| C | G |\n\n[Verse]\n| C | Am | F | G |\n\n[Outro]\n| F | C End |\n"
)


def test_render_plays_the_charts_own_intro_and_ending(tmp_path: Path) -> None:
    # a chart with its own [Intro] and End got the style's intro before it and its
    # ending after it; --intro/--ending (as arrange has them) still ask for them
    chart = tmp_path / "framed.chart"
    chart.write_text(INTRO_END)
    out = tmp_path / "own"
    code, text = _run("render", str(chart), "-o", str(out), *FAST)
    assert code == 0, text
    rep = _report(out)
    assert [b["written_bar"] for b in rep["bars"]] == list(range(8))
    assert rep["bars"][0]["section"] == "Intro" and rep["chart_start_seconds"] == rep["count_in_seconds"]
    out2 = tmp_path / "style"
    code, text = _run("render", str(chart), "-o", str(out2), "--intro", "--ending", *FAST)
    assert code == 0, text
    rep2 = _report(out2)
    assert rep2["bars"][0]["written_bar"] is None and rep2["bars"][-1]["written_bar"] is None
    assert rep2["chart_start_seconds"] > rep2["count_in_seconds"]


def test_loop_numbers_sections_from_1_and_the_style_frames_the_loop(tmp_path: Path) -> None:
    chart = tmp_path / "framed.chart"
    chart.write_text(INTRO_END)
    code, text = _run("render", str(chart), "-o", str(tmp_path / "x"), "--loop", "4:2", *FAST)
    assert code == 2 and "no section number 4" in text and "1:Intro, 2:Verse, 3:Outro" in text
    out = tmp_path / "loop"
    code, text = _run(
        "render", str(chart), "-o", str(out), "--loop", "2:2", "--no-intro", "--no-ending", *FAST
    )
    assert code == 0, text
    assert [b["section"] for b in _report(out)["bars"]] == ["Verse"] * 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "aiff"], "aiff"),
        (["--bit-depth", "12"], "bit depth"),
        (["--count-in", "-1"], "count-in"),
        (["--mute", "nonexist"], "nonexist"),
        (["--program", "keys=200"], "0-127"),
        (["--program", "keys"], "PART=VALUE"),
        (["--loop", "Verse:0"], "SECTION:N"),
        (["--ramp", "fast"], "START%:STEP%"),
        (["--ceiling", "3"], "ceiling"),
        (["--key", "Am"], "give a major key, e.g. A"),
        (["--key", ""], "--key needs a key"),
    ],
)
def test_user_mistakes_exit_2(chart: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    code, text = _run("render", str(chart), "-o", str(out), *args, "-q")
    assert code == 2, text
    assert message in text and "Traceback" not in text
    assert not out.exists()


def test_render_prints_the_readers_warnings(tmp_path: Path) -> None:
    pytest.importorskip("backline.formats.chordpro")
    cho = tmp_path / "w.cho"
    cho.write_text("{title: W}\n{key: C}\n[C]Hello [Xq7]world [G]again [C]now\n")
    code, text = _run("render", str(cho), "-o", str(tmp_path / "out"), *FAST)
    assert code == 0, text
    assert "warning:" in text and "Xq7" in text and "not played" in text


def test_render_help_names_only_what_it_reads(tmp_path: Path) -> None:
    code, text = _run("render", "--help")
    assert code == 0 and "MIDI is an output" in text and "MusicXML, MIDI" not in text
    mid = tmp_path / "song.mid"
    mid.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0")
    code, text = _run("render", str(mid), "-o", str(tmp_path / "out"), "-q")
    assert code == 2 and "does not read them" in text
