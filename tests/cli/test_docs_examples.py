"""What README.md and docs/*.md show of the command line, held against what it does: the
printed example of ``audio check``, counts and options the README names, help texts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from backline.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
AUDIO_MD = (ROOT / "docs" / "audio.md").read_text(encoding="utf-8")
runner = CliRunner()


def _example(doc: str, command: str) -> list[str]:
    """The lines a ``$ command`` example in a fenced block shows as printed."""
    lines = doc.split("\n")
    start = lines.index(f"$ {command}")
    end = lines.index("```", start)
    return lines[start + 1 : end]


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _pattern(line: str) -> re.Pattern[str]:
    """A printed line as a pattern: any numbers where it has numbers, any padding (and any
    width of box rule) where it has padding."""
    out = []
    for piece in re.split(r"(\s+|─+|[-+]?\d+(?:\.\d+)?)", line):
        if not piece:
            continue
        if piece.isspace():
            out.append(r"\s+")
        elif set(piece) == {"─"}:
            out.append("─+")
        elif _NUMBER.fullmatch(piece):
            out.append(_NUMBER.pattern)
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out))


def test_the_audio_check_example_is_what_check_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # audio.md showed plain "name  value" lines; check prints a box table, then warnings
    sr = 44100
    rng = np.random.default_rng(3)
    t = np.arange(20 * sr) / sr
    beat = t % 0.5  # a hit every half second, over a steady chord and some noise
    hits = 1.5 * np.exp(-beat / 0.04) * np.sin(2 * np.pi * 70 * beat)
    music = hits + 0.25 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(t.size)
    left = np.clip(music, -1.0, 1.0)  # a master pushed into the clip
    right = np.clip(np.roll(music, 5), -1.0, 1.0)
    sf.write(tmp_path / "master.wav", np.stack([left, right], axis=1).astype(np.float32), sr)
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["audio", "check", "master.wav", "--strict"], env={"COLUMNS": "200"})
    assert r.exit_code == 1, r.output  # --strict: it would distort
    printed = r.output.splitlines()
    shown = _example(AUDIO_MD, "backline audio check master.wav")
    assert shown[0].startswith("┌") and any(line.startswith("warning:") for line in shown)
    at = 0
    for line in shown:  # every line of the example, in the same order
        pattern = _pattern(line)
        while at < len(printed) and not pattern.fullmatch(printed[at].rstrip()):
            at += 1
        assert at < len(printed), f"audio.md shows {line!r}; check printed:\n{r.output}"
        at += 1


def test_the_readme_counts_the_bass_patterns() -> None:
    from backline.arrange.roles.bass import PATTERNS

    m = re.search(r"bass \(walking and (\d+) patterns\)", README)
    assert m is not None
    assert int(m.group(1)) == len(PATTERNS) == 14


def test_arrange_all_is_documented_and_its_plan_help_is_true(tmp_path: Path) -> None:
    assert "--all" in README and re.search(r"arrange \S+ --all -o \S+", README)
    r = runner.invoke(app, ["arrange", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", r.output).split())
    assert "with --all: one beside each MIDI" not in text
    assert "not with --all" in text and "NNN-title.plan.json" in text
    # and what the help says is what happens
    playlist = tmp_path / "set.chart"
    playlist.write_text(
        "title: One\nkey: C\ntempo: 120\n\n| C | F | G | C |\n---\n"
        "title: Two\nkey: F\ntempo: 100\n\n| F | Bb | C7 | F |\n"
    )
    r = runner.invoke(
        app, ["arrange", str(playlist), "--all", "-o", str(tmp_path / "out"), "--plan", "x.json"]
    )
    assert r.exit_code == 2 and "NNN-title.plan.json" in r.output
    r = runner.invoke(app, ["arrange", str(playlist), "--all", "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["001-one.mid", "001-one.plan.json", "002-two.mid", "002-two.plan.json"]
    assert json.loads((tmp_path / "out" / "001-one.plan.json").read_text())
