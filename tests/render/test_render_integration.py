"""End to end on real rendered audio: the real arranger, FluidSynth with the default
sounds, espeak-ng cues. Loudness, true peak, stems null test, click onsets against the
plan's beat grid (tempo change, 3/4, 6/8, count-in), split and multichannel contents,
cue timing, mute, determinism, file formats, and bad input (unknown style, missing or
corrupt SoundFont, unwritable folder, full disk) that leaves the output folder intact."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from render_helpers import FLUIDR3, needs_fonts
from typer.testing import CliRunner

from backline import formats
from backline.arrange import engine
from backline.render.pipeline import RenderOptions, render_arrangement

pytestmark = needs_fonts

SR = 22050
CHART = """title: Integration
key: C
tempo: 120
time: 4/4
style: pop

[Intro]
| C | G |
[Verse]
| C | Am | F | G |
[Chorus]
| tempo:100 F | G | time:3/4 C | Am |
"""
WALTZ = "title: Six\nkey: G\ntempo: 150\ntime: 6/8\n\n[A]\n| G | C | tempo:120 D | G |\n"
TINY = "title: Tiny\nkey: C\ntempo: 150\ntime: 4/4\nstyle: pop\n\n[A]\n| C | Am | F | G |\n"
FULL = RenderOptions(
    sample_rate=SR, stems=True, split=True, multichannel=True, premaster=True, count_in_bars=1
)
Report = dict[str, Any]


def _song(text: str) -> Any:
    return formats.loads_songs(text.encode(), "test.chart", ".chart")[0]


def _arr(text: str = CHART, seed: int = 1, **kw: Any) -> Any:
    return engine.arrange(_song(text), kw.pop("style", None), seed=seed, intro=False, ending=False, **kw)


def _read(p: Path) -> np.ndarray:
    x, sr = sf.read(p, dtype="float64", always_2d=True)
    assert sr == SR
    return np.asarray(x)


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-30))


def _residual_db(got: np.ndarray, ref: np.ndarray) -> float:
    """Level of ``got - g * ref`` relative to ``got`` with the best gain ``g``."""
    g = float(np.dot(got, ref) / max(np.dot(ref, ref), 1e-30))
    return _db(got - g * ref) - _db(got)


def _true_peak_db(x: np.ndarray) -> float:
    from scipy.signal import resample_poly

    up = resample_poly(x, 4, 1, axis=0)
    return float(20 * np.log10(np.abs(up).max()))


def _render(arr: Any, out: Path, opts: RenderOptions) -> Report:
    render_arrangement(arr, out, opts)
    rep: Report = json.loads((out / "render.json").read_text())
    return rep


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    out = tmp_path_factory.mktemp("full")
    return out, _render(_arr(), out, FULL)


@pytest.fixture(scope="module")
def muted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    out = tmp_path_factory.mktemp("muted")
    # remastered on its own (``keep_level=False``): the target holds for the reduced mix
    opts = replace(FULL, mute=("bass",), lufs_target=-16.0, split=False, multichannel=False, keep_level=False)
    return out, _render(_arr(), out, opts)


# --- levels ---------------------------------------------------------------------------


@pytest.mark.parametrize("which,target", [("full", -14.0), ("muted", -16.0)])
def test_loudness_on_target_and_true_peak_under_ceiling(
    which: str, target: float, request: pytest.FixtureRequest
) -> None:
    pyln = pytest.importorskip("pyloudnorm")
    out, rep = request.getfixturevalue(which)
    mix = _read(out / rep["files"]["mix"])
    assert rep["synth_backend"] == "fluidsynth" and rep["sample_rate"] == SR
    lufs = pyln.Meter(SR).integrated_loudness(mix)
    assert lufs == pytest.approx(target, abs=0.5)
    assert rep["integrated_lufs"] == pytest.approx(lufs, abs=0.1)
    tp = _true_peak_db(mix)
    assert tp <= -1.0, f"true peak {tp:.2f} dBTP over the -1 dBTP ceiling"
    assert rep["true_peak_dbtp"] <= -1.0


def test_stems_sum_to_the_premaster_mix(full: tuple[Path, Report]) -> None:
    out, rep = full
    assert set(rep["files"]["stems"]) == set(rep["parts"])
    pre = _read(out / "premaster.wav")
    total = sum(_read(out / p) for p in rep["files"]["stems"].values())
    g = 10 ** (rep["stem_gain_db"] / 20)
    assert _db(total / g - pre) - _db(pre) < -50


def test_mute_bass_removes_only_the_bass(full: tuple[Path, Report], muted: tuple[Path, Report]) -> None:
    out, rep = full
    mout, mrep = muted
    assert mrep["muted"] == ["bass"] and "bass" not in mrep["files"]["stems"]
    bass = _read(out / "stems/bass.wav") / 10 ** (rep["stem_gain_db"] / 20)
    expected = _read(out / "premaster.wav") - bass
    got = _read(mout / "premaster.wav")
    assert _db(got - expected) - _db(expected) < -50
    # the bass was really there: leaving it in would not null
    assert _db(got - _read(out / "premaster.wav")) - _db(expected) > -20
    # and every other stem is unchanged (same pre-master level, so compare unscaled)
    gm = 10 ** (mrep["stem_gain_db"] / 20)
    g = 10 ** (rep["stem_gain_db"] / 20)
    for name in mrep["files"]["stems"]:
        a = _read(out / f"stems/{name}.wav") / g
        b = _read(mout / f"stems/{name}.wav") / gm
        assert _db(a - b) - _db(a) < -50, name


# --- click and cues -------------------------------------------------------------------


def _expected_beats(rep: Report) -> list[float]:
    """Beat times from render.json: count-in pulses, then every bar's pulses (x/4: each
    quarter; 6/8: two dotted quarters)."""

    def pulses(num: int, den: int, tempo: float) -> list[float]:
        q = 60.0 / tempo
        if den == 8 and num % 3 == 0:
            return [k * 1.5 * q for k in range(num // 3)]
        return [k * 4 / den * q for k in range(num)]

    bars = rep["bars"]
    first = bars[0]
    num, den = first["time_signature"]
    bar_s = num * 4 / den * 60.0 / first["tempo"]
    n_count = rep["count_in_bars"]
    assert rep["count_in_seconds"] == pytest.approx(n_count * bar_s, abs=1e-6)
    times = [k * bar_s + p for k in range(n_count) for p in pulses(num, den, first["tempo"])]
    for b in bars:
        times += [b["start_seconds"] + p for p in pulses(*b["time_signature"], b["tempo"])]
    return times


def _onsets(x: np.ndarray, expected: list[float]) -> list[float]:
    """The first sample of each click (over 10 % of its peak) near each expected time."""
    got = []
    for t in expected:
        lo, hi = max(0, int((t - 0.02) * SR)), int((t + 0.04) * SR)
        seg = np.abs(x[lo:hi])
        assert seg.size and seg.max() > 0.01, f"no click near {t:.3f} s"
        got.append((lo + int(np.argmax(seg > 0.1 * seg.max()))) / SR)
    return got


def _check_click(out: Path, rep: Report) -> None:
    click = _read(out / rep["files"]["click"])[:, 0]
    expected = _expected_beats(rep)
    got = _onsets(click, expected)
    err = np.abs(np.array(got) - np.array(expected))
    assert err.max() < 0.001, f"click {err.argmax()} off by {err.max() * 1000:.2f} ms"
    # and nothing else: the number of clicks is the number of beats
    env = np.abs(click) > 0.01
    starts = np.flatnonzero(env[1:] & ~env[:-1])
    assert np.sum(np.diff(np.concatenate(([-SR], starts))) > 0.05 * SR) == len(expected)


def test_click_follows_tempo_and_meter_changes_and_count_in(full: tuple[Path, Report]) -> None:
    out, rep = full
    sigs = {tuple(b["time_signature"]) for b in rep["bars"]}
    assert {(4, 4), (3, 4)} <= sigs and len({b["tempo"] for b in rep["bars"]}) == 2
    assert rep["count_in_bars"] == 1
    _check_click(out, rep)


def test_click_in_six_eight(tmp_path: Path) -> None:
    arr = _arr(WALTZ, parts=["bass"])
    opts = RenderOptions(sample_rate=SR, stems=True, cues=False, count_in_bars=2, soundfont=str(FLUIDR3))
    rep = _render(arr, tmp_path, opts)
    assert {tuple(b["time_signature"]) for b in rep["bars"]} == {(6, 8)}
    _check_click(tmp_path, rep)


def test_cue_speech_ends_before_each_section_downbeat(full: tuple[Path, Report]) -> None:
    from backline.render.cues import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed")
    out, rep = full
    cues = _read(out / rep["files"]["cues"])[:, 0]
    hop = int(0.005 * SR)
    m = cues.size // hop
    env = np.sqrt(np.mean(cues[: m * hop].reshape(m, hop) ** 2, axis=1))
    loud = env > env.max() * 10 ** (-40 / 20)
    bars = rep["bars"]
    starts = [
        b["start_seconds"] for i, b in enumerate(bars) if i > 0 and b["section"] != bars[i - 1]["section"]
    ]
    assert len(starts) == 2
    for t in starts:
        k0, k1 = int((t - 2.5) / 0.005), int((t + 0.25) / 0.005)
        frames = np.flatnonzero(loud[k0:k1]) + k0
        assert frames.size > 10, f"no cue before the section at {t:.2f} s"
        end = (frames[-1] + 1) * 0.005
        assert end <= t + 0.0025, f"cue ends at {end:.3f} s, after the downbeat at {t:.3f} s"
    # render.json lists what was said and where: the section cues name the bars' sections,
    # point at their downbeats and lie where the speech is
    said = [c for c in rep["cues"] if c["kind"] == "section"]
    assert [(c["text"], c["section"]) for c in said] == [("Verse", "Verse"), ("Chorus", "Chorus")]
    assert [c["target_seconds"] for c in said] == pytest.approx(starts, abs=1e-6)
    step = hop / SR  # seconds per envelope frame
    for c in said:
        a, b = int(c["start_seconds"] / step), int(c["end_seconds"] / step)
        assert loud[a : b + 1].any() and not loud[b + 2 : int(c["target_seconds"] / step)].any(), c
        assert c["end_seconds"] <= c["target_seconds"] - 0.15
    assert [c["text"] for c in rep["cues"] if c["kind"] == "count"] == ["one", "two", "three", "four"]
    # the count-in is spoken: speech in every beat of the count-in bar
    for k in range(4):
        t = k * 0.5
        assert loud[int(t / 0.005) : int((t + 0.3) / 0.005)].any(), f"no count-in word at {t} s"


# --- split and multichannel -----------------------------------------------------------


def test_split_track_channels(full: tuple[Path, Report]) -> None:
    out, rep = full
    split = _read(out / rep["files"]["split"])
    guide = _read(out / rep["files"]["click"])[:, 0] + _read(out / rep["files"]["cues"])[:, 0]
    music = sum(_read(out / p) for p in rep["files"]["stems"].values()).mean(axis=1)
    assert _residual_db(split[:, 0], guide) < -40
    # the right channel is the mastered mix in mono: the stems' sum, mastered; the
    # master's compressor and limiter are not linear, so compare with the mix itself
    mix = _read(out / rep["files"]["mix"]).mean(axis=1)
    assert _residual_db(split[:, 1], mix) < -40
    assert np.corrcoef(split[:, 1], music)[0, 1] > 0.95
    # no music in the guide, no click in the music
    assert abs(np.corrcoef(split[:, 0], music)[0, 1]) < 0.1
    assert abs(np.corrcoef(split[:, 1], guide)[0, 1]) < 0.1


def test_multichannel_has_one_channel_per_stem(full: tuple[Path, Report]) -> None:
    out, rep = full
    mc = _read(out / rep["files"]["multichannel"]["file"])
    names = rep["files"]["multichannel"]["channels"]
    assert names == ["click", "cues", *rep["parts"]] and mc.shape[1] == len(names)
    for i, name in enumerate(names):
        ref = _read(out / (rep["files"]["stems"].get(name) or rep["files"][name])).mean(axis=1)
        assert mc.shape[0] == ref.shape[0]
        assert np.abs(mc[:, i] - ref).max() < 1e-5, name
        assert np.abs(ref).max() > 0.01, f"{name} is silent"


# --- determinism ----------------------------------------------------------------------


def _mix_hash(out: Path) -> str:
    return hashlib.sha256((out / "mix.wav").read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_differs(full: tuple[Path, Report], tmp_path: Path) -> None:
    out, _rep = full
    lean = RenderOptions(sample_rate=SR, count_in_bars=1, click=False, cues=False, midi=False)
    _render(_arr(seed=1), tmp_path / "again", lean)
    assert _mix_hash(tmp_path / "again") == _mix_hash(out)
    _render(_arr(seed=2), tmp_path / "other", lean)
    assert _mix_hash(tmp_path / "other") != _mix_hash(out)


@pytest.mark.parametrize("fmt", ["flac", "mp3", "ogg"])
def test_compressed_formats_read_back(fmt: str, tmp_path: Path) -> None:
    arr = _arr(TINY, parts=["bass", "drums"])
    opts = RenderOptions(sample_rate=44100, fmt=fmt, stems=True, split=True, cues=False, midi=False)
    render_arrangement(arr, tmp_path, opts)
    rep = json.loads((tmp_path / "render.json").read_text())
    from pedalboard.io import AudioFile

    for rel in [rep["files"]["mix"], rep["files"]["split"], *rep["files"]["stems"].values()]:
        assert rel.endswith("." + fmt)
        with AudioFile(str(tmp_path / rel)) as f:
            assert f.samplerate == 44100
            # MP3 encoders add up to a frame of padding
            assert f.frames / f.samplerate == pytest.approx(rep["duration_seconds"], abs=0.06)
            x = f.read(f.frames)
        assert np.abs(x).max() > 0.05


# --- bad input ------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.chart"
    p.write_text(TINY)
    return p


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """An output folder with earlier work in it."""
    out = tmp_path / "out"
    (out / "stems").mkdir(parents=True)
    (out / "mix.wav").write_bytes(b"earlier mix")
    (out / "stems/bass.wav").write_bytes(b"earlier bass")
    (out / "notes.txt").write_text("keep me")
    return out


def _unharmed(out: Path) -> None:
    found = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert found == ["mix.wav", "notes.txt", "stems", "stems/bass.wav"], found
    assert (out / "mix.wav").read_bytes() == b"earlier mix"
    assert (out / "stems/bass.wav").read_bytes() == b"earlier bass"
    assert (out / "notes.txt").read_text() == "keep me"


def _cli(*args: str) -> tuple[int, str]:
    from backline.cli.app import app

    res = runner.invoke(app, ["render", *args, "-q", "--sample-rate", str(SR)])
    text = res.output + (res.stderr if res.stderr_bytes is not None else "")
    return res.exit_code, text


def test_unknown_style(chart: Path, precious: Path) -> None:
    code, text = _cli(str(chart), "-o", str(precious), "--style", "polka-metal")
    assert code == 2 and "polka-metal" in text and "Traceback" not in text
    _unharmed(precious)


def test_missing_soundfont(chart: Path, precious: Path, tmp_path: Path) -> None:
    code, text = _cli(str(chart), "-o", str(precious), "--soundfont", str(tmp_path / "nowhere.sf2"))
    assert code == 2 and "nowhere.sf2" in text and "not found" in text and "Traceback" not in text
    _unharmed(precious)


@pytest.mark.parametrize("content", ["garbage", "truncated"])
def test_corrupt_soundfont(content: str, chart: Path, precious: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.sf2"
    if content == "garbage":
        bad.write_bytes(np.random.default_rng(7).bytes(50_000))
    else:  # a real SoundFont cut short: the header promises more than the file holds
        with open(FLUIDR3, "rb") as fh:
            bad.write_bytes(fh.read(200_000))
    code, text = _cli(str(chart), "-o", str(precious), "--soundfont", str(bad))
    assert code == 2 and "broken.sf2" in text and "Traceback" not in text
    _unharmed(precious)


def test_output_folder_under_a_file(chart: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, text = _cli(str(chart), "-o", str(blocker / "out"), "--soundfont", str(FLUIDR3))
    assert code == 2 and "cannot write" in text and "Traceback" not in text
    assert blocker.read_text() == "not a folder"


_FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), hard))
    from backline.cli.app import app
    sys.argv = ["backline", "render", *sys.argv[2:]]
    app()
    """
)


@pytest.mark.parametrize("limit", [1_000_000, 3_000_000])
def test_full_disk(limit: int, chart: Path, precious: Path) -> None:
    """Files can grow only to ``limit`` bytes (EFBIG, as on a full disk): 1 MB fails while
    parking the first stem, 3 MB while writing the multichannel WAV. No cues: under a
    file-size limit espeak-ng dies (SIGXFSZ) creating PulseAudio's 64 MB shared-memory
    file, which a real full disk would not touch."""
    args = [str(chart), "-o", str(precious), "--stems", "--split", "--multichannel", "--no-cues"]
    args += ["--sample-rate", str(SR), "--soundfont", str(FLUIDR3), "-q"]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(limit), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "cannot write" in text and "File too large" in text and "Traceback" not in text
    _unharmed(precious)
