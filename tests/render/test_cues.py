"""Spoken cues (real espeak-ng): speech ends before its downbeat, numbers on their beats, user voices."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from clickcue_plans import arrangement_of, bar, song_of

from backline.errors import DependencyMissingError
from backline.model.pitch import parse_key
from backline.render.click import render_click
from backline.render.cues import espeak_available, render_cues, section_phrase, speak

SR = 44100
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")


def frame_db(x: np.ndarray, t0: float, t1: float, frame_s: float = 0.002) -> np.ndarray:
    """RMS level (dBFS) of consecutive frames between t0 and t1."""
    seg = x[max(0, round(t0 * SR)) : round(t1 * SR)].astype(np.float64)
    f = int(frame_s * SR)
    n = len(seg) // f
    rms = np.sqrt(np.mean(seg[: n * f].reshape(n, f) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-12)


def speech_span(x: np.ndarray, t0: float, t1: float, floor_db: float = -65.0) -> tuple[float, float]:
    """First and last 2 ms frame above ``floor_db`` in [t0, t1] (seconds)."""
    db = frame_db(x, t0, t1)
    loud = np.flatnonzero(db > floor_db)
    assert len(loud), "no speech found"
    return t0 + loud[0] * 0.002, t0 + (loud[-1] + 1) * 0.002


def pop_song():  # type: ignore[no-untyped-def]
    c, d = parse_key("C"), parse_key("D")
    return song_of(
        ("Intro", [bar(key=c)] * 2),
        ("Verse", [bar(key=c)] * 4),
        ("Chorus", [bar(key=c)] * 4),
        ("Verse", [bar(key=c)] * 4),
        ("Chorus", [bar(key=d)] * 4),
        ("B", [bar(3, 4, 100.0, key=d)] * 2),
        ("Outro", [bar(6, 8, 150.0, key=d)] * 2),
    )


@needs_espeak
def test_section_cues_end_before_their_downbeat() -> None:
    arr = arrangement_of(pop_song())
    track = render_cues(arr, SR)
    assert track.audio.dtype == np.float32
    click = render_click(arr, SR)
    assert len(track.audio) == len(click.audio) and track.count_in_seconds == click.count_in_seconds
    sections = [c for c in track.cues if c.kind == "section"]
    assert [c.text for c in sections] == [
        "Verse",
        "Chorus",
        "Verse",
        "Key change, Chorus",  # a bridge and the outro follow: not the last time through
        "B section",
        "Outro",
    ]
    assert track.skipped == ()
    offset = track.count_in_seconds
    starts = {"Verse": [2, 10], "Chorus": [6, 14], "B": [18], "Outro": [20]}
    expected_targets = sorted(offset + arr.bars[s].start_seconds for v in starts.values() for s in v)
    assert [c.target_seconds for c in sections] == pytest.approx(expected_targets, abs=1e-6)
    prev_end = 0.0
    for c in sections:
        # measured on the rendered audio: speech present, and over at least 0.15 s before the downbeat
        window = max(prev_end + 0.002, c.start_seconds - 0.3)
        begin, end = speech_span(track.audio, window, c.target_seconds + 0.001)
        prev_end = c.end_seconds
        assert end <= c.target_seconds - 0.15, c
        assert end == pytest.approx(c.end_seconds, abs=0.01)
        assert begin == pytest.approx(c.start_seconds, abs=0.01)
        assert c.end_seconds - c.start_seconds > 0.2  # a real word, not a blip
        assert np.max(frame_db(track.audio, c.end_seconds + 0.005, c.target_seconds)) < -60
    # the half-beat gap at 120 bpm is 0.25 s; the speech ends within 5 ms of it
    assert sections[0].target_seconds - sections[0].end_seconds == pytest.approx(0.25, abs=0.005)


@needs_espeak
@pytest.mark.parametrize(
    ("meter", "tempo", "words", "beats"),
    [
        ((4, 4), 120.0, ["one", "two", "three", "four"], [0, 1, 2, 3]),
        ((3, 4), 150.0, ["one", "two", "three"], [0, 1, 2]),
        ((6, 8), 180.0, ["one", "two"], [0, 1.5]),
        ((7, 8), 200.0, ["one", "two", "three"], [0, 1, 2]),
    ],
)
def test_count_in_numbers_start_on_their_beats(
    meter: tuple[int, int], tempo: float, words: list[str], beats: list[float]
) -> None:
    arr = arrangement_of(song_of(("Verse", [bar(*meter, tempo)] * 2)))
    track = render_cues(arr, SR, count_in_bars=1)
    counts = [c for c in track.cues if c.kind == "count"]
    assert [c.text for c in counts] == words
    spq = 60.0 / tempo
    for c, b in zip(counts, beats, strict=True):
        assert c.target_seconds == pytest.approx(b * spq, abs=1e-9)
        begin, end = speech_span(track.audio, max(0.0, c.target_seconds - 0.015), c.target_seconds + 0.2)
        assert abs(begin - c.target_seconds) < 0.004, (c, begin)
        assert end <= track.count_in_seconds + 0.002
    assert [c.kind for c in track.cues] == ["count"] * len(words)  # no talking over the count


@needs_espeak
def test_two_bar_count_in_counts_twice_and_first_section_cue_in_count_free_mode() -> None:
    arr = arrangement_of(song_of(("Intro", [bar(4, 4, 60.0)] * 2), ("Chorus", [bar(4, 4, 60.0)] * 2)))
    track = render_cues(arr, SR)
    assert track.count_in_seconds == pytest.approx(8.0)
    assert [c.text for c in track.cues if c.kind == "count"] == ["one", "two", "three", "four"] * 2
    quiet = render_cues(arr, SR, count=False)
    assert [c.text for c in quiet.cues] == ["Intro", "Chorus"]
    assert all(c.end_seconds <= c.target_seconds - 0.15 for c in quiet.cues)


@needs_espeak
def test_cue_that_cannot_fit_is_reported_not_dropped_silently() -> None:
    arr = arrangement_of(song_of(*[(f"Section {i}", [bar(2, 4, 300.0)]) for i in range(4)]))
    track = render_cues(arr, SR, count=False, count_in_bars=1)
    assert track.skipped, "a 0.4 s bar cannot hold every section name"
    assert all("skipped" in s for s in track.skipped)
    ends = [(c.start_seconds, c.end_seconds) for c in track.cues]
    assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(ends))


@needs_espeak
def test_a_long_cue_is_sped_up_until_it_fits() -> None:
    """espeak's length is not proportional to its speed: one linear guess (1.96x) left
    "Out Chorus with the horns" 10 ms too long for its 0.75 s and it was skipped."""
    from backline import formats
    from backline.arrange import engine

    chart = (
        "title: Tight\nkey: C\ntempo: 300\ntime: 2/4\nstyle: rock\n[Verse]\n| C | F | C | F |\n"
        "[A]\n| G | C |\n[Out Chorus with the horns]\n| F |\n[Pre-Chorus number two]\n| C | C | C | C |\n"
    )
    song = formats.loads_songs(chart.encode(), "t.chart", ".chart")[0]
    arr = engine.arrange(song, None, seed=0, intro=False, ending=False)
    track = render_cues(arr, SR, count_in_bars=1)
    said = [c for c in track.cues if c.kind == "section"]
    assert [c.text for c in said] == ["A section", "Out Chorus with the horns"]
    for c in said:
        assert c.end_seconds <= c.target_seconds - 0.15 + 1e-6
    # the last one cannot fit at 2.5x in a 0.8 s bar after "Out Chorus...": listed, not dropped
    assert len(track.skipped) == 1 and "Pre-Chorus number two" in track.skipped[0]


def _tone(path: Path, freq: float, rate: int, seconds: float, stereo: bool) -> None:
    t = np.arange(int(rate * seconds)) / rate
    x = 0.3 * np.sin(2 * np.pi * freq * t) * np.hanning(len(t)) ** 0.1
    sf.write(str(path), np.stack([x, x], axis=1) if stereo else x, rate)


def _dominant(x: np.ndarray, t0: float, t1: float) -> float:
    seg = x[round(t0 * SR) : round(t1 * SR)].astype(np.float64)
    spec = np.abs(np.fft.rfft(seg, 4 * len(seg)))
    return float(np.argmax(spec) * SR / (4 * len(seg)))


def test_voice_folder_replaces_synthetic_voice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tones = {"one": 300.0, "two": 350.0, "three": 400.0, "four": 450.0, "verse": 500.0, "chorus": 600.0}
    for i, (word, f) in enumerate(tones.items()):
        name = "Two.WAV" if word == "two" else f"{word}.wav"  # names match ignoring case
        _tone(tmp_path / name, f, (22050, 48000)[i % 2], 0.3, stereo=bool(i % 2))
    _tone(tmp_path / "last-time.flac", 700.0, 44100, 0.25, stereo=False)
    arr = arrangement_of(song_of(("Verse", [bar()] * 2), ("Chorus", [bar()] * 2), ("Chorus", [bar()] * 2)))
    # no espeak-ng at all: the folder covers every phrase
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert not espeak_available()
    track = render_cues(arr, SR, voice_dir=tmp_path)
    assert [c.text for c in track.cues] == ["one", "two", "three", "four", "Chorus", "Last time, Chorus"]
    for c in track.cues[:4]:
        assert abs(c.start_seconds - c.target_seconds) < 0.003
        assert _dominant(track.audio, c.start_seconds, c.end_seconds) == pytest.approx(
            tones[c.text], rel=0.02
        )
    chorus = track.cues[4]
    assert _dominant(track.audio, chorus.start_seconds, chorus.end_seconds) == pytest.approx(600.0, rel=0.02)
    assert chorus.end_seconds - chorus.start_seconds == pytest.approx(
        0.3, abs=0.02
    )  # any rate -> target rate
    assert chorus.end_seconds <= chorus.target_seconds - 0.15
    last = track.cues[5]
    assert _dominant(track.audio, last.start_seconds, last.start_seconds + 0.2) == pytest.approx(
        700.0, rel=0.02
    )
    # a phrase the folder lacks, with no espeak-ng: a clear error naming the fix
    (tmp_path / "chorus.wav").unlink()
    with pytest.raises(DependencyMissingError, match="apt-get install espeak-ng") as err:
        render_cues(arr, SR, voice_dir=tmp_path)
    assert "'Chorus'" in str(err.value)


@needs_espeak
def test_voice_folder_mixes_with_synthetic_words(tmp_path: Path) -> None:
    _tone(tmp_path / "chorus.wav", 600.0, 48000, 0.3, stereo=True)
    arr = arrangement_of(song_of(("Verse", [bar()] * 2), ("Chorus", [bar()] * 2)))
    track = render_cues(arr, SR, voice_dir=tmp_path)
    chorus = next(c for c in track.cues if c.text == "Chorus")
    assert _dominant(track.audio, chorus.start_seconds, chorus.end_seconds) == pytest.approx(600.0, rel=0.02)
    one = track.cues[0]
    assert one.text == "one" and one.end_seconds - one.start_seconds > 0.1  # espeak said it


@needs_espeak
def test_speech_is_cached_and_resampled() -> None:
    a = speak("Bridge", 48000)
    assert speak("Bridge", 48000) is a
    b = speak("Bridge", 22050)
    assert len(a) / 48000 == pytest.approx(len(b) / 22050, abs=0.011)  # 5 ms trim frames
    assert 0.2 < len(b) / 22050 < 1.0


@pytest.mark.parametrize(
    ("label", "spoken"),
    [
        ("A", "A section"),
        ("b2", "B section 2"),
        ("Verse 2", "Verse 2"),
        ("pre-chorus", "Pre-chorus"),
        ("CHORUS", "Chorus"),
        ("Solo", "Solo"),
        ("Break", "Break"),
        ("Outro", "Outro"),
        ("Shout chorus", "Shout chorus"),
        ("*", None),
    ],
)
def test_section_phrases(label: str, spoken: str | None) -> None:
    assert section_phrase(label) == spoken


@pytest.mark.parametrize(
    ("form", "last"),
    [
        ("A A B C", None),  # Autumn Leaves once: the second A is followed by B and C for the first time
        ("Intro Intro A B", None),  # a repeated intro is not the last time
        ("A A B A", 3),  # the last A
        ("A A B A A A B A", 4),  # two choruses: the top of the second
        ("A A A", 2),  # a blues of three choruses: the third
        ("Verse Chorus Verse Chorus Outro", 2),  # the last verse before the closing verse-chorus
        ("Intro Verse Chorus Verse Chorus Bridge Outro", None),
    ],
)
def test_last_time_is_said_at_the_start_of_the_last_time_through(form: str, last: int | None) -> None:
    from backline.render.cues import plan_cues

    labels = form.split()
    arr = arrangement_of(song_of(*((label, [bar()] * 2) for label in labels)))
    said = [p for p, _, _, kind in plan_cues(arr, count=False) if kind == "section"]
    # a cue per section start (the first is spoken only without a count-in, as here)
    flagged = [i for i, p in enumerate(said) if "Last time" in p]
    assert flagged == ([] if last is None else [last]), said
