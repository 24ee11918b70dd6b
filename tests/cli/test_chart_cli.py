"""The chart commands as a user runs them: real processes, JSON out, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backline", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_chord_json_in_order() -> None:
    r = run("chord", "Cmaj7", "F#m7b5", "Bb7/Ab", "/E", "N.C.", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [o["symbol"] for o in out] == ["Cmaj7", "F#m7b5", "Bb7/Ab", "/E", "N.C."]
    assert out[0] == {
        "symbol": "Cmaj7",
        "root": 0,
        "bass": 0,
        "quality": "maj7",
        "pitch_classes": [0, 4, 7, 11],
        "scale": "ionian",
    }
    assert out[1]["root"] == 6 and out[1]["pitch_classes"] == [0, 4, 6, 9]
    assert out[2]["bass"] == 8 and out[2]["root"] == 10
    assert out[3]["root"] == 4 and out[3]["bass"] == 4
    assert out[4]["root"] is None and out[4]["pitch_classes"] == []
    # the chord-scale the table shows is in the JSON too (it was only in the table)
    assert [o["scale"] for o in out] == ["ionian", "locrian", "mixolydian", "ionian", None]
    table = run("chord", "Cmaj7", "F#m7b5", "Bb7/Ab", "/E", "N.C.")
    assert table.returncode == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[-2].strip() or None for row in rows] == [o["scale"] for o in out]


def test_unknown_chord_is_a_clear_error() -> None:
    r = run("chord", "C7", "Cmaj7#5#9#11q", "--json")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "Cmaj7#5#9#11q" in r.stderr and "'q'" in r.stderr


def test_missing_file_exit_2_no_traceback(tmp_path: Path) -> None:
    r = run("inspect", str(tmp_path / "nope.chart"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "no such file" in r.stderr


def test_unknown_extension(tmp_path: Path) -> None:
    f = tmp_path / "song.docx"
    f.write_text("hello")
    r = run("inspect", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr and ".docx" in r.stderr


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.chart"
    f.write_text("")
    r = run("inspect", str(f))
    assert r.returncode == 2 and "empty" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("ext", [".chart", ".json", ".musicxml"])
def test_inspect_json_and_convert_round_trip(tmp_path: Path, ext: str) -> None:
    from backline.data import demo_chart_path

    demo = demo_chart_path()
    r = run("inspect", str(demo), "--json")
    assert r.returncode == 0, r.stderr
    song = json.loads(r.stdout)["songs"][0]
    assert song["bars"] > 8 and song["chords"]
    assert song["time_signature"][1] in (4, 8)
    # start beats are increasing and durations fill the song
    starts = [c["start_beat"] for c in song["chords"]]
    assert starts == sorted(starts) and starts[0] == 0
    out = tmp_path / f"demo{ext}"
    r = run("convert", str(demo), str(out))
    assert r.returncode == 0, r.stderr
    r2 = run("inspect", str(out), "--json")
    assert r2.returncode == 0, r2.stderr
    again = json.loads(r2.stdout)["songs"][0]
    assert again["bars"] == song["bars"]
    assert [(c["start_beat"], c["pitch_classes"]) for c in again["chords"]] == [
        (c["start_beat"], c["pitch_classes"]) for c in song["chords"]
    ]


def test_user_text_with_brackets_prints_as_written(tmp_path: Path) -> None:
    # rich markup took "[live]" for a style tag and dropped it, and "[/x]" made it fail
    f = tmp_path / "medley.chart"
    f.write_text("title: Medley [live] [/x]\ncomposer: A [b]B[/b]\nkey: C\n\n[Verse]\n| C | F | G | C |\n")
    r = run("inspect", str(f))
    assert r.returncode == 0, r.stderr
    assert "Medley [live] [/x] — A [b]B[/b]" in r.stdout
    # and an error naming a bracketed path keeps it
    r = run("inspect", str(tmp_path / "[set] nope.chart"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "[set] nope.chart" in r.stderr


LYRICS = "{title: Lyric Song}\n{key: G}\n[G]Here comes the [C]sun, and [D]I say\n[G]it's all right\n"


def test_convert_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    # convert onto itself turned a ChordPro file into one without its lyrics, and a
    # playlist into one song: the same file by any name is refused before anything is written
    src = tmp_path / "song.cho"
    src.write_text(LYRICS)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.cho").symlink_to(src)
    (tmp_path / "hard.cho").hardlink_to(src)
    for dst in ("song.cho", "./song.cho", "sub/../song.cho", str(src), "link.cho", "hard.cho"):
        r = run("convert", "song.cho", dst, cwd=tmp_path)
        assert r.returncode == 2, (dst, r.stdout, r.stderr)
        assert "is the input file" in r.stderr and "Traceback" not in r.stderr
        assert src.read_text() == LYRICS and (tmp_path / "link.cho").is_symlink()
    # the input named through the link, the output the real file: refused too
    r = run("convert", "link.cho", "song.cho", cwd=tmp_path)
    assert r.returncode == 2 and src.read_text() == LYRICS
    # another file is fine (the chart without its lyrics: why writing over the input loses them)
    r = run("convert", "song.cho", "copy.cho", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    copy = (tmp_path / "copy.cho").read_text()
    assert "Lyric Song" in copy and "Here comes the" not in copy


def test_convert_keeps_a_playlist_whole(tmp_path: Path) -> None:
    from corpora import corpora_path

    src = tmp_path / "blues.txt"
    src.write_bytes(corpora_path("ireal", "blues50.txt").read_bytes())
    before = src.read_bytes()
    r = run("convert", str(src), str(tmp_path / "." / "blues.txt"), "--song", "3")
    assert r.returncode == 2 and "is the input file" in r.stderr
    assert src.read_bytes() == before
    r = run("inspect", str(src), "--json")
    assert len(json.loads(r.stdout)["songs"]) == 54


def test_convert_says_what_the_format_cannot_hold(tmp_path: Path) -> None:
    src = tmp_path / "f.chart"
    src.write_text("title: F\nkey: C\n| C | D To Coda | E | F D.C. al Coda | Coda G | A |\n")
    r = run("convert", str(src), str(tmp_path / "f.cho"))
    assert r.returncode == 0, r.stderr
    assert "warning: F: ChordPro cannot hold coda (bar 5); To Coda (bar 2); D.C./D.S. (bar 4)" in r.stderr
    assert "Traceback" not in r.stderr and "FormLostWarning" not in r.stderr
