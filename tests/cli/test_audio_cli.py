"""``backline audio analyze | click | transcribe``: JSON schema, files written, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import mir_eval
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from backline.cli.app import app
from backline.formats import load_song

runner = CliRunner()
SR = 22050


def _loop(path: Path, bpm: float = 120.0) -> Path:
    """Four bars of C / Am / F / G7 (additive synth) with a kick on every beat."""
    spb = 60.0 / bpm
    chords = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62, 65)] * 2
    y = np.zeros(int(len(chords) * 4 * spb * SR) + SR)
    t = np.arange(int(spb * SR)) / SR
    for i, ch in enumerate(chords):
        for b in range(4):
            s = int((i * 4 + b) * spb * SR)
            seg = sum(
                0.1 / h * np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * h * t)
                for m in ch
                for h in (1, 2, 3)
            )
            seg = seg * np.exp(-1.5 * t) + 0.3 * np.sin(
                2 * np.pi * 440 * 2 ** ((ch[0] - 24 - 69) / 12) * t
            ) * np.exp(-3 * t)
            k = int(0.03 * SR)
            seg[:k] += (0.8 if b == 0 else 0.4) * np.sin(2 * np.pi * 80 * t[:k]) * np.exp(-80 * t[:k])
            y[s : s + len(seg)] += seg
    sf.write(path, (0.8 * y / np.abs(y).max()).astype(np.float32), SR)
    return path


def test_analyze_json_schema(tmp_path: Path) -> None:
    src = _loop(tmp_path / "loop.wav")
    r = runner.invoke(app, ["audio", "analyze", str(src), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    required = {"duration", "tempo", "beats", "downbeats", "time_signature", "key", "chords", "sections"}
    assert required <= set(data)
    assert set(data) - required <= {
        "keys",
        "key_candidates",
        "confidence",
        "tempo_curve",
        "a4_hz",
        "warnings",
    }
    assert data["a4_hz"] == pytest.approx(440.0, abs=1.5)  # the loop is at standard pitch
    assert isinstance(data["duration"], float) and isinstance(data["tempo"], float)
    assert all(isinstance(b, float) for b in data["beats"] + data["downbeats"])
    assert data["time_signature"] == [4, 4]
    mir_eval.key.validate_key(data["key"])
    assert data["key"] == "C major"
    assert [k["label"] for k in data["keys"]] == ["C major"]  # one key over the whole loop
    cands = data["key_candidates"]
    assert cands[0]["key"] == data["key"] and cands[0]["p"] > 0.5
    assert [c["p"] for c in cands] == sorted((c["p"] for c in cands), reverse=True)
    assert sum(c["p"] for c in cands) <= 1.0 + 1e-3 and len(cands) <= 3
    for c in cands:
        mir_eval.key.validate_key(c["key"])
    for seg in data["chords"] + data["sections"] + data["keys"]:
        assert set(seg) == {"start", "end", "label"}
    labels = [c["label"] for c in data["chords"]]
    mir_eval.chord.validate(labels, labels)
    assert [lab for lab in labels if lab != "N"][:4] == ["C:maj", "A:min", "F:maj", "G:7"]
    assert data["tempo"] == pytest.approx(120, rel=0.04)
    assert 0.0 <= data["confidence"] <= 1.0


def test_analyze_writes_a_chart(tmp_path: Path) -> None:
    src = _loop(tmp_path / "loop.wav")
    out = tmp_path / "loop.chart"
    r = runner.invoke(app, ["audio", "analyze", str(src), "--chart", str(out)])
    assert r.exit_code == 0, r.output
    song = load_song(out)
    assert song.time_signature.numerator == 4
    assert [str(b.chords[0].chord) for b in song.bars[:4]] == ["C", "Am", "F", "G7"]


def test_click_and_transcribe_commands(tmp_path: Path) -> None:
    src = _loop(tmp_path / "loop.wav")
    r = runner.invoke(
        app, ["audio", "click", str(src), "-o", str(tmp_path / "c"), "--count-in", "1", "--split"]
    )
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "c" / "click.json").read_text())
    assert set(rep["files"]) == {"click", "split"}
    assert (tmp_path / "c" / "split.wav").exists()
    pytest.importorskip("onnxruntime")
    r = runner.invoke(app, ["audio", "transcribe", str(src), "-o", str(tmp_path / "m.mid")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "m.mid").stat().st_size > 20


def test_bad_inputs_give_messages_not_tracebacks(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00\x01not audio" * 100)
    before = junk.read_bytes()
    for cmd in (["analyze", str(junk)], ["click", str(junk), "-o", str(tmp_path / "x")]):
        r = runner.invoke(app, ["audio", *cmd])
        assert r.exit_code == 2, r.output
        assert "junk.mp3" in r.output and "Traceback" not in r.output
    assert junk.read_bytes() == before
    src = _loop(tmp_path / "loop.wav")
    r = runner.invoke(app, ["audio", "transcribe", str(src), "-o", str(src)])
    assert r.exit_code == 2
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(SR * 3, dtype=np.float32), SR)
    r = runner.invoke(app, ["audio", "analyze", str(silence), "--json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["confidence"] == 0.0
    r = runner.invoke(app, ["audio", "click", str(silence), "-o", str(tmp_path / "s")])
    assert r.exit_code == 2 and "no steady beat" in r.output
    r = runner.invoke(app, ["audio", "shift", str(silence), "--bpm", "100", "-o", str(tmp_path / "s.wav")])
    assert r.exit_code == 2 and "silence.wav: no steady beat" in r.output
    assert not (tmp_path / "s.wav").exists()


def test_the_analysis_table_names_a_close_second_key() -> None:
    from backline.audio.analyze.core import Analysis, Segment
    from backline.cli.audio_cmds import _key_text

    def analysis(cands: tuple[tuple[str, float], ...], keys: tuple[Segment, ...] = ()) -> Analysis:
        return Analysis(
            60.0, 120.0, (), (), (4, 4), cands[0][0], (), (), 1.0, keys=keys, key_candidates=cands
        )

    assert _key_text(analysis((("Bb major", 0.41), ("F major", 0.40)))) == "Bb major (41%; or F major, 40%)"
    assert _key_text(analysis((("C major", 0.9), ("A minor", 0.06)))) == "C major"
    lift = (Segment(0.0, 30.0, "C major"), Segment(30.0, 60.0, "Db major"))
    assert _key_text(analysis((("C major", 0.97),), lift)) == "C major, then Db major from 30.0 s"


@pytest.fixture
def terminal_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """stderr as a terminal (progress shows there), stdout still a pipe."""
    from rich.console import Console

    import backline.cli.audio_cmds as cmds

    monkeypatch.setattr(
        cmds, "err_console", Console(stderr=True, force_terminal=True, markup=False, width=100)
    )


def _beeps(path: Path, seconds: float = 4.0) -> Path:
    t = np.arange(int(seconds * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * 440 * t) * np.exp(-8 * (t % 0.5))
    sf.write(path, y.astype(np.float32), SR)
    return path


def test_analyze_json_stdout_stays_pure_json(tmp_path: Path, terminal_stderr: None) -> None:
    """With ``--json`` stdout is the JSON alone and no spinner is drawn, even on a terminal;
    without it the spinner ("analysing beeps.wav (0:04)") goes to stderr, never stdout."""
    src = _beeps(tmp_path / "beeps.wav")
    r = runner.invoke(app, ["audio", "analyze", str(src), "--json"])
    assert r.exit_code == 0, r.output
    assert isinstance(json.loads(r.stdout), dict)
    assert r.stdout.lstrip().startswith("{") and r.stdout.rstrip().endswith("}")
    assert "\x1b" not in r.stdout and "analysing" not in r.stderr
    r = runner.invoke(app, ["audio", "analyze", str(src)])
    assert r.exit_code == 0, r.output
    assert "analysing beeps.wav (0:04)" in r.stderr
    assert "analysing" not in r.stdout and "tempo" in r.stdout
    r = runner.invoke(app, ["audio", "analyze", str(src), "--quiet"])
    assert r.exit_code == 0 and "analysing" not in r.stderr


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    src = _beeps(tmp_path / "beeps.wav")
    r = runner.invoke(app, ["audio", "analyze", str(src)])
    assert r.exit_code == 0, r.output
    assert "analysing" not in r.stderr and "\x1b" not in r.stderr
    pytest.importorskip("pedalboard")
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", "-o", str(tmp_path / "o.wav")])
    assert r.exit_code == 0, r.output
    assert "shifting" not in r.stderr and "\x1b" not in r.stderr


def test_shift_shows_a_progress_bar_on_stderr(tmp_path: Path, terminal_stderr: None) -> None:
    pytest.importorskip("pedalboard")
    stems = tmp_path / "stems"
    stems.mkdir()
    _beeps(stems / "keys.wav", 2.0)
    _beeps(stems / "click.wav", 2.0)
    r = runner.invoke(app, ["audio", "shift", str(stems), "--semitones", "2", "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "shifting 2 stems" in r.stderr and "0:02 / 0:02" in r.stderr
    assert "shifting" not in r.stdout and "shifted 2 stems" in r.stdout
    r = runner.invoke(
        app, ["audio", "shift", str(stems), "--semitones", "2", "-q", "-o", str(tmp_path / "out2")]
    )
    assert r.exit_code == 0 and "shifting" not in r.stderr


# ---------------------------------------------------------------- fuzz review: bad input


def _float_wav_with_nan(path: Path) -> Path:
    t = np.arange(2 * SR) / SR
    y = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    y[1000:1010] = np.nan
    sf.write(path, y, SR, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{src}", "-q"],
        ["click", "{src}", "-o", "{tmp}/c"],
        ["transcribe", "{src}", "-o", "{tmp}/x.mid"],
    ],
)
def test_nan_samples_exit_2_with_a_clear_message(tmp_path: Path, args: list[str]) -> None:
    src = _float_wav_with_nan(tmp_path / "nan.wav")
    argv = ["audio"] + [a.format(src=src, tmp=tmp_path) for a in args]
    r = runner.invoke(app, argv)
    assert r.exit_code == 2, r.output
    assert "10 not-a-number/infinite samples" in r.output
    assert "Traceback" not in r.output


def test_check_json_reports_nan_samples_as_valid_json(tmp_path: Path) -> None:
    src = _float_wav_with_nan(tmp_path / "nan.wav")
    r = runner.invoke(app, ["audio", "check", str(src), "--json", "--strict"])
    assert r.exit_code == 1  # a damaged file is a problem under --strict
    d = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert d["nonfinite_samples"] == 10
    assert d["nonfinite_first"] == pytest.approx(1000 / SR, abs=1e-6)
    assert all(x is None or np.isfinite(x) for x in d["dc_offset"])


def test_check_refuses_a_1_hz_sample_rate(tmp_path: Path) -> None:
    src = tmp_path / "sr1.wav"
    sf.write(src, np.zeros(100, np.float32), 1, subtype="PCM_16")
    for cmd in (["check", str(src)], ["analyze", str(src), "-q"]):
        r = runner.invoke(app, ["audio", *cmd])
        assert r.exit_code == 2, r.output
        assert "sample rate 1 Hz is not an audio rate" in r.output


def test_click_into_an_unwritable_folder_fails_before_the_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backline.audio.analyze as analyze

    def no_analysis(*a: object, **k: object) -> None:
        raise AssertionError("the analysis ran before the output folder was checked")

    monkeypatch.setattr(analyze, "analyze_file", no_analysis)
    src = _loop(tmp_path / "loop.wav")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = runner.invoke(app, ["audio", "click", str(src), "-o", str(blocker / "clk")])
    assert r.exit_code == 2, r.output
    assert "cannot write to" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("count", ["17", "1000000"])
def test_click_count_in_has_an_upper_bound(tmp_path: Path, count: str) -> None:
    src = _loop(tmp_path / "loop.wav")
    r = runner.invoke(app, ["audio", "click", str(src), "-o", str(tmp_path / "c"), "--count-in", count])
    assert r.exit_code == 2, r.output
    assert "0 to 16 bars" in r.output
    assert not (tmp_path / "c").exists()
