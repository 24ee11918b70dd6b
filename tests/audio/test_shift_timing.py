"""``audio shift`` timing, joins, names and option checks, measured on real Rubber Band output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pedalboard")

import backline.audio.shift as shift_mod
from backline.audio.io import read_audio, write_audio
from backline.audio.shift import is_click_or_cue, shift_audio, shift_file_report, shift_folder

SR = 44100


def bursts(seconds: float, period: float = 0.5, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Noise bursts (20 ms, 4 ms decay) every ``period`` s, and their start times."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * SR), np.float32)
    times = np.arange(0.25, seconds - 0.3, period)
    n = int(0.02 * SR)
    decay = np.exp(-np.arange(n) / (0.004 * SR))
    for t in times:
        i = int(t * SR)
        x[i : i + n] += (0.5 * rng.standard_normal(n) * decay).astype(np.float32)
    return x, times


def onset_times(z: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Where each burst's smoothed envelope first reaches half its peak, near ``expected``."""
    env = np.convolve(np.abs(z), np.ones(44) / 44, mode="same")
    out = []
    for t in expected:
        i0, i1 = max(0, int((t - 0.05) * SR)), int((t + 0.08) * SR)
        seg = env[i0:i1]
        out.append((i0 + int(np.flatnonzero(seg >= 0.5 * seg.max())[0])) / SR)
    return np.array(out)


def tone_hz(x: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), n=x.size * 4))
    f = np.fft.rfftfreq(x.size * 4, 1 / SR)
    band = (f > lo) & (f < hi)
    k = int(np.flatnonzero(band)[np.argmax(spec[band])])
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-12)
    return float((k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / (x.size * 4))


def cents(f: float, ref: float) -> float:
    return float(1200 * np.log2(f / ref))


def test_click_and_drums_stay_on_one_time_map(tmp_path: Path) -> None:
    """Identical stems (noise bursts plus a held 1 kHz tone) named drums.wav and click.wav,
    shifted +3 semitones at tempo 1.05: every burst of the two outputs within 2 ms of each
    other (separate Rubber Band calls drifted 31 ms apart over 20 s), both within 3 ms
    of t/1.05, and the click's tone not pitch-shifted (within 5 cents; drums' within 6)."""
    x, times = bursts(20.0)
    t = np.arange(x.size) / SR
    stem = x + (0.05 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    src = tmp_path / "stems"
    src.mkdir()
    write_audio(src / "drums.wav", stem[None], SR, bit_depth="float")
    write_audio(src / "click.wav", stem[None], SR, bit_depth="float")
    res = shift_folder(src, tmp_path / "out", semitones=3, tempo_ratio=1.05)
    assert [p.name for p in res.pitch_kept] == ["click.wav"]
    drums = read_audio(tmp_path / "out" / "drums.wav")[0][0]
    click = read_audio(tmp_path / "out" / "click.wav")[0][0]
    ideal = times / 1.05
    a, b = onset_times(drums, ideal), onset_times(click, ideal)
    assert np.abs(a - b).max() < 0.002
    assert np.abs(b - ideal).max() < 0.003
    assert np.abs(a - ideal).max() < 0.003
    mid = slice(int(5 * SR), int(9 * SR))
    # not shifted: a 3-semitone shift would be 300 cents away; what is left (about 3 cents
    # per Rubber Band pass) comes from re-timing its drift onto the exact grid
    assert abs(cents(tone_hz(click[mid], 900, 1100), 1000.0)) < 5
    assert abs(cents(tone_hz(drums[mid], 1100, 1300), 1000.0 * 2 ** (3 / 12))) < 6


def test_tempo_change_keeps_the_beat_grid() -> None:
    """Sparse bursts at --tempo 0.9: Rubber Band alone is 35 ms late after 20 s (112 ms
    after 60 s); re-timed, every burst lands within 3 ms of t/0.9."""
    x, times = bursts(20.0)
    y = shift_audio(x[None], SR, tempo_ratio=0.9)[0]
    assert y.size == round(x.size / 0.9)
    got = onset_times(y, times / 0.9)
    assert np.abs(got - times / 0.9).max() < 0.003


def test_chunk_joins_are_seamless(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4 s joined in a 2 s overlap: a held tone does not dip by more than 0.5 dB
    at a join (the old 1 s crossfade of two runs dipped 2.6 dB) and every burst of a
    burst train comes out once, on time (no doubled onsets)."""
    monkeypatch.setattr(shift_mod, "CHUNK_SECONDS", 4.0)
    monkeypatch.setattr(shift_mod, "CONTEXT_SECONDS", 1.0)
    t = np.arange(int(13 * SR)) / SR
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None]
    y = shift_audio(tone, SR, semitones=2, tempo_ratio=1.1)[0]
    w = SR // 100
    rms = np.sqrt((y[: (y.size // w) * w].reshape(-1, w) ** 2).mean(axis=1))[30:-30]
    assert 20 * np.log10(rms.min() / np.median(rms)) > -0.5
    x, times = bursts(13.0, period=0.37)
    z = shift_audio(x[None], SR, semitones=2, tempo_ratio=1.1)[0]
    ideal = times / 1.1
    assert np.abs(onset_times(z, ideal) - ideal).max() < 0.003
    # between bursts nothing: a doubled onset would put a second burst there
    for t0 in ideal[:-1]:
        gap = z[int((t0 + 0.12) * SR) : int((t0 + 0.3) * SR)]
        assert np.abs(gap).max() < 0.05


@pytest.mark.parametrize(
    ("name", "click"),
    [
        ("click.wav", True),
        ("Click_L.wav", True),
        ("ClickTrack.flac", True),
        ("count-in.wav", True),
        ("CountIn.wav", True),
        ("02 Cues.wav", True),
        ("metronome.wav", True),
        ("guide.wav", True),
        ("country_fiddle.wav", False),
        ("Cuerdas.wav", False),
        ("countermelody.wav", False),
        ("clicky_synth.wav", False),
        ("bass.wav", False),
    ],
)
def test_click_and_cue_names_are_whole_words(name: str, click: bool) -> None:
    assert is_click_or_cue(name) is click


def test_hidden_files_in_a_stems_folder_are_skipped(tmp_path: Path) -> None:
    src = tmp_path / "stems"
    src.mkdir()
    write_audio(src / "bass.wav", (0.2 * np.sin(np.arange(SR) / 20)).astype(np.float32)[None], SR)
    (src / "._bass.wav").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 200)  # macOS AppleDouble
    (src / ".DS_Store").write_bytes(b"\x00" * 64)
    res = shift_folder(src, tmp_path / "out", semitones=1)
    assert [p.name for p in res.outputs] == ["bass.wav"]
    assert not (tmp_path / "out" / "._bass.wav").exists()


def test_clipping_is_counted(tmp_path: Path) -> None:
    """A full-scale square wave shifted up overshoots: without headroom the samples
    clipped are counted; by default the output is turned down to the source's peak."""
    t = np.arange(2 * SR) / SR
    sq = np.sign(np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None] * 0.99
    src = tmp_path / "sq.wav"
    write_audio(src, sq, SR)
    res = shift_file_report(src, tmp_path / "up.wav", semitones=2, headroom=False)
    assert res.clipped > 0 and res.peak_dbfs > 0
    res = shift_file_report(src, tmp_path / "upf.wav", semitones=2, bit_depth="float", headroom=False)
    assert res.clipped == 0 and res.peak_dbfs > 0
    res = shift_file_report(src, tmp_path / "kept.wav", semitones=2)
    assert res.clipped == 0 and res.shifted_peak_dbfs > 0
    assert res.peak_dbfs == pytest.approx(20 * np.log10(0.99), abs=0.01) and res.gain_db < 0


def test_tempo_source_prefers_click_then_drums_then_a_mix(tmp_path: Path) -> None:
    from backline.audio.source import tempo_source as _tempo_source

    one = (0.1 * np.ones((1, SR // 2))).astype(np.float32)
    src = tmp_path / "s"
    src.mkdir()
    for name in ("bass.wav", "drums.wav", "keys.wav"):
        write_audio(src / name, one, SR)
    assert _tempo_source(src)[0] == src / "drums.wav"
    write_audio(src / "click.wav", one, SR)
    assert _tempo_source(src)[0] == src / "click.wav"
    (src / "click.wav").unlink()
    (src / "drums.wav").unlink()
    path, words = _tempo_source(src)
    assert path is None and "mix of the 2 stems" in words


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bit-depth", "abc"], "use 16, 24 or float"),
        (["--bit-depth", "32"], "use 16, 24 or float"),
        (["--semitones", "nan"], "semitones must be a number"),
        (["--semitones", "100"], "semitones must be a number"),
        (["--tempo", "nan"], "tempo ratio must be a number"),
        (["--tempo", "9"], "tempo ratio must be a number"),
        (["--bpm", "0"], "not a tempo"),
    ],
)
def test_bad_shift_options_are_refused_up_front(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from backline.cli.app import app

    src = tmp_path / "a.wav"
    write_audio(src, (0.1 * np.ones((1, SR))).astype(np.float32), SR)
    out = tmp_path / "b.wav"
    r = CliRunner().invoke(app, ["audio", "shift", str(src), "-o", str(out), *args])
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output and r.output.count("cannot write") == 0
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"), [(["--sound", "bogus"], "unknown --sound"), (["--count-in", "-1"], "--count-in")]
)
def test_bad_click_options_are_refused_before_the_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    import backline.audio.click as click_mod
    from backline.cli.app import app

    def no_analysis(*a: object, **k: object) -> None:
        raise AssertionError("analysed before checking the options")

    monkeypatch.setattr(click_mod, "click_for_audio", no_analysis)
    src = tmp_path / "a.wav"
    write_audio(src, (0.1 * np.ones((1, SR))).astype(np.float32), SR)
    r = CliRunner().invoke(app, ["audio", "click", str(src), "-o", str(tmp_path / "c"), *args])
    assert r.exit_code == 2, r.output
    assert message in r.output
