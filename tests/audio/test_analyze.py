"""Analysis of recordings: tempo, beats, downbeats, meter, key, chords, sections, chart."""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import mir_eval
import numpy as np
import pytest
import soundfile as sf
from _analysis_signals import SR, clicks, midi_hz, progression, syncopated

from backline.audio.analyze import Analysis, analysis_to_song, analyze_array, analyze_file, estimate_tempo
from backline.audio.analyze.chart import harte_to_chord
from backline.audio.analyze.harte import chord_to_harte
from backline.errors import AudioInputError
from backline.formats import load_song, save_song
from backline.model.chord import parse_chord
from corpora import corpora_path

POP = [(0, "maj"), (9, "min"), (5, "maj"), (7, "7")]


@pytest.fixture(scope="module")
def pop_song() -> tuple[Analysis, np.ndarray]:
    y, beats = progression(POP * 4, bpm=112)
    return analyze_array(y, SR), beats


@pytest.mark.parametrize("bpm", [90.0, 128.0])
def test_tempo_and_beats_of_a_click_train(bpm: float) -> None:
    ref = np.arange(0.3, 19.5, 60 / bpm)
    a = analyze_array(clicks(ref, 20.0), SR)
    assert a.tempo == pytest.approx(bpm, rel=0.04)
    assert mir_eval.beat.f_measure(ref, np.array(a.beats)) >= 0.95
    # Beats land on the clicks, not a frame early or late.
    err = [min(abs(ref - b)) for b in a.beats]
    assert np.median(err) < 0.012
    # The accented clicks are the downbeats.
    assert a.time_signature == (4, 4)
    assert mir_eval.beat.f_measure(ref[::4], np.array(a.downbeats)) >= 0.9


def test_progression_beats_downbeats_key_chords(pop_song: tuple[Analysis, np.ndarray]) -> None:
    a, beats = pop_song
    assert a.tempo == pytest.approx(112, rel=0.04)
    assert mir_eval.beat.f_measure(beats, np.array(a.beats)) >= 0.9
    assert mir_eval.beat.f_measure(beats[::4], np.array(a.downbeats)) >= 0.9
    assert a.key == "C major"
    labels = [c.label for c in a.chords if c.label != "N"]
    assert labels[:4] == ["C:maj", "A:min", "F:maj", "G:7"]
    mir_eval.chord.validate([c.label for c in a.chords], [c.label for c in a.chords])
    # Chord spans cover the file without gaps.
    assert a.chords[0].start == 0.0 and a.chords[-1].end == pytest.approx(a.duration)
    assert all(x.end == pytest.approx(y.start) for x, y in zip(a.chords, a.chords[1:], strict=False))
    # nothing past the end of the file (a beat tracked a frame past it ended a chord at 30.007 s of 30 s)
    assert max(a.beats) <= a.duration and all(c.end <= a.duration for c in a.chords)
    assert a.confidence > 0.6


def test_majmin_score_against_the_synthetic_truth(pop_song: tuple[Analysis, np.ndarray]) -> None:
    a, beats = pop_song
    spb = beats[1]
    ref_int = np.array([[i * 4 * spb, (i + 1) * 4 * spb] for i in range(16)])
    ref_lab = [["C:maj", "A:min", "F:maj", "G:7"][i % 4] for i in range(16)]
    est_int = np.array([[c.start, c.end] for c in a.chords])
    scores = mir_eval.chord.evaluate(ref_int, ref_lab, est_int, [c.label for c in a.chords])
    assert scores["majmin"] >= 0.9
    assert scores["sevenths"] >= 0.85


@pytest.mark.parametrize(
    ("prog", "key"),
    [
        ([(7, "maj"), (0, "maj"), (2, "7"), (7, "maj")], "G major"),
        ([(9, "min"), (2, "min"), (4, "7"), (9, "min")], "A minor"),
        ([(10, "maj"), (3, "maj"), (5, "7"), (10, "maj")], "Bb major"),
    ],
)
def test_key_of_a_cadence(prog: list[tuple[int, str]], key: str) -> None:
    y, _ = progression(prog * 3, bpm=100)
    a = analyze_array(y, SR)
    assert a.key == key
    mir_eval.key.validate_key(a.key)


def test_minor_and_diminished_chords() -> None:
    y, _ = progression([(2, "min7"), (11, "dim"), (0, "maj"), (9, "min7")] * 2, bpm=96)
    a = analyze_array(y, SR)
    labels = [c.label for c in a.chords if c.label != "N"][:4]
    assert labels == ["D:min7", "B:dim", "C:maj", "A:min7"]


def test_waltz_meter() -> None:
    y, beats = progression(
        [(0, "maj"), (5, "maj"), (7, "7"), (0, "maj")] * 3, bpm=120, meter=3, beats_per_chord=3
    )
    a = analyze_array(y, SR)
    assert a.time_signature == (3, 4)
    assert mir_eval.beat.f_measure(beats[::3], np.array(a.downbeats)) >= 0.9


def test_sections_of_an_abab_form() -> None:
    a_part = [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")] * 2
    b_part = [(2, "min"), (7, "7"), (4, "min"), (9, "min")] * 2
    parts = []
    for chords, bright in ((a_part, False), (b_part, True), (a_part, False), (b_part, True)):
        y, _ = progression(chords, bpm=120, bright=bright)
        parts.append(y[: int(len(chords) * 4 * 0.5 * SR)])
    a = analyze_array(np.concatenate(parts), SR)
    assert [s.label for s in a.sections] == ["A", "B", "A", "B"]
    for s, expected in zip(a.sections, (0.0, 16.0, 32.0, 48.0), strict=True):
        assert s.start == pytest.approx(expected, abs=0.6)


def test_tempo_drift_is_followed() -> None:
    # 100 -> 120 BPM over 40 s: the beat grid must bend with it.
    t, ref = 0.2, []
    while t < 40:
        ref.append(t)
        t += 60.0 / (100 + 20 * t / 40)
    r = np.array(ref)
    a = analyze_array(clicks(r, 41.0), SR)
    assert mir_eval.beat.f_measure(r, np.array(a.beats)) >= 0.9
    assert a.tempo_curve, "a drifting tempo is reported as a curve"
    assert a.tempo_curve[0][1] < a.tempo_curve[-1][1]


def test_madmom_sample_runs_honestly() -> None:
    wav = corpora_path("audio", "madmom", "sample.wav")
    a = analyze_file(wav)
    assert a.duration == pytest.approx(2.8, abs=0.05)
    # 2.8 s is too short for a reliable tempo: the result says so.
    assert any("unreliable" in w for w in a.warnings)
    assert a.confidence <= 0.3
    # sample.tempo lists two tempi with weights ("87.5 175 0.7"): either counts.
    fields = [ln.split() for ln in wav.with_suffix(".tempo").read_text().splitlines() if ln[:1].isdigit()]
    t1, t2 = float(fields[0][0]), float(fields[0][1])
    assert any(abs(a.tempo - t) <= 0.04 * t for t in (t1, t2))


@pytest.mark.parametrize(
    ("chords", "key"),
    [
        # G major, not C major or D major: the F#dim / D7 / no F chord decide.
        (
            [(7, "maj")] * 8 + [(0, "maj")] * 4 + [(2, "7")] * 4 + [(11, "min")] * 2 + [(9, "min7")] * 2,
            "G major",
        ),
        # C minor with its harmonic-minor V7 and bVI, not Eb major.
        (
            [(0, "min")] * 8 + [(5, "min")] * 4 + [(7, "7")] * 4 + [(8, "maj")] * 2 + [(3, "maj")] * 2,
            "C minor",
        ),
        # A blues: the tonic is a dominant seventh.
        ([(9, "7")] * 16 + [(2, "7")] * 8 + [(4, "7")] * 4 + [(9, "7")] * 4, "A major"),
        # A minor, not C major: Am is home, E7 its dominant.
        (
            [(9, "min")] * 8 + [(2, "min")] * 4 + [(4, "7")] * 4 + [(0, "maj")] * 2 + [(9, "min")] * 4,
            "A minor",
        ),
    ],
)
def test_key_from_the_chords(chords: list[tuple[int, str]], key: str) -> None:
    from backline.audio.analyze.core import _chord_tone_histogram
    from backline.audio.analyze.key import estimate_key

    k, conf = estimate_key(_chord_tone_histogram(chords), chords)
    assert k.mir_eval == key
    assert 0.0 <= conf <= 1.0


def test_chart_from_analysis_round_trips(pop_song: tuple[Analysis, np.ndarray], tmp_path: Path) -> None:
    a, _ = pop_song
    song = analysis_to_song(a, "Loop")
    assert song.time_signature.numerator == 4
    assert song.tempo == pytest.approx(112, abs=1)
    assert str(song.key) == "C"
    first = [str(b.chords[0].chord) for b in song.bars[:4]]
    assert first == ["C", "Am", "F", "G7"]
    out = save_song(song, tmp_path / "loop.chart")
    again = load_song(out)
    assert [str(b.chords[0].chord) for b in again.bars[:4]] == first


def test_chart_keeps_a_bar_of_two(pop_song: tuple[Analysis, np.ndarray], tmp_path: Path) -> None:
    """A recording with a bar of two after its third bar: the chart writes that bar in
    2/4 with the chords of its two beats, and every later bar stays on the recording's
    downbeats (nothing cut, nothing shifted)."""
    a, _ = pop_song
    beats = np.array(a.beats)
    first = int(np.argmin(np.abs(beats - a.downbeats[0])))
    idx = [first, first + 4, first + 8, *range(first + 10, len(beats) - 3, 4)]
    song = analysis_to_song(replace(a, downbeats=tuple(float(beats[i]) for i in idx)), "Loop")
    bars = song.bars
    assert [str(b.time) for b in bars[:5]] == ["4/4", "4/4", "2/4", "4/4", "4/4"]
    assert all(str(b.time) == "4/4" for b in bars[3:])
    assert sum(b.time.numerator for b in bars[:-1]) == idx[-1] - first
    chords = [harte_to_chord(c) for c in a.beat_chords]
    assert bars[2].chords[0].chord == chords[first + 8]
    assert bars[3].chords[0].chord == chords[first + 10]
    again = load_song(save_song(song, tmp_path / "two.chart"))
    assert [str(b.time) for b in again.bars[:5]] == ["4/4", "4/4", "2/4", "4/4", "4/4"]


def test_chart_chords_as_harte_labels() -> None:
    symbols = ["C", "Am7", "G7", "Bbmaj7", "F#m7b5", "Ebdim7", "C7alt", "D/F#", "Gsus4", "A13", "E7(b9)"]
    labels = [chord_to_harte(parse_chord(s)) for s in symbols]
    mir_eval.chord.validate(labels, labels)
    assert labels[:4] == ["C:maj", "A:min7", "G:7", "Bb:maj7"]
    assert labels[4] == "F#:hdim7"
    assert labels[7] == "D:maj/3"
    assert chord_to_harte(None) == "N"


# --- bad input ------------------------------------------------------------------------


def test_not_audio(tmp_path: Path) -> None:
    p = tmp_path / "notes.wav"
    p.write_text("this is not audio at all\n" * 50)
    before = p.read_bytes()
    with pytest.raises(AudioInputError, match=r"notes\.wav"):
        analyze_file(p)
    assert p.read_bytes() == before


def test_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="no such file"):
        analyze_file(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioInputError, match="empty"):
        analyze_file(tmp_path / "empty.wav")


def test_truncated_wav(tmp_path: Path) -> None:
    y, _ = progression(POP, bpm=120)
    full = tmp_path / "full.wav"
    sf.write(full, y, SR, subtype="PCM_16")
    data = full.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 3])  # the header still claims the full length
    try:
        a = analyze_file(cut)
    except AudioInputError as exc:
        assert "cut.wav" in str(exc)
    else:
        assert any("truncated" in w for w in a.warnings)


def test_silence(tmp_path: Path) -> None:
    p = tmp_path / "silence.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"\x00\x00" * 2 * 44100 * 5)
    a = analyze_file(p)
    assert a.confidence == 0.0 and a.tempo == 0.0 and a.beats == ()
    assert a.key == "X" and [c.label for c in a.chords] == ["N"]
    assert any("silent" in w for w in a.warnings)
    with pytest.raises(AudioInputError, match="no steady beat"):
        estimate_tempo(p)
    with pytest.raises(AudioInputError, match="no steady beat"):
        analysis_to_song(a)


def test_one_second_clip() -> None:
    y, _ = progression(POP, bpm=120)
    a = analyze_array(y[:SR], SR)
    assert a.confidence <= 0.3
    assert any("unreliable" in w for w in a.warnings)
    assert a.duration == pytest.approx(1.0, abs=0.01)


def test_no_detectable_beat(rng: np.random.Generator) -> None:
    # A held chord with slowly swelling noise: nothing to tap along to.
    t = np.arange(12 * SR) / SR
    y = 0.2 * sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    y = y * (0.6 + 0.4 * np.sin(2 * np.pi * 0.05 * t)) + 0.01 * rng.standard_normal(len(t))
    a = analyze_array(y.astype(np.float32), SR)
    assert a.confidence < 0.5
    assert a.warnings


def _harmonic_tone(midi: float, seconds: float, decay: float = 0.8, partials: int = 8) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    return sum(decay ** (h - 1) * np.sin(2 * np.pi * h * f0 * t) for h in range(1, partials + 1))


def test_note_transcription_removes_a_bass_notes_harmonics() -> None:
    """A lone C2 with strong partials: the spectral chroma has G (3rd partial) and E (5th)
    as well; the NNLS note activations put the energy on C2, and the bass chroma on C."""
    from backline.audio.analyze.chords import NOTE_RANGE, chord_chromas, note_activations
    from backline.audio.analyze.features import features_from_array

    feat = features_from_array(0.3 * _harmonic_tone(36, 3.0), SR)
    pitch = feat.pitch[:, 5:-5].mean(axis=1, keepdims=True)
    act = note_activations(pitch)[:, 0]
    assert int(np.argmax(act)) + NOTE_RANGE[0] == 36
    # The fifth and the third above (its 3rd and 5th partials) get far less than the note.
    assert act[43 - NOTE_RANGE[0]] < 0.2 * act.max()
    assert act[52 - NOTE_RANGE[0]] < 0.2 * act.max()
    cc = chord_chromas(pitch)
    assert int(np.argmax(cc.bass[:, 0])) == 0 and cc.bass[0, 0] > 0.8
    assert cc.treble[7, 0] > 0.25  # the spectral chroma does hear the 3rd partial as a G
    assert cc.bass[7, 0] < 0.05 and cc.bass[4, 0] < 0.05


def test_stop_time_bars_are_no_chord() -> None:
    """Bars where only the drums play (a stop-time figure, N.C. in the chart) are "N";
    the chords around them are still read."""
    bpm, spb = 100.0, 0.6
    bars = [(0, "maj"), None, (5, "maj"), None, (7, "7"), None, (0, "maj"), None] * 2
    chords = [c if c is not None else (0, "maj") for c in bars]
    y, _ = progression(chords, bpm=bpm)
    rng = np.random.default_rng(3)
    n_hit = int(0.05 * SR)
    hit = rng.standard_normal(n_hit) * np.exp(-np.arange(n_hit) / SR * 60)
    for i, c in enumerate(bars):
        if c is not None:
            continue
        a, b = int(i * 4 * spb * SR), int((i + 1) * 4 * spb * SR)
        y[a:b] = 0.0
        for k in range(4):
            s = a + int(k * spb * SR)
            y[s : s + n_hit] += (0.5 if k == 0 else 0.3) * hit[: len(y[s : s + n_hit])]
    res = analyze_array(y, SR)

    def label_at(t: float) -> str:
        return next(c.label for c in res.chords if c.start <= t < c.end)

    for i, c in enumerate(bars[:-1]):
        mid = (i * 4 + 2) * spb
        want = "N" if c is None else chord_to_harte(parse_chord({0: "C", 5: "F", 7: "G7"}[c[0]]))
        assert label_at(mid) == want, (i, label_at(mid))


def test_bar_lines_follow_the_chord_changes() -> None:
    """With no accent to go by, the bar lines fall where the chords change (after a
    one-beat pickup here), and the chords change only there."""
    from backline.audio.analyze.chords import CHORD_STATES, decode_chords_and_bars

    seq = [0] + [1] * 4 + [2] * 4 + [3] * 4 + [1] * 4 + [2] * 3
    full = np.zeros((len(CHORD_STATES), len(seq)))
    full[np.array(seq), np.arange(len(seq))] = 0.5
    full[-1] = 0.1  # "N" always worse
    chords, pos = decode_chords_and_bars(full, 4, np.zeros(len(seq)))
    assert list(chords) == seq
    assert list(np.flatnonzero(pos == 0)) == [1, 5, 9, 13, 17]
    # A weak accent on the wrong beats does not move the bar lines off the changes.
    accent = np.where(np.arange(len(seq)) % 4 == 0, 0.3, 0.0)
    _, pos2 = decode_chords_and_bars(full, 4, accent)
    assert list(np.flatnonzero(pos2 == 0)) == [1, 5, 9, 13, 17]


@pytest.mark.parametrize("a4", [432.0, 452.0])
def test_a_band_off_standard_pitch(a4: float) -> None:
    """A band tuned to A = 432 Hz, or 46 cents sharp (nearly a quarter tone): the concert
    pitch is measured to 1 Hz and the chords are read as at 440."""
    prog = [(9, "min"), (5, "maj"), (0, "maj"), (7, "maj")] * 3
    y, _ = progression(prog, bpm=100, a4=a4)
    a = analyze_array(y, SR)
    assert a.a4_hz == pytest.approx(a4, abs=1.0)
    assert a.as_json()["a4_hz"] == pytest.approx(a4, abs=1.0)
    expected = [chord_to_harte(parse_chord(c)) for c in ("Am", "F", "C", "G")] * 3
    assert list(a.beat_chords[: 4 * len(prog) : 4]) == expected
    assert a.key == "C major"


@pytest.mark.parametrize("cents", [-40, 40])
def test_a_drum_tuned_between_semitones_is_not_a_chord_tone(cents: int) -> None:
    """A tom ringing 40 cents off Eb on every off-beat of C F C G: summed over the whole
    semitone (as the analyser once did) its Eb turns the F bars into F7; read only where
    the band is in tune, F stays F."""
    prog = [(0, "maj"), (5, "maj"), (0, "maj"), (7, "maj")] * 3
    y, beats = progression(prog, bpm=100)
    t = np.arange(int(0.25 * SR)) / SR
    tom = 0.4 * np.sin(2 * np.pi * midi_hz(63 + cents / 100) * t) * np.exp(-t * 12)
    z = y.astype(float)
    for b in beats:
        s = int((b + 0.3) * SR)
        e = min(len(z), s + len(t))
        z[s:e] += tom[: e - s]
    a = analyze_array((z / np.abs(z).max() * 0.8).astype(np.float32), SR)
    assert list(a.beat_chords[: 4 * len(prog) : 4]) == ["C:maj", "F:maj", "C:maj", "G:maj"] * 3


def test_a_bass_pedal_names_the_key() -> None:
    """Am F C G round and round: the chords alone say C major; the same loop over an A
    pedal is A minor, over a C pedal still C major."""
    from backline.audio.analyze.core import _chord_tone_histogram
    from backline.audio.analyze.key import estimate_key

    chords = ([(9, "min")] * 4 + [(5, "maj")] * 4 + [(0, "maj")] * 4 + [(7, "maj")] * 4) * 4
    hist = _chord_tone_histogram(chords)

    def pedal(pc: int) -> np.ndarray:
        bass = np.zeros(12)
        bass[pc] = 1.0
        return bass

    assert estimate_key(hist, chords)[0].mir_eval == "C major"
    assert estimate_key(hist, chords, bass=pedal(9))[0].mir_eval == "A minor"
    assert estimate_key(hist, chords, bass=pedal(0))[0].mir_eval == "C major"


def test_a_syncopated_groove_is_put_on_the_beat_by_its_chords(monkeypatch: pytest.MonkeyPatch) -> None:
    """The off-beats are the loudest onsets (the tracker locks onto them); the chords change
    on the beats, so the grid whose beats each hold one chord is the beat."""
    import backline.audio.analyze.core as core

    y, ref = syncopated()
    a = analyze_array(y, SR)
    assert a.tempo == pytest.approx(104, rel=0.02)
    assert mir_eval.beat.f_measure(ref, np.array(a.beats)) >= 0.95
    assert [c.label for c in a.chords[1:5]] == ["C:maj", "A:min", "F:maj", "G:7"]
    # Without the harmonic check the grid stays on the off-beats.
    monkeypatch.setattr(core, "OFFBEAT_GATE", np.inf)
    off = analyze_array(y, SR)
    assert mir_eval.beat.f_measure(ref, np.array(off.beats)) < 0.2


def test_noise_gets_no_key_and_no_chords(pop_song: tuple[Analysis, np.ndarray]) -> None:
    """White noise read as 'B major, 99%' with chords before: it has no pitch, so the key
    is X, every chord N, a warning says why, and no chart is written from it."""
    rng = np.random.default_rng(7)
    a = analyze_array((rng.standard_normal((2, 20 * SR)) * 0.2).astype(np.float32), SR)
    assert a.key == "X" and a.key_candidates == ()
    assert {c.label for c in a.chords} == {"N"}
    assert any("no pitched sound" in w for w in a.warnings)
    if a.beats and a.downbeats:
        with pytest.raises(AudioInputError, match="no chord was found"):
            analysis_to_song(a)
    # music is not noise: the rendered progression keeps its key and chords
    song, _ = pop_song
    assert song.key == "C major" and not any("no pitched sound" in w for w in song.warnings)


def _coloured_noise(colour: str, seconds: float, seed: int) -> np.ndarray:
    """White, pink (3 dB an octave down) or brown (6 dB an octave down, high-passed at
    about 11 Hz) noise at a peak of 0.5."""
    w = np.random.default_rng(seed).standard_normal(int(seconds * SR))
    if colour == "pink":
        w = np.fft.irfft(np.fft.rfft(w) / np.sqrt(np.arange(1, len(w) // 2 + 2)), len(w))
    elif colour == "brown":
        w = np.cumsum(w)
        w -= np.convolve(w, np.ones(2001) / 2001, "same")
    return (0.5 * w / np.abs(w).max()).astype(np.float32)


@pytest.mark.parametrize(
    ("colour", "seconds", "seed"),
    [
        ("white", 20, 0),
        ("pink", 20, 0),
        ("pink", 20, 1),
        ("brown", 20, 0),
        ("brown", 20, 2),
        ("white", 3, 1),
        ("brown", 3, 0),
        ("brown", 60, 1),
    ],
)
def test_coloured_noise_is_noise(colour: str, seconds: float, seed: int) -> None:
    """Pink and brown noise passed for music with the first gate (flat pitch-class
    profiles): brown noise read as Ab major at 99%. Their average spectrum holds no
    notes, however long or short."""
    from backline.audio.analyze.chords import is_noise, tonal_share
    from backline.audio.analyze.features import PITCH_HOP, features_from_array

    feat = features_from_array(_coloured_noise(colour, seconds, seed), SR)
    assert tonal_share(feat.pitch) < 0.08
    assert is_noise(feat.pitch, SR / PITCH_HOP)


def test_brown_noise_has_no_key() -> None:
    a = analyze_array(_coloured_noise("brown", 20, 2), SR)
    assert a.key == "X" and {c.label for c in a.chords} == {"N"}


@pytest.mark.parametrize("seconds", [1.0, 2.0, 20.0])
def test_notes_under_loud_noise_are_music(seconds: float) -> None:
    """A triad of harmonic tones under white noise as loud as it is still music, and
    C major; a second of it as well."""
    from backline.audio.analyze.chords import is_noise
    from backline.audio.analyze.features import PITCH_HOP, features_from_array

    triad = sum(_harmonic_tone(m, seconds) for m in (60, 64, 67))
    y = 0.3 * triad / np.abs(triad).max() + 0.3 * _coloured_noise("white", seconds, 0)
    y = (0.5 * y / np.abs(y).max()).astype(np.float32)
    assert not is_noise(features_from_array(y, SR).pitch, SR / PITCH_HOP)
    if seconds == 20.0:
        assert analyze_array(y, SR).key == "C major"
