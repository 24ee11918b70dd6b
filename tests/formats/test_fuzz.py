"""Fuzzing every reader: random and mutated input never crashes with anything but a
backline error that says where (file, and line:col or song/bar where the format has them).

Also: truncated files, wrong encodings, empty files and an enormous playlist.
"""

from __future__ import annotations

import importlib
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backline.errors import ChartError
from backline.formats import MAX_INPUT_BYTES, load_songs, loads_songs
from backline.model.form import expand
from corpora import corpora_path


def _seed_chart() -> bytes:
    from backline.data import demo_chart_path

    return demo_chart_path().read_bytes()


def _seed_ireal() -> bytes:
    text = corpora_path("ireal", "blues50.txt").read_text(encoding="utf-8")
    return text.split("===")[0].encode() + b"==="


def _seed_chordpro() -> bytes:
    return corpora_path("chordpro", "songs", "t_basic01.cho").read_bytes()


def _seed_musicxml() -> bytes:
    return corpora_path("ireal", "expected-musicxml", "all-blues.xml").read_bytes()


def _seed_json() -> bytes:
    chart = importlib.import_module("backline.formats.chart")
    js = importlib.import_module("backline.formats.json_model")
    song = chart.load_bytes(_seed_chart(), "demo.chart")[0]
    return bytes(js.dump_bytes(song))


READERS: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "chart": ("backline.formats.chart", ".chart", _seed_chart),
    "ireal": ("backline.formats.ireal", ".txt", _seed_ireal),
    "chordpro": ("backline.formats.chordpro", ".cho", _seed_chordpro),
    "musicxml": ("backline.formats.musicxml", ".musicxml", _seed_musicxml),
    "json": ("backline.formats.json_model", ".json", _seed_json),
}


def _seed(name: str) -> tuple[str, bytes]:
    module, ext, make = READERS[name]
    importlib.import_module(module)  # every reader is part of backline: an import bug fails here
    return ext, make()


def _check(data: bytes, ext: str) -> None:
    source = f"fuzz{ext}"
    try:
        songs = loads_songs(data, source, ext)
    except ChartError as exc:
        assert exc.location is not None and str(exc.location), f"no location: {exc!r}"
        assert str(exc).startswith("fuzz"), str(exc)
        return
    for song in songs:
        try:
            expand(song)
        except ChartError as exc:
            assert exc.location is not None


@st.composite
def mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "dup"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "delete":
            j = draw(st.integers(i, min(len(data), i + 40)))
            del data[i:j]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=20))
        elif op == "truncate":
            del data[i:]
        else:
            j = draw(st.integers(i, min(len(data), i + 200)))
            data[i:i] = data[i:j]
    return bytes(data)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", list(READERS))
def test_mutated_input_gives_located_errors(name: str) -> None:
    ext, seed = _seed(name)

    @FUZZ
    @given(mutations(seed))
    def inner(data: bytes) -> None:
        _check(data, ext)

    inner()


@pytest.mark.parametrize("name", list(READERS))
def test_random_bytes_give_located_errors(name: str) -> None:
    ext, _ = _seed(name)

    @FUZZ
    @given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
    def inner(data: bytes) -> None:
        _check(data, ext)

    inner()


@pytest.mark.parametrize("name", list(READERS))
def test_truncated_and_reencoded(name: str) -> None:
    ext, seed = _seed(name)
    for cut in (1, 7, len(seed) // 3, len(seed) // 2, len(seed) - 1):
        _check(seed[:cut], ext)
    text = seed.decode("utf-8", errors="replace")
    for enc in ("utf-16", "utf-32", "cp1252", "latin-1"):
        _check(text.encode(enc, errors="replace"), ext)


@pytest.mark.parametrize("ext", [".chart", ".txt", ".cho", ".musicxml", ".mxl", ".json"])
def test_empty_files(tmp_path: Path, ext: str) -> None:
    f = tmp_path / f"empty{ext}"
    f.write_bytes(b"")
    with pytest.raises(ChartError, match="empty") as ei:
        load_songs(f)
    assert str(f) in str(ei.value)


def test_enormous_playlist_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    f = tmp_path / "huge.txt"
    with open(f, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # a 50 MB file
    assert f.stat().st_size > MAX_INPUT_BYTES
    tracemalloc.start()
    with pytest.raises(ChartError, match="MB") as ei:
        load_songs(f)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5 * 1024 * 1024
    assert "huge.txt" in str(ei.value)
