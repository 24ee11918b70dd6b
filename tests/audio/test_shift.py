"""Pitch shift and time stretch, measured on test signals: cents, exact lengths, stems aligned."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pedalboard")

import backline.audio.shift as shift_mod
from backline.audio.io import read_audio, write_audio
from backline.audio.shift import shift_audio, shift_file, shift_file_report, shift_folder
from backline.errors import AudioInputError, OutputError

SR = 44100


def sine(freq: float, seconds: float, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None]


def peak_hz(x: np.ndarray) -> float:
    seg = x[0, len(x[0]) // 4 : len(x[0]) // 4 + SR * 2]
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size), n=seg.size * 8))
    k = int(np.argmax(spec))
    # parabolic interpolation of the peak
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-12)
    k_f = k + 0.5 * (a - c) / (a - 2 * b + c)
    return float(k_f * SR / (seg.size * 8))


def cents(f: float, ref: float) -> float:
    return float(1200 * np.log2(f / ref))


@pytest.mark.parametrize("semitones", [2, -3])
def test_pitch_shift_within_5_cents_and_duration_kept(semitones: int) -> None:
    x = sine(440.0, 6.0)
    y = shift_audio(x, SR, semitones=semitones)
    assert y.shape == x.shape
    assert abs(cents(peak_hz(y), 440.0 * 2 ** (semitones / 12))) < 5


@pytest.mark.parametrize("ratio", [1.25, 0.8, 1.037])
def test_tempo_change_exact_length_pitch_kept(ratio: float) -> None:
    x = sine(440.0, 6.0)
    y = shift_audio(x, SR, tempo_ratio=ratio)
    expected = x.shape[1] / ratio
    assert abs(y.shape[1] - expected) / expected < 0.001
    assert abs(cents(peak_hz(y), 440.0)) < 5


def test_chunked_processing_keeps_length_and_pitch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shift_mod, "CHUNK_SECONDS", 3.0)
    monkeypatch.setattr(shift_mod, "CONTEXT_SECONDS", 0.5)
    monkeypatch.setattr(shift_mod, "FADE_SECONDS", 0.2)
    x = sine(330.0, 10.0)
    y = shift_audio(x, SR, semitones=2, tempo_ratio=1.1)
    assert y.shape[1] == round(x.shape[1] / 1.1)
    assert abs(cents(peak_hz(y), 330.0 * 2 ** (2 / 12))) < 5
    # no dropouts at the seams: every 10 ms window keeps most of the level
    w = SR // 100
    rms = np.sqrt((y[0, : (y.shape[1] // w) * w].reshape(-1, w) ** 2).mean(axis=1))[20:-20]
    assert rms.min() > 0.25 * np.median(rms)


def test_folder_of_stems_stays_aligned_and_click_keeps_pitch(tmp_path: Path) -> None:
    src = tmp_path / "stems"
    src.mkdir()
    write_audio(src / "bass.wav", sine(110.0, 4.0), SR)
    write_audio(src / "keys.flac", sine(440.0, 3.5), SR)  # shorter: padded
    write_audio(src / "click.wav", sine(1000.0, 4.0), SR)
    res = shift_folder(src, tmp_path / "out", semitones=-3, tempo_ratio=0.9)
    lengths = {p.name: read_audio(p)[0].shape[1] for p in res.outputs}
    assert len(set(lengths.values())) == 1
    assert next(iter(lengths.values())) == round(4.0 * SR / 0.9)
    click, _ = read_audio(tmp_path / "out" / "click.wav")
    keys, _ = read_audio(tmp_path / "out" / "keys.flac")
    assert abs(cents(peak_hz(click), 1000.0)) < 5
    assert abs(cents(peak_hz(keys), 440.0 * 2 ** (-3 / 12))) < 5
    assert [p.name for p in res.pitch_kept] == ["click.wav"]


def test_never_overwrites_input(tmp_path: Path) -> None:
    f = tmp_path / "a.wav"
    write_audio(f, sine(440.0, 1.0), SR)
    before = f.read_bytes()
    with pytest.raises(AudioInputError, match="overwrite"):
        shift_file(f, f, semitones=1)
    assert f.read_bytes() == before


def test_a_folder_is_not_shifted_into_a_folder_named_like_a_file(tmp_path: Path) -> None:
    stems = tmp_path / "stems"
    stems.mkdir()
    write_audio(stems / "bass.wav", sine(110.0, 0.5), SR)
    with pytest.raises(
        OutputError, match=r"one.wav: a folder of stems is shifted into a folder.*e.g. .*one\)"
    ):
        shift_folder(stems, tmp_path / "one.wav", semitones=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stems"]


def test_retune_a_folder_to_a440_from_the_command_line(tmp_path: Path) -> None:
    """Stems of a band tuned to A = 432 Hz, retuned with ``--a4 440``: the keys' A3 lands
    on 220 Hz within 5 cents (the tuning is measured on the keys, not on the click), the
    click keeps its pitch, and an impossible concert pitch is a message, not a traceback."""
    from typer.testing import CliRunner

    from backline.cli.app import app

    src = tmp_path / "stems"
    src.mkdir()
    a3 = 220.0 * 432.0 / 440.0
    write_audio(src / "keys.wav", sum(sine(a3 * h, 6.0, amp=0.3 / h) for h in (1, 2, 3)), SR)
    write_audio(src / "click.wav", sine(1000.0, 6.0), SR)
    runner = CliRunner()
    r = runner.invoke(app, ["audio", "shift", str(src), "--a4", "440", "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    measured = re.search(r"A4 = (\d+\.\d) Hz: ([+-]\d+) cents", r.output)
    assert measured is not None, r.output
    assert float(measured[1]) == pytest.approx(432.0, abs=1.0)  # within 4 cents
    assert int(measured[2]) == pytest.approx(32, abs=4)
    keys, _ = read_audio(tmp_path / "out" / "keys.wav")
    click, _ = read_audio(tmp_path / "out" / "click.wav")
    assert abs(cents(peak_hz(keys), 220.0)) < 5
    assert abs(cents(peak_hz(click), 1000.0)) < 5
    bad = runner.invoke(app, ["audio", "shift", str(src), "--a4", "4400", "-o", str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "not a concert pitch" in bad.output
    assert "Traceback" not in bad.output


def test_retune_and_new_tempo_read_the_source_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--a4 440 --bpm 90`` on one file of A3 notes at A = 432 Hz, played at 120 BPM:
    the file is analysed once for both (not once per option), the notes land on 220 Hz
    within 5 cents, and the length grows by 120/90 within 2%."""
    from typer.testing import CliRunner

    import backline.audio.analyze.core as core_mod
    import backline.audio.analyze.features as features_mod
    from backline.cli.app import app

    real = features_mod.extract_features
    calls: list[object] = []

    def counted(path: object) -> object:
        calls.append(path)
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(features_mod, "extract_features", counted)
    monkeypatch.setattr(core_mod, "extract_features", counted)
    a3 = 220.0 * 432.0 / 440.0
    t = np.arange(int(12.0 * SR)) / SR
    env = np.exp(-((t % 0.5) / 0.15))  # a note every beat at 120 BPM
    tone = sum(np.sin(2 * np.pi * a3 * h * t) / h for h in (1, 2, 3))
    src = tmp_path / "song.wav"
    write_audio(src, (0.3 * env * tone).astype(np.float32)[None], SR)
    r = CliRunner().invoke(
        app, ["audio", "shift", str(src), "--a4", "440", "--bpm", "90", "-o", str(tmp_path / "o.wav")]
    )
    assert r.exit_code == 0, r.output
    assert len(calls) == 1
    out, _ = read_audio(tmp_path / "o.wav")
    assert out.shape[1] / (12.0 * SR) == pytest.approx(120 / 90, rel=0.02)
    # 6 cents: the measured A4 (within 4 cents) plus up to 3 cents from re-timing Rubber
    # Band's drift onto the exact beat grid (see backline.audio.shift)
    assert abs(cents(peak_hz(out), 220.0)) < 6


def test_progress_rises_to_the_total_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder shifted in chunks (three of 1 s, two Rubber Band passes each: a click stem
    keeps its pitch) reports the seconds done after each pass and chunk, rising strictly
    to the total; the level pass that follows reports the last 5% as it writes each
    stem's blocks, not a bar stuck at 100% (it used to be); the files are the same as
    without a progress callback."""
    monkeypatch.setattr(shift_mod, "CHUNK_SECONDS", 1.0)
    monkeypatch.setattr(shift_mod, "CONTEXT_SECONDS", 0.5)
    monkeypatch.setattr(shift_mod, "_REPLAY_FRAMES", 22050)
    src = tmp_path / "stems"
    src.mkdir()
    write_audio(src / "keys.wav", sine(440.0, 3.0), SR)
    write_audio(src / "click.wav", sine(1000.0, 2.5), SR)  # shorter: the total is the longest
    calls: list[tuple[float, float]] = []
    res = shift_folder(
        src, tmp_path / "a", semitones=2, tempo_ratio=0.9, progress=lambda d, t: calls.append((d, t))
    )
    done = [d for d, _ in calls]
    assert {t for _, t in calls} == {3.0}
    assert len(calls) >= 6  # two passes in each of three chunks
    assert all(b > a for a, b in itertools.pairwise(done)) and done[0] > 0
    assert done[-1] == 3.0
    levelling = [d for d in done if d > shift_mod.SHIFT_SHARE * 3.0]
    assert len(levelling) >= 2 * 3 * 0.9 / 0.5  # two stems of 3.3 s in 0.5 s blocks
    plain = shift_folder(src, tmp_path / "b", semitones=2, tempo_ratio=0.9)
    for p, q in zip(res.outputs, plain.outputs, strict=True):
        assert np.array_equal(read_audio(p)[0], read_audio(q)[0])


def test_progress_of_one_block_and_of_a_copy(tmp_path: Path) -> None:
    """A short file in one Rubber Band call reports once when shifted (95%: the level
    pass follows) and once at the end; no shift at all (a copy) reports the same."""
    f = tmp_path / "a.wav"
    write_audio(f, sine(440.0, 2.0), SR)
    for semitones in (1.0, 0.0):
        calls: list[tuple[float, float]] = []

        def record(done: float, total: float, calls: list[tuple[float, float]] = calls) -> None:
            calls.append((done, total))

        shift_file(f, tmp_path / "b.wav", semitones=semitones, progress=record)
        assert calls == [(2.0 * shift_mod.SHIFT_SHARE, 2.0), (2.0, 2.0)]


# --------------------------------------------------------------------------- headroom


def mastered(seconds: float = 3.0, peak_db: float = -1.0) -> np.ndarray:
    """A dense stereo mix (six notes of eleven harmonics, noise bursts on every quarter
    second, hiss) driven 9 dB into a 2 ms look-ahead limiter and set to ``peak_db`` sample
    peak: what a bought backing track looks like to a pitch shift (+2 st raises its peaks
    about 0.5 dB, -3 st about 1.4 dB)."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    rng = np.random.default_rng(1)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = np.zeros((2, n))
    for f0 in (110.0, 138.6, 164.8, 220.0, 277.2, 329.6):
        for h in range(1, 12):
            x += (0.3 / h) * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi, (2, 1)))
    hit = int(0.05 * SR)
    for i in range(0, n - hit, SR // 4):
        x[:, i : i + hit] += 3 * rng.standard_normal((2, hit)) * np.exp(-np.arange(hit) / (0.01 * SR))
    x += 0.2 * rng.standard_normal((2, n))
    x *= 10 ** (9 / 20) / np.abs(x).max()
    gain = np.minimum(1.0, 1.0 / np.maximum(np.abs(x).max(axis=0), 1e-9))
    look = int(0.002 * SR)
    gain = minimum_filter1d(uniform_filter1d(minimum_filter1d(gain, 2 * look + 1), look), look)
    y = x * gain
    return (y * 10 ** (peak_db / 20) / np.abs(y).max()).astype(np.float32)


def db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.abs(x).max()))


@pytest.mark.parametrize("semitones", [2, -3])
def test_a_mastered_track_keeps_its_peak_by_the_smallest_gain(tmp_path: Path, semitones: int) -> None:
    """A track limited to -1 dBFS, shifted: its peaks rise past -1 dBFS (raw), so the
    24-bit output is turned down by one constant gain to the source's peak (not under it
    by more than 0.1 dB), and nothing clips; the same shift written as float without
    headroom is the same audio, louder by exactly that gain (a gain, not a limiter)."""
    src = tmp_path / "master.wav"
    write_audio(src, mastered(), SR)
    res = shift_file_report(src, tmp_path / "out.wav", semitones=semitones)
    y, _ = read_audio(tmp_path / "out.wav")
    assert res.source_peak_dbfs == pytest.approx(-1.0, abs=0.01)
    assert res.shifted_peak_dbfs > -0.7  # the shift raised the peaks: there is something to keep
    assert db(y) <= -1.0 + 0.05
    assert db(y) >= -1.0 - 0.1  # the smallest gain: back to the source's peak, not below
    assert res.ceiling_dbfs == pytest.approx(-1.0, abs=0.01)
    assert res.gain_db == pytest.approx(res.ceiling_dbfs - res.shifted_peak_dbfs, abs=0.001)
    assert res.peak_dbfs == pytest.approx(db(y), abs=0.01)
    assert res.clipped == 0 and np.count_nonzero(np.abs(y) >= 1.0) == 0
    assert res.level_set_by == tmp_path / "out.wav"
    raw = shift_file_report(src, tmp_path / "raw.wav", semitones=semitones, bit_depth="float", headroom=False)
    assert raw.gain_db == 0.0 and raw.peak_dbfs == pytest.approx(res.shifted_peak_dbfs, abs=1e-4)
    kept = shift_file_report(src, tmp_path / "kept.wav", semitones=semitones, bit_depth="float")
    assert kept.gain_db == pytest.approx(res.gain_db, abs=1e-4)
    a, _ = read_audio(tmp_path / "raw.wav")
    b, _ = read_audio(tmp_path / "kept.wav")
    np.testing.assert_allclose(b, a * np.float32(10 ** (kept.gain_db / 20)), atol=2e-7)


def test_a_quiet_source_is_left_as_it_was(tmp_path: Path) -> None:
    """A source peaking at -12 dBFS rises a little with the shift but stays far under
    -1 dBFS: no gain, and the file is byte for byte what one pass without headroom writes."""
    src = tmp_path / "quiet.wav"
    write_audio(src, mastered(peak_db=-12.0), SR)
    res = shift_file_report(src, tmp_path / "a.wav", semitones=-3)
    raw = shift_file_report(src, tmp_path / "b.wav", semitones=-3, headroom=False)
    assert res.gain_db == 0.0 and res.level_set_by is None
    assert res.shifted_peak_dbfs > res.source_peak_dbfs  # it did rise, under the floor
    assert res.ceiling_dbfs == pytest.approx(shift_mod.HEADROOM_FLOOR_DBFS)
    assert res.peak_dbfs == raw.peak_dbfs
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav", "quiet.wav"]


def test_a_quiet_source_shifted_over_the_floor_is_kept_under_it(tmp_path: Path) -> None:
    """A source at -1.5 dBFS whose shifted peaks pass -1 dBFS is turned down to -1 dBFS,
    not to its own peak (a source quieter than a master's ceiling has that room)."""
    src = tmp_path / "s.wav"
    write_audio(src, mastered(peak_db=-1.5), SR)
    res = shift_file_report(src, tmp_path / "o.flac", semitones=-3)
    y, _ = read_audio(tmp_path / "o.flac")
    assert res.shifted_peak_dbfs > -1.0 and res.gain_db < 0
    assert -1.1 <= db(y) <= -1.0 + 0.05
    assert res.ceiling_dbfs == pytest.approx(-1.0)


def test_a_float_source_over_full_scale_fits_a_24_bit_output(tmp_path: Path) -> None:
    src = tmp_path / "hot.wav"
    write_audio(src, mastered(peak_db=3.0), SR, bit_depth="float")
    res = shift_file_report(src, tmp_path / "o.wav", semitones=2)
    y, _ = read_audio(tmp_path / "o.wav")
    assert res.ceiling_dbfs == 0.0 and res.clipped == 0
    assert -0.1 <= db(y) <= 0.0
    # a float output keeps the source's overs (and only those)
    res = shift_file_report(src, tmp_path / "f.wav", semitones=2, bit_depth="float")
    assert res.ceiling_dbfs == pytest.approx(3.0, abs=0.01)
    assert 2.9 <= db(read_audio(tmp_path / "f.wav")[0]) <= 3.05


def test_an_mp3_is_aimed_a_decibel_lower_for_the_encoder(tmp_path: Path) -> None:
    src = tmp_path / "master.wav"
    write_audio(src, mastered(), SR)
    res = shift_file_report(src, tmp_path / "o.mp3", semitones=-3)
    assert res.ceiling_dbfs == pytest.approx(-1.0 - shift_mod.LOSSY_MARGIN_DB, abs=0.01)
    assert res.peak_dbfs == pytest.approx(res.ceiling_dbfs, abs=0.01)  # what went into the encoder
    y, _ = read_audio(tmp_path / "o.mp3")
    assert db(y) <= -1.0 + 0.05  # decoded, the encoder's overshoot included


def test_stems_are_turned_down_together(tmp_path: Path) -> None:
    """A mastered stem that rises and a quiet one that does not: both get the one gain
    that keeps the loud one at its source's peak, so the balance between them is kept."""
    stems = tmp_path / "stems"
    stems.mkdir()
    write_audio(stems / "band.wav", mastered(), SR)
    write_audio(stems / "bass.wav", 0.3 * sine(110.0, 3.0, amp=1.0).repeat(2, axis=0), SR)
    res = shift_folder(stems, tmp_path / "kept", semitones=-3, bit_depth="float")
    raw = shift_folder(stems, tmp_path / "raw", semitones=-3, bit_depth="float", headroom=False)
    assert res.level_set_by == tmp_path / "kept" / "band.wav" and res.gain_db < -0.5
    assert raw.gain_db == 0.0
    g = np.float32(10 ** (res.gain_db / 20))
    for name in ("band.wav", "bass.wav"):
        kept, _ = read_audio(tmp_path / "kept" / name)
        plain, _ = read_audio(tmp_path / "raw" / name)
        np.testing.assert_allclose(kept, plain * g, atol=2e-7)
    band, bass = (read_audio(tmp_path / "kept" / n)[0] for n in ("band.wav", "bass.wav"))
    raw_band, raw_bass = (read_audio(tmp_path / "raw" / n)[0] for n in ("band.wav", "bass.wav"))
    assert db(band) == pytest.approx(-1.0, abs=0.05)
    assert db(bass) - db(band) == pytest.approx(db(raw_bass) - db(raw_band), abs=0.01)
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["band.wav", "bass.wav"]


def test_without_headroom_the_peaks_clip_as_before(tmp_path: Path) -> None:
    src = tmp_path / "master.wav"
    write_audio(src, mastered(), SR)
    res = shift_file_report(src, tmp_path / "o.wav", semitones=-3, headroom=False)
    assert res.gain_db == 0.0 and res.ceiling_dbfs == float("inf") and res.level_set_by is None
    assert res.peak_dbfs > -1.0 + 0.5 and res.clipped > 0
    assert db(read_audio(tmp_path / "o.wav")[0]) == pytest.approx(0.0, abs=0.01)  # clipped at full scale


def test_a_failure_in_the_second_pass_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up while the first pass is streamed into the output: the error
    passes through, the old output is untouched, and neither the output's temporary file
    nor the first pass's float file is left behind. Same for a failure in the first pass."""
    src = tmp_path / "master.wav"
    write_audio(src, mastered(), SR)
    out = tmp_path / "out" / "o.wav"
    out.parent.mkdir()
    out.write_bytes(b"the old take")
    real = shift_mod._Scratch.blocks
    monkeypatch.setattr(shift_mod, "_REPLAY_FRAMES", 4096)

    def full_disk(self: shift_mod._Scratch) -> Iterator[np.ndarray]:
        blocks = real(self)
        yield next(blocks)
        raise OutputError(f"cannot write {out}: No space left on device")

    monkeypatch.setattr(shift_mod._Scratch, "blocks", full_disk)
    with pytest.raises(OutputError, match="No space left"):
        shift_file(src, out, semitones=-3)
    assert out.read_bytes() == b"the old take"
    assert [p.name for p in out.parent.iterdir()] == ["o.wav"]

    def stop(done: float, total: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        shift_file(src, tmp_path / "out" / "new.wav", semitones=-3, progress=stop)
    assert [p.name for p in out.parent.iterdir()] == ["o.wav"]
