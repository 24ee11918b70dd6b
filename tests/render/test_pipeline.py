"""The whole render on real audio: files, loudness, stems null test, split, multichannel,
count-in, mute, determinism, and failures that leave the output folder untouched."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from render_helpers import FLUIDR3, make_arrangement, needs_fonts

from backline.errors import OutputError, RenderError, RenderOptionError, SoundFontError
from backline.render import pipeline
from backline.render.pipeline import RenderOptions, render_arrangement

pytestmark = needs_fonts
SR = 22050
BASE = RenderOptions(
    sample_rate=SR, stems=True, split=True, multichannel=True, premaster=True, count_in_bars=1
)


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-30))


def _read(p: Path) -> np.ndarray:
    x, sr = sf.read(p, dtype="float32", always_2d=True)
    assert sr == SR
    return x


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("full")
    seen: list[float] = []
    render_arrangement(make_arrangement(6), out, BASE, progress=lambda _l, f: seen.append(f))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    return out, json.loads((out / "render.json").read_text())


def test_report_and_files(full: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, rep = full
    assert rep["sample_rate"] == SR
    assert set(rep["files"]["stems"]) == {"drums", "bass", "keys", "pad"}
    mix = _read(out / rep["files"]["mix"])
    assert mix.shape[0] / SR == pytest.approx(rep["duration_seconds"], abs=1e-3)
    # 6 bars at 120 bpm = 12 s, after a 2 s count-in, plus the release tail
    assert rep["count_in_seconds"] == pytest.approx(2.0)
    assert rep["chart_start_seconds"] == pytest.approx(2.0)
    assert [b["start_seconds"] for b in rep["bars"]] == pytest.approx([2.0 + 2.0 * i for i in range(6)])
    assert 14.0 < rep["duration_seconds"] < 18.0
    pyln = pytest.importorskip("pyloudnorm")
    lufs = pyln.Meter(SR).integrated_loudness(mix.astype(np.float64))
    assert lufs == pytest.approx(-14.0, abs=0.5)
    assert rep["integrated_lufs"] == pytest.approx(lufs, abs=0.05)
    assert rep["true_peak_dbtp"] <= -1.0 and np.abs(mix).max() < 0.9
    assert not list(out.glob(".backline-render-*"))


def test_count_in_is_silent_in_the_music(full: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _rep = full
    mix = _read(out / "mix.wav")
    assert np.abs(mix[: int(1.99 * SR)]).max() < 1e-3
    assert np.abs(mix[int(2.0 * SR) : int(2.1 * SR)]).max() > 0.05


def test_stems_null_against_the_premaster_mix(full: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, rep = full
    pre = _read(out / "premaster.wav")
    total = sum(_read(out / p) for p in rep["files"]["stems"].values())
    g = 10 ** (rep["stem_gain_db"] / 20)
    assert _db(total / g - pre) - _db(pre) < -50


def test_split_track_channels(full: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, rep = full
    split = _read(out / "split.wav")
    mix = _read(out / "mix.wav").mean(axis=1)
    guide = _read(out / "stems/click.wav")[:, 0]
    if "cues" in rep["files"]:
        guide = guide + _read(out / "stems/cues.wav")[:, 0]
    assert np.corrcoef(split[:, 1], mix)[0, 1] > 0.999
    assert np.corrcoef(split[:, 0], guide)[0, 1] > 0.999
    assert abs(np.corrcoef(split[:, 0], mix)[0, 1]) < 0.2  # no music in the guide channel


def test_multichannel_holds_every_stem(full: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, rep = full
    mc = _read(out / "multichannel.wav")
    names = rep["files"]["multichannel"]["channels"]
    assert mc.shape[1] == len(names) and names[-4:] == ["drums", "bass", "keys", "pad"]
    for i, name in enumerate(names):
        rel = rep["files"]["stems"].get(name) or rep["files"][name]
        ref = _read(out / rel).mean(axis=1)
        assert np.abs(mc[:, i] - ref).max() < 1e-4


def test_mute_removes_only_that_part(full: tuple[Path, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    out, rep = full
    render_arrangement(
        make_arrangement(6), tmp_path, replace(BASE, mute=("keys",), split=False, multichannel=False)
    )
    rep2 = json.loads((tmp_path / "render.json").read_text())
    assert set(rep2["files"]["stems"]) == {"drums", "bass", "pad"} and rep2["muted"] == ["keys"]
    keys = _read(out / "stems/keys.wav") / 10 ** (rep["stem_gain_db"] / 20)
    expected = _read(out / "premaster.wav") - keys
    got = _read(tmp_path / "premaster.wav")
    assert _db(got - expected) - _db(expected) < -50


def test_same_seed_same_audio(tmp_path: Path) -> None:
    opts = RenderOptions(sample_rate=SR, soundfont=str(FLUIDR3), click=False, cues=False, midi=False)
    arr = make_arrangement(4)
    render_arrangement(arr, tmp_path / "a", opts)
    render_arrangement(arr, tmp_path / "b", opts)
    assert (tmp_path / "a/mix.wav").read_bytes() == (tmp_path / "b/mix.wav").read_bytes()


def test_failures_leave_the_folder_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mix.wav").write_bytes(b"precious")
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\x00\x00\x00\x10sfbkjunk")
    arr = make_arrangement(2)
    with pytest.raises(SoundFontError, match=r"bad\.sf2"):
        render_arrangement(arr, out, RenderOptions(sample_rate=SR, soundfont=str(bad)))
    with pytest.raises(RenderError, match="unknown part"):
        render_arrangement(arr, out, RenderOptions(sample_rate=SR, mute=("tuba",)))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        render_arrangement(arr, blocker / "out", RenderOptions(sample_rate=SR))
    assert [p.name for p in out.iterdir()] == ["mix.wav"]
    assert (out / "mix.wav").read_bytes() == b"precious"


def test_real_arranger_renders_formats(tmp_path: Path) -> None:
    from backline import formats
    from backline.arrange import engine
    from backline.model.song import Song

    song: Song = formats.loads_songs(
        b"title: Tiny\nkey: C\ntempo: 140\ntime: 4/4\n\n[A]\n| C | Am | F | G |\n", "tiny.chart", ".chart"
    )[0]
    arr = engine.arrange(song, "pop", seed=3, intro=False, ending=False)
    opts = RenderOptions(sample_rate=44100, fmt="flac", bit_depth=16, soundfont=str(FLUIDR3), cues=False)
    rep = render_arrangement(arr, tmp_path, opts)
    info = sf.info(str(tmp_path / "mix.flac"))
    assert info.samplerate == 44100 and info.subtype == "PCM_16"
    assert info.duration == pytest.approx(rep.duration_seconds, abs=1e-3)
    assert (tmp_path / "song.mid").read_bytes()[:4] == b"MThd"


FAST = RenderOptions(sample_rate=SR, soundfont=str(FLUIDR3), cues=False, midi=False, count_in_bars=0)


def test_parts_whose_names_make_one_file_name_get_stems_of_their_own(tmp_path: Path) -> None:
    # "Keys 1" and "Keys_1" both went to stems/Keys_1.wav, the second overwriting the first;
    # a part called "click" would have taken the click's stem
    arr = make_arrangement(2)
    names = {"drums": "click", "bass": "Bass", "keys": "Keys 1", "pad": "Keys_1"}
    arr = replace(arr, parts=tuple(replace(p, name=names[p.name]) for p in arr.parts))
    render_arrangement(arr, tmp_path, replace(FAST, stems=True))
    rep = json.loads((tmp_path / "render.json").read_text())
    stems = rep["files"]["stems"]
    assert set(stems) == {"click", "Bass", "Keys 1", "Keys_1"}
    assert stems["Keys 1"] == "stems/Keys_1.wav" and stems["Bass"] == "stems/Bass.wav"
    files = list(stems.values()) + [rep["files"]["click"]]
    assert len({f.casefold() for f in files}) == 5 and all((tmp_path / f).is_file() for f in files)
    keys, pad = _read(tmp_path / stems["Keys 1"]), _read(tmp_path / stems["Keys_1"])
    assert _db(keys - pad) > _db(keys) - 10  # two different parts, not one file twice


def test_a_failed_render_leaves_no_folder_it_created(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    arr = make_arrangement(2)
    with pytest.raises(RenderError, match="every part is muted"):
        render_arrangement(arr, out, replace(FAST, mute=tuple(p.name for p in arr.parts)))
    assert list(tmp_path.iterdir()) == []


def test_staging_left_by_killed_renders_is_removed_and_modes_are_kept(tmp_path: Path) -> None:
    host = pipeline._host_tag()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = tmp_path / f".backline-render-{proc.pid}-{host}-abc123"  # its render was SIGKILLed
    old = tmp_path / ".backline-render-x1y2z3"  # older naming, untouched for two hours
    alive = tmp_path / f".backline-render-{os.getpid()}-{host}-live"  # a render still running
    elsewhere = tmp_path / f".backline-render-{proc.pid}-00000000-other"  # another machine's
    for d in (dead, old, alive, elsewhere):
        d.mkdir()
        (d / ".stem0.f32").write_bytes(b"\0" * 1024)
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    (tmp_path / "mix.wav").write_bytes(b"old")
    (tmp_path / "mix.wav").chmod(0o600)  # the user's choice: a replaced file keeps it
    render_arrangement(make_arrangement(2), tmp_path, FAST)
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".backline-render"))
    assert left == sorted([alive.name, elsewhere.name])
    assert stat.S_IMODE((tmp_path / "mix.wav").stat().st_mode) == 0o600
    assert sf.info(str(tmp_path / "mix.wav")).samplerate == SR


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sample_rate": 8000}, "unsupported sample rate 8000 Hz"),
        ({"sample_rate": 96001}, "unsupported sample rate"),
        ({"lufs_target": -70.0}, "loudness target"),
        ({"lufs_target": 0.0}, "loudness target"),
        ({"ceiling_dbtp": -30.0}, "true-peak ceiling"),
        ({"solo": ("bass",), "mute": ("bass",)}, "every part is muted: nothing to render (--solo bass"),
    ],
)
def test_options_no_render_can_honour_are_option_errors(tmp_path: Path, change: dict, message: str) -> None:  # type: ignore[type-arg]
    # these were plain RenderErrors (exit 1) from deep in the render, or NaN audio
    out = tmp_path / "out"
    with pytest.raises(RenderOptionError, match=re.escape(message)):
        render_arrangement(make_arrangement(2), out, replace(FAST, **change))
    assert not out.exists()


def test_an_input_is_never_written_over_nor_removed_as_stale(tmp_path: Path) -> None:
    arr = make_arrangement()
    out = tmp_path / "out"
    out.mkdir()
    song = out / "render.json"
    song.write_text('{"title": "mine"}')
    with pytest.raises(RenderOptionError, match="would be overwritten"):
        render_arrangement(arr, out, RenderOptions(cues=False), protect=(song,))
    assert song.read_text() == '{"title": "mine"}'
    # a file an earlier render listed, and this one does not write, stays when it is an input
    kept = out / "split.wav"
    kept.write_bytes(b"x")
    before_ns = time.time_ns() + 10**9
    assert pipeline._remove_stale(out, {"split.wav"}, before_ns, set(), (kept,)) == []
    assert kept.exists()
    assert pipeline._remove_stale(out, {"split.wav"}, before_ns, set()) == ["split.wav"]


def test_an_interrupt_during_the_moves_into_place_waits_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C between two moves left new files beside the old render.json
    import signal

    arr = make_arrangement()
    out = tmp_path / "out"
    render_arrangement(arr, out, RenderOptions(cues=False, stems=True))
    first = (out / "render.json").read_bytes()
    moves = []
    real = pipeline.move_into_place

    def move(src: Path, target: Path) -> None:
        moves.append(target)
        if len(moves) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        real(src, target)

    monkeypatch.setattr(pipeline, "move_into_place", move)
    with pytest.raises(KeyboardInterrupt):
        render_arrangement(make_arrangement(seed=7), out, RenderOptions(cues=False, split=True))
    assert len(moves) > 3  # every move was made before the interrupt arrived
    assert (out / "render.json").read_bytes() != first
    assert json.loads((out / "render.json").read_text())["seed"] == 7
    assert not list(out.glob(".backline-render-*"))
