"""Atomic file output: write to a temporary file in the same folder, then rename.

An interrupted write never leaves a half-written file under the final name, and
an existing file is replaced only once the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from backline.errors import OutputError

__all__ = [
    "atomic_path",
    "move_into_place",
    "same_file",
    "write_bytes_atomic",
    "write_failed",
    "write_text_atomic",
]


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same file (symlinks, ``..`` and hard links
    followed): an output that is an input must be refused before anything is written.
    False when either does not exist and their resolved paths differ."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _read_umask() -> int:
    """The process umask, read without changing it (``/proc/self/status``); else set and
    restore it once, at import, before any thread of this package writes files."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _mode_for(target: Path) -> int:
    """The permission bits the finished file gets: those of the file it replaces, else
    what a plain ``open()`` would give under the umask (a temporary file is 0600)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def write_failed(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """The :class:`~backline.errors.OutputError` for an OS error met while writing ``path``."""
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    The temporary name keeps the extension (``suffix`` or that of ``path``) so that
    writers that pick a format from the extension still work. The finished file gets
    the permissions of the file it replaces, else those of a new file under the umask.

    Errors: creating the temporary file, and renaming it into place, raise
    :class:`~backline.errors.OutputError`. An exception raised in the ``with`` body
    passes through unchanged (after the temporary file is removed): the body may read
    inputs as well as write, and only the writer knows which failed, so a writer turns
    its own write errors into ``OutputError`` (:func:`write_failed`).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    ext = suffix if suffix is not None else target.suffix
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".part{ext}", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write to {folder}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        move_into_place(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_failed(target, exc) from exc


def move_into_place(src: Path, target: Path) -> None:
    """Rename the finished file ``src`` to ``target`` (same file system), giving it the
    permissions of the file it replaces (else those of a new file). Raises ``OSError``."""
    os.chmod(src, _mode_for(target))
    os.replace(src, target)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path; :class:`OutputError`
    when it cannot be written."""
    with atomic_path(path) as tmp:
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise write_failed(path, exc) from exc
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically and return the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))
