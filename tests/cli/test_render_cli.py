"""``backline render`` and ``backline demo`` end to end (a tiny chart, FluidR3 for speed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from backline.cli.app import app

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
pytestmark = pytest.mark.skipif(not FLUIDR3.is_file(), reason="needs FluidR3_GM")

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


def test_click_sound_subdivision_and_voice_folder_from_the_command_line(tmp_path: Path) -> None:
    """The click's sound and subdivision and the user's recorded cues were Python-only."""
    import soundfile as sf

    from backline.render.click import click_sound

    chart = tmp_path / "two.chart"
    chart.write_text(CHART.replace("| C | Am | F | G |", "| C | Am |\n[Chorus]\n| F | G |"))
    voices = tmp_path / "voices"
    voices.mkdir()
    t = np.arange(int(0.3 * 22050)) / 22050
    sf.write(voices / "chorus.wav", 0.3 * np.sin(2 * np.pi * 500.0 * t), 22050)
    out = tmp_path / "out"
    code, text = _run(
        "render", str(chart), "-o", str(out), "--stems", "--sample-rate", "22050", "--soundfont", str(FLUIDR3),
        "--click-sound", "wood", "--subdivision", "8ths", "--voice-dir", str(voices), "--count-in", "1", "-q",
    )  # fmt: skip
    assert code == 0, text
    rep = _report(out)
    click = sf.read(out / rep["files"]["click"], dtype="float32")[0]
    wood, classic = click_sound("wood", 22050, 0), click_sound("classic", 22050, 0)
    n = min(len(wood), len(classic))
    # the count-in's downbeat is the wood click (at the click stem's level), not the classic one
    assert np.corrcoef(click[:n], wood[:n])[0, 1] > 0.999
    assert np.corrcoef(click[:n], classic[:n])[0, 1] < 0.9
    eighth = round(0.2 * 22050)  # 150 bpm
    assert np.abs(click[eighth : eighth + 100]).max() > 0.01  # an eighth between the beats
    # "Chorus" is said by the user's recording: a 500 Hz tone
    said = [c for c in rep["cues"] if c["text"] == "Chorus"]
    assert len(said) == 1 and said[0]["section"] == "Chorus"
    cues = sf.read(out / rep["files"]["cues"], dtype="float32")[0]
    seg = cues[round(said[0]["start_seconds"] * 22050) : round(said[0]["end_seconds"] * 22050)]
    spec = np.abs(np.fft.rfft(seg))
    assert abs(np.argmax(spec) * 22050 / len(seg) - 500.0) < 10


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
    assert not out.exists()  # nothing written, and no empty folder left


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
        # these failed (exit 1) after the arrangement, rendered anyway, or gave NaN audio
        (["--sample-rate", "8000"], "unsupported sample rate 8000 Hz: use 22050, 32000, 44100, 48000"),
        (["--sample-rate", "192000"], "unsupported sample rate 192000 Hz"),
        (
            ["--solo", "bass", "--mute", "bass"],
            "every part is muted: nothing to render (--solo bass with --mute bass)",
        ),
        (["--solo", "bass,keys", "--mute", "bass", "--mute", "keys"], "every part is muted"),
        (["--lufs", "-70"], "loudness target must be at least -60 LUFS and below 0 LUFS"),
        (["--lufs", "-60.5"], "loudness target"),
        (["--lufs", "0"], "loudness target"),
        (["--lufs", "3"], "loudness target"),
        (["--ceiling", "-40"], "true-peak ceiling must be from -20 to 0 dBTP"),
        (["--click-sound", "gong"], "unknown click sound 'gong'; choose one of classic, wood"),
        (["--subdivision", "5ths"], "unknown click subdivision '5ths'; choose one of 8ths, 16ths, triplets"),
        (["--voice-dir", "no-such-voices"], "no-such-voices: no such voice folder"),
        (["--voice-dir", "/etc/passwd"], "/etc/passwd: is a file, not a voice folder"),
    ],
)
def test_user_mistakes_exit_2(chart: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    code, text = _run("render", str(chart), "-o", str(out), *args, "-q")
    assert code == 2, text
    assert message in text and "Traceback" not in text
    assert not out.exists()


def test_render_prints_the_readers_warnings(tmp_path: Path) -> None:
    cho = tmp_path / "w.cho"
    cho.write_text("{title: W}\n{key: C}\n[C]Hello [Xq7]world [G]again [C]now\n")
    code, text = _run("render", str(cho), "-o", str(tmp_path / "out"), *FAST)
    assert code == 0, text
    assert "warning:" in text and "Xq7" in text and "not played" in text


def test_render_reads_midi_and_refuses_a_broken_one_clearly(tmp_path: Path) -> None:
    code, text = _run("render", "--help")
    assert code == 0 and "MusicXML, JSON, MIDI" in " ".join(text.split())
    mid = tmp_path / "song.mid"
    mid.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0")  # a header and no track
    code, text = _run("render", str(mid), "-o", str(tmp_path / "out"), "-q")
    assert code == 2 and "song.mid" in text and "Traceback" not in text, text
    assert not (tmp_path / "out").exists()


def test_ramp_without_loop_ends_at_the_written_tempo(chart: Path, tmp_path: Path) -> None:
    # --ramp 75%:10% played 75, 85, 95 and 105 % of the chart's 150 bpm
    out = tmp_path / "ramp"
    code, text = _run(
        "render", str(chart), "-o", str(out), "--ramp", "75%:10%", "--no-intro", "--no-ending", *FAST
    )
    assert code == 0, text
    rep = _report(out)
    tempos = [b["tempo"] for b in rep["bars"]]
    assert tempos == pytest.approx([112.5] * 4 + [127.5] * 4 + [142.5] * 4 + [150.0] * 4)
    assert rep["title"] == "Tiny (song 75%..100% x4)"


@pytest.mark.parametrize(
    "args",
    [
        ["--sample-rate", "8000"],
        ["--sample-rate", "96001"],
        ["--lufs", "-70"],
        ["--lufs", "1"],
        ["--ceiling", "-21"],
    ],
)
def test_option_values_are_refused_before_the_chart_is_read(
    chart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    # --sample-rate 8000 was refused by the synthesiser, after reading and arranging
    import backline.arrange.engine
    import backline.formats

    def no_work(*_a: object, **_k: object) -> None:
        raise AssertionError("the options should have been refused before this")

    monkeypatch.setattr(backline.formats, "load_song", no_work)
    monkeypatch.setattr(backline.arrange.engine, "arrange", no_work)
    code, text = _run("render", str(chart), "-o", str(tmp_path / "out"), *args, "-q")
    assert code == 2, text
    assert text.startswith("error: ") and "Traceback" not in text


def test_the_sample_rates_agree_in_help_docs_message_and_synth(chart: Path, tmp_path: Path) -> None:
    # help and sound.md said "44100 or 48000", the message too, and the synth took six rates
    import re

    from backline.render.synth import SAMPLE_RATES

    rates = [str(r) for r in SAMPLE_RATES]
    code, text = _run("render", "--help")
    help_line = " ".join(re.sub(r"[│╭╮╰╯─]", " ", text[text.index("--sample-rate") :]).split())
    listed = re.findall(r"\d{5}", help_line[: help_line.index("--lufs")])
    assert code == 0 and sorted(set(listed), key=int) == rates
    sound = (Path(__file__).resolve().parents[2] / "docs" / "sound.md").read_text(encoding="utf-8")
    (claim,) = [line for line in sound.split("\n\n") if "`--sample-rate`" in line]
    assert sorted(set(re.findall(r"\b\d{5}\b", claim)), key=int) == rates
    code, text = _run("render", str(chart), "-o", str(tmp_path / "x"), "--sample-rate", "16000", "-q")
    assert code == 2 and all(r in text for r in rates)
    # an accepted rate other than the two delivery rates renders (a short, real render)
    out = tmp_path / "r32"
    code, text = _run("render", str(chart), "-o", str(out), "--soundfont", str(FLUIDR3), "--sample-rate", "32000", "--no-cues", "-q")  # fmt: skip
    assert code == 0, text
    assert _report(out)["sample_rate"] == 32000


def test_the_quietest_target_renders_finite_audio(chart: Path, tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    out = tmp_path / "quiet"
    code, text = _run("render", str(chart), "-o", str(out), "--lufs", "-60", *FAST)
    assert code == 0, text
    rep = _report(out)
    mix, _sr = sf.read(out / rep["files"]["mix"], dtype="float32")
    assert np.isfinite(mix).all() and np.abs(mix).max() > 0
    assert rep["integrated_lufs"] == pytest.approx(-60.0, abs=0.5)


def test_a_render_never_writes_over_its_input(chart: Path, tmp_path: Path) -> None:
    # a JSON song called render.json, rendered into its own folder, was replaced by the report
    out = tmp_path / "rdir"
    out.mkdir()
    song = out / "render.json"
    code, text = _run("convert", str(chart), str(song))
    assert code == 0, text
    before = song.read_bytes()
    code, text = _run("render", str(song), "-o", str(out), *FAST)
    assert code == 2, text
    assert "would be overwritten" in text and "choose another output folder" in text
    assert song.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["render.json"]  # no staging left


def test_render_to_one_audio_file_writes_the_mix_alone(chart: Path, tmp_path: Path) -> None:
    """``-o song.wav`` made a folder called song.wav (and an existing song.wav said 'File
    exists'): it is the mix, alone, in the format its extension names."""
    import soundfile as sf

    folder = tmp_path / "folder"
    code, text = _run("render", str(chart), "-o", str(folder), "--count-in", "0", *FAST)
    assert code == 0, text
    out = tmp_path / "mixes" / "tiny.flac"
    code, text = _run("render", str(chart), "-o", str(out), *FAST)
    assert code == 0, text
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny.flac"]  # nothing beside it
    assert sf.info(str(out)).format == "FLAC"
    got, sr = sf.read(out, dtype="float32")
    want, _ = sf.read(folder / _report(folder)["files"]["mix"], dtype="float32")
    assert sr == 22050 and got.shape == want.shape  # no count-in: without a click it is a silent bar
    np.testing.assert_allclose(got, want, atol=1e-4)  # the folder's mix (24-bit there)
    assert "tiny.flac" in text and "LUFS" in text and "stems" not in text
    # an existing file is replaced whole
    out.write_bytes(b"old")
    code, text = _run("render", str(chart), "-o", str(out), *FAST)
    assert code == 0 and sf.info(str(out)).frames == len(want)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-o", "x.wav", "--stems"],
            "-o {d}/x.wav names one file, the mix alone; --stems writes several files",
        ),
        (["-o", "x.wav", "--stems", "--split"], "--stems and --split write several files: give a folder"),
        (["-o", "x.wav", "--format", "flac"], "--format flac but -o {d}/x.wav names a .wav file"),
        (["-o", "plain"], "cannot write to {d}/plain: it is a file, and a render writes a folder"),
    ],
)
def test_render_output_mistakes_are_said_plainly(
    chart: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "plain").write_text("mine")
    args = [str(tmp_path / a) if a in ("x.wav", "plain") else a for a in args]
    code, text = _run("render", str(chart), *args, *FAST)
    assert code == 2, text
    assert "".join(message.format(d=tmp_path).split()) in "".join(text.split())  # rich wraps lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "tiny.chart"]
    assert (tmp_path / "plain").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count-in", "17"], "count-in must be from 0 to 16 bars, not 17"),
        (["--count-in", "100000"], "count-in must be from 0 to 16 bars"),
        (["--loop", "Verse:65"], "at most 64 times, not 65"),
        (["--loop", "1:100000"], "at most 64 times"),
    ],
)
def test_count_in_and_loop_are_bounded(chart: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "bounded"
    code, text = _run("render", str(chart), "-o", str(out), *args, *FAST)
    assert code == 2, text
    assert message in " ".join(text.split())
    assert not out.exists()


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_clean_up_like_ctrl_c(tmp_path: Path, sig: str) -> None:
    # kill/timeout/closing the terminal left the staging folder with its stems behind
    import signal
    import subprocess
    import sys
    import time

    long_chart = tmp_path / "long.chart"
    long_chart.write_text(CHART.replace("| C | Am | F | G |", "| C | Am | F | G |\n" * 60))
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from backline.cli.app import main; main()", "render", str(long_chart)]
    proc = subprocess.Popen(
        [*cmd, "-o", str(out), "--stems", "--split", "--soundfont", str(FLUIDR3), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".backline-render-*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the render ended before it could be stopped"
    time.sleep(0.3)
    proc.send_signal(getattr(signal, sig))
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 128 + getattr(signal, sig), output
    assert "interrupted" in output and "Traceback" not in output
    assert not out.exists()  # the folder it created, and its staging folder, are gone


def test_a_chordpro_sheet_without_tempo_is_told_unless_a_tempo_is_given(tmp_path: Path) -> None:
    sheet = tmp_path / "t.cho"
    sheet.write_text("{title: T}\n{key: C}\n\n[C]Hello [G]there [C]you\n")
    code, text = _run("arrange", str(sheet), "-o", str(tmp_path / "a.mid"))
    assert code == 0, text
    assert "no {tempo} in the song: it plays at 120 BPM" in text
    code, text = _run("arrange", str(sheet), "--tempo", "90", "-o", str(tmp_path / "b.mid"))
    assert code == 0, text
    assert "no {tempo}" not in text
