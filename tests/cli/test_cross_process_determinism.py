"""Same chart, same seed, same bytes, across interpreters.

The in-process determinism tests run both renders in one interpreter, so anything seeded
from ``hash()`` of a string (which Python randomises per process with PYTHONHASHSEED)
would pass them. Here ``backline arrange`` and ``backline render`` run in fresh
subprocesses with different PYTHONHASHSEED values and their MIDI and audio must be
identical, byte for byte; another ``--seed`` must give different MIDI (the seed is used).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
CHART = """title: Hash
key: C
tempo: 160
time: 4/4
style: medium swing

[A]
| C | Am7 | Dm7 | G7 |
| Em7 A7 | Dm7 G7 | C6 | C6 |
"""


def _start(args: list[str], hashseed: str, cwd: Path) -> subprocess.Popen[str]:
    # PYTHONPATH is kept: a test run against another copy of the package uses it here too
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    return subprocess.Popen(
        [sys.executable, "-m", "backline", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0, out


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    p = tmp_path / "hash.chart"
    p.write_text(CHART)
    return p


def test_arrange_gives_the_same_midi_under_any_hash_seed(chart: Path, tmp_path: Path) -> None:
    runs = {
        "h1": (["--seed", "7"], "1"),
        "h2": (["--seed", "7"], "2"),
        "h3": (["--seed", "7"], "12345"),
        "other_seed": (["--seed", "8"], "1"),
    }
    procs = [
        _start(["arrange", str(chart), "-o", str(tmp_path / f"{name}.mid"), *args], hs, tmp_path)
        for name, (args, hs) in runs.items()
    ]
    _wait(procs)
    midi = {name: (tmp_path / f"{name}.mid").read_bytes() for name in runs}
    assert len(midi["h1"]) > 1000
    assert midi["h1"] == midi["h2"] == midi["h3"]
    assert midi["other_seed"] != midi["h1"]


@pytest.mark.skipif(not FLUIDR3.is_file(), reason="needs FluidR3_GM (fluid-soundfont-gm)")
def test_render_gives_the_same_midi_and_audio_under_any_hash_seed(chart: Path, tmp_path: Path) -> None:
    fast = ["--soundfont", str(FLUIDR3), "--sample-rate", "22050", "--no-cues", "--seed", "7", "-q"]
    procs = [
        _start(["render", str(chart), "-o", str(tmp_path / hs), *fast], hs, tmp_path) for hs in ("1", "2")
    ]
    _wait(procs)
    a, b = tmp_path / "1", tmp_path / "2"
    mids = sorted(p.relative_to(a) for p in a.rglob("*.mid"))
    assert mids, "the render wrote no MIDI"
    for rel in mids:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    wavs = sorted(p.relative_to(a) for p in a.rglob("*.wav"))
    assert Path("mix.wav") in wavs
    for rel in wavs:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
