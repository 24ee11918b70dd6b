"""Atomic writes: the finished file gets normal permissions, a failed write leaves nothing,
and only atomic_path's own steps are reported as "cannot write": an error in its body
passes through as it is."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from backline.errors import OutputError
from backline.util import atomic
from backline.util.atomic import atomic_path, write_text_atomic


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        p = write_text_atomic(tmp_path / "out.txt", "hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644
    assert p.read_text() == "hello"


def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    p = tmp_path / "out.txt"
    p.write_text("old")
    p.chmod(0o640)  # not the temporary file's 0600
    write_text_atomic(p, "new")
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert p.read_text() == "new"


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    p = tmp_path / "out.txt"
    p.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(p) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.txt"]


def test_an_error_in_the_body_passes_through_unchanged(tmp_path: Path) -> None:
    # a failed READ inside the body was reported as "cannot write <output>"
    p = tmp_path / "out.txt"
    with pytest.raises(FileNotFoundError) as info, atomic_path(p) as tmp:
        tmp.write_bytes((tmp_path / "missing-input.wav").read_bytes())
    assert not isinstance(info.value, OutputError)
    assert sorted(x.name for x in tmp_path.iterdir()) == []


def test_a_nested_output_error_is_not_wrapped_again(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with (
        pytest.raises(OutputError) as info,
        atomic_path(tmp_path / "a.mid"),
        atomic_path(blocker / "plan.json"),
    ):
        pass
    assert str(info.value).startswith(f"cannot write to {blocker}:")
    assert not isinstance(info.value.__cause__, OutputError)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["file"]


def test_renaming_into_place_fails_as_an_output_error(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()  # a folder where the file should go: os.replace refuses
    (target / "keep").write_text("x")
    with pytest.raises(OutputError, match=f"cannot write {target}"), atomic_path(target) as tmp:
        tmp.write_text("new")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]


def test_write_helpers_turn_their_own_write_errors_into_output_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "out.txt"
    p.write_text("old")

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(OutputError, match=r"cannot write .*out\.txt: No space left on device"):
        write_text_atomic(p, "new")
    assert p.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.txt"]
