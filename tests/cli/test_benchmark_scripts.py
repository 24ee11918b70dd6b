"""The benchmark and docs scripts as command lines: ``--help`` prints usage and does
nothing else, an unknown argument is refused before anything is read or written.

Each script runs from a copy in a scratch ``benchmarks/`` folder (its repository root is
then the scratch folder), so a script that ignored its arguments would write its figure
there, never over ``docs/img/sounds.png``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = ["bench_corpus.py", "bench_load_ireal.py", "plot_sounds.py"]


def _run(root: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    folder = root / "benchmarks"
    folder.mkdir(exist_ok=True)
    for name in (script, "_common.py"):
        shutil.copy(BENCH / name, folder / name)
    env = {**os.environ, "BACKLINE_CORPORA": str(root / "no-corpora")}  # nothing to load
    return subprocess.run(
        [sys.executable, str(folder / script), *args],
        capture_output=True, text=True, cwd=root, env=env, timeout=120,
    )  # fmt: skip


def _made(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if "benchmarks" not in p.parts}


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_prints_usage_and_does_nothing_else(tmp_path: Path, script: str) -> None:
    # bench_corpus.py ran the benchmark, bench_load_ireal.py took "--help" for a folder
    # ("no iReal playlists in --help"), plot_sounds.py rewrote docs/img/sounds.png
    r = _run(tmp_path, script, "--help")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith(f"usage: {script}") and r.stderr == ""
    assert _made(tmp_path) == set()  # no docs/img/sounds.png, nothing at all


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_unknown_argument_is_refused_before_any_work(tmp_path: Path, script: str) -> None:
    r = _run(tmp_path, script, "--bogus")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "unrecognized arguments: --bogus" in r.stderr and "Traceback" not in r.stderr
    assert _made(tmp_path) == set()


def test_bench_load_ireal_still_takes_a_folder(tmp_path: Path) -> None:
    empty = tmp_path / "lists"
    empty.mkdir()
    r = _run(tmp_path, "bench_load_ireal.py", str(empty))
    assert r.returncode == 2 and f"no iReal playlists in {empty}" in r.stdout
