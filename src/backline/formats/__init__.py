"""Chart formats: each module reads bytes into songs and/or writes a song to bytes.

Reader modules expose ``load_bytes(data: bytes, source: str) -> list[Song]``;
writer modules expose ``dump_bytes(song: Song) -> bytes``. This package picks the
module by file extension (and, for ``.txt``/``.html``, by content) and adds the
shared guards: a size limit, encoding checks, atomic output.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from backline.errors import ChartError, FormatNotSupportedError, Location
from backline.model.song import Song
from backline.util.atomic import write_bytes_atomic

__all__ = [
    "MAX_INPUT_BYTES",
    "READERS",
    "WRITERS",
    "load_songs",
    "load_song",
    "loads_songs",
    "select_song",
    "save_song",
    "dumps_song",
]

#: Charts and playlists larger than this are refused with a clear message (memory stays bounded).
MAX_INPUT_BYTES = 16 * 1024 * 1024

READERS: dict[str, str] = {
    ".chart": "backline.formats.chart",
    ".txt": "backline.formats.ireal",
    ".html": "backline.formats.ireal",
    ".htm": "backline.formats.ireal",
    ".ireal": "backline.formats.ireal",
    ".cho": "backline.formats.chordpro",
    ".crd": "backline.formats.chordpro",
    ".pro": "backline.formats.chordpro",
    ".chopro": "backline.formats.chordpro",
    ".chordpro": "backline.formats.chordpro",
    ".musicxml": "backline.formats.musicxml",
    ".xml": "backline.formats.musicxml",
    ".mxl": "backline.formats.musicxml",
    ".json": "backline.formats.json_model",
    ".mid": "backline.formats.midi_in",
    ".midi": "backline.formats.midi_in",
}

WRITERS: dict[str, str] = {
    ".chart": "backline.formats.chart",
    ".musicxml": "backline.formats.musicxml",
    ".xml": "backline.formats.musicxml",
    ".mxl": "backline.formats.musicxml",
    ".mid": "backline.formats.midi_chart",
    ".midi": "backline.formats.midi_chart",
    ".json": "backline.formats.json_model",
    ".cho": "backline.formats.chordpro",
    ".chopro": "backline.formats.chordpro",
    ".chordpro": "backline.formats.chordpro",
    ".txt": "backline.formats.ireal",
    ".html": "backline.formats.ireal",
}


def _reader_for(ext: str, data: bytes) -> Callable[[bytes, str], list[Song]]:
    module = READERS.get(ext)
    if ext == ".txt" and b"irealb" not in data[:1_000_000]:
        # A plain-text chord sheet (chords over lyrics) is read as ChordPro.
        module = "backline.formats.chordpro"
    if module is None:
        raise FormatNotSupportedError(
            f"cannot read {ext or 'files without an extension'}: backline reads {', '.join(sorted(READERS))}"
        )
    return cast(Callable[[bytes, str], list[Song]], importlib.import_module(module).load_bytes)


#: Text formats whose readers expect UTF-8 (XML declares its own encoding).
_TEXT_EXTS = (".chart", ".txt", ".html", ".cho", ".chopro", ".chordpro", ".json")


def _utf16_to_utf8(data: bytes, source: str) -> bytes:
    """``data`` re-encoded as UTF-8 when it is UTF-16 text (as Windows editors save it):
    with a byte-order mark, or without one when every other byte of its start is zero."""
    head = data[:400]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    elif len(head) >= 8 and head[1::2].count(0) > 0.9 * len(head[1::2]):
        codec = "utf-16-le"
    elif len(head) >= 8 and head[0::2].count(0) > 0.9 * len(head[0::2]):
        codec = "utf-16-be"
    else:
        return data
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChartError(
            f"looks like UTF-16 text but cannot be read as such (byte {exc.start}): save it as UTF-8",
            Location(source),
        ) from None


def loads_songs(data: bytes, source: str, ext: str | None = None) -> list[Song]:
    """Read songs from ``data``; ``ext`` (e.g. ``".chart"``) picks the format."""
    if len(data) > MAX_INPUT_BYTES:
        raise ChartError(_oversize_message(len(data)), Location(source))
    if not data.strip():
        raise ChartError("file is empty", Location(source))
    e = (ext if ext is not None else os.path.splitext(source)[1]).lower()
    if e in _TEXT_EXTS:
        data = _utf16_to_utf8(data, source)
    songs = _reader_for(e, data)(data, source)
    if not songs:
        raise ChartError("no song found", Location(source))
    return songs


def load_songs(path: str | os.PathLike[str]) -> list[Song]:
    """Read every song of a chart or playlist file."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise ChartError(_oversize_message(size), Location(str(p)))
        data = p.read_bytes()
    except FileNotFoundError:
        raise ChartError("no such file", Location(str(p))) from None
    except IsADirectoryError:
        raise ChartError("is a folder, not a chart file", Location(str(p))) from None
    except OSError as exc:
        raise ChartError(f"cannot read: {exc.strerror or exc}", Location(str(p))) from None
    return loads_songs(data, str(p))


def _oversize_message(size: int) -> str:
    return (
        f"file is {size / 1e6:.1f} MB; backline reads charts and playlists up to "
        f"{MAX_INPUT_BYTES // (1024 * 1024)} MB (split it into smaller playlists)"
    )


def select_song(songs: Sequence[Song], which: int | str | None, source: str = "") -> Song:
    """Pick one song: by 1-based number, by title (case-insensitive, exact then prefix),
    or the only one."""
    if which is None:
        if len(songs) == 1:
            return songs[0]
        raise ChartError(
            f"{len(songs)} songs in this file: choose one with --song N or --song TITLE", Location(source)
        )
    if isinstance(which, int) or (isinstance(which, str) and which.isdigit()):
        n = int(which)
        if 1 <= n <= len(songs):
            return songs[n - 1]
        raise ChartError(f"song {n} does not exist (the file has {len(songs)})", Location(source))
    low = which.lower().strip()
    for s in songs:
        if s.title.lower() == low:
            return s
    matches = [s for s in songs if s.title.lower().startswith(low)] or [
        s for s in songs if low in s.title.lower()
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        import difflib

        titles = {s.title.lower(): s.title for s in songs}
        close = difflib.get_close_matches(low, list(titles), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(titles[c]) for c in close)}?" if close else ""
        raise ChartError(f"no song titled {which!r}{hint}", Location(source))
    names = ", ".join(repr(s.title) for s in matches[:5])
    raise ChartError(f"{which!r} matches several songs: {names}", Location(source))


def load_song(path: str | os.PathLike[str], which: int | str | None = None) -> Song:
    """Read one song (see :func:`select_song`)."""
    return select_song(load_songs(path), which, str(path))


def dumps_song(song: Song, ext: str) -> bytes:
    """Write ``song`` in the format of extension ``ext``."""
    module = WRITERS.get(ext.lower())
    if module is None:
        raise FormatNotSupportedError(
            f"cannot write {ext or 'files without an extension'}: backline writes {', '.join(sorted(WRITERS))}"
        )
    dump = cast(Callable[[Song], bytes], importlib.import_module(module).dump_bytes)
    data = dump(song)
    if ext.lower() == ".mxl":
        data = _compressed_musicxml(data)
    return data


def _compressed_musicxml(score: bytes) -> bytes:
    """A compressed MusicXML (``.mxl``) container: a ZIP holding the score and the
    ``META-INF/container.xml`` that names it (notation programs refuse plain XML there)."""
    import io
    import zipfile

    container = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<container><rootfiles>'
        b'<rootfile full-path="score.musicxml" media-type="application/vnd.recordare.musicxml+xml"/>'
        b"</rootfiles></container>\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            zipfile.ZipInfo("mimetype", date_time=(1980, 1, 1, 0, 0, 0)),
            b"application/vnd.recordare.musicxml",
        )
        z.writestr(zipfile.ZipInfo("META-INF/container.xml", date_time=(1980, 1, 1, 0, 0, 0)), container)
        info = zipfile.ZipInfo("score.musicxml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, score)
    return buf.getvalue()


def save_song(song: Song, path: str | os.PathLike[str]) -> Path:
    """Write ``song`` to ``path`` (format from the extension), atomically."""
    data = dumps_song(song, Path(path).suffix)
    return write_bytes_atomic(path, data)
