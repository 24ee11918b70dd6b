"""Which beat of the bar is one: the bar-phase check on built cues and on a rendered
reggae one-drop, whose kick and snare on three used to take the bar line."""

from __future__ import annotations

from pathlib import Path

import mir_eval
import numpy as np
import pytest

pytest.importorskip("librosa")

from _analysis_signals import render_chart

from backline.audio.analyze import analyze_file, bar_phase
from backline.audio.analyze.bar_phase import (
    EDGE,
    MIN_BEATS,
    WEIGHTS,
    bar_phase_features,
    beat_cues,
    check_bar_phase,
    window_change,
)

G, C = np.zeros(12), np.zeros(12)
G[[7, 11, 2]] = 1.0
C[[0, 4, 7]] = 1.0


def _one_drop(
    bars: int = 8, two_after: int | None = None, hold: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-beat cues of a one-drop in 4/4 from beat one: nothing low on one, kick and
    snare on three (low band and loudness), the skank on two and four (full band), and
    chords held ``hold`` bars each (G, G, C, C, ...), the skank's chroma brightest on its
    beats. ``two_after``: a bar of two beats after that many bars (its first half), then the
    rest of the bars."""
    pos = _positions(bars, two_after)
    n = len(pos)
    low = np.where(pos == 2, 20.0, 2.0)
    onset = np.where(pos % 2 == 1, 20.0, np.where(pos == 2, 14.0, 8.0))
    loud = np.where(pos == 2, 0.4, np.where(pos % 2 == 1, 0.1, -0.5))
    bar = np.cumsum(pos == 0) - 1
    treble = np.stack(
        [(G if (bar[i] // hold) % 2 == 0 else C) * (1.0 if pos[i] % 2 else 0.6) + 0.05 for i in range(n)],
        axis=1,
    )
    return low, onset, loud, treble / np.linalg.norm(treble, axis=0)


def _positions(bars: int, two_after: int | None = None) -> np.ndarray:
    """Position in the bar of each beat of ``bars`` bars of four, with a bar of two after
    ``two_after`` of them (the bar count includes it)."""
    if two_after is None:
        return np.arange(4 * bars) % 4
    return np.concatenate([np.arange(4 * two_after) % 4, [0, 1], np.arange(4 * (bars - two_after - 1)) % 4])


def test_window_change_peaks_where_held_chords_change() -> None:
    treble = np.stack([G] * 8 + [C] * 8, axis=1)
    one, four = window_change(treble, 1), window_change(treble, 4)
    assert four[8] == pytest.approx(float(1 - G @ C / 3))
    assert np.all(four[[4, 6, 10, 12]] < four[8])
    assert np.all(four[:4] == 0) and np.all(four[-3:] == 0)  # the windows leave the song
    assert one[8] > 0 and one[3] == pytest.approx(0.0, abs=1e-9)


def test_a_one_drop_read_on_three_moves_to_one() -> None:
    x = beat_cues(*_one_drop())
    assert x is not None and x.shape == (6, 32)
    phases = bar_phase_features(x) @ WEIGHTS.ravel()
    assert int(np.argmax(phases)) == 0  # the whole song's bars score best on one
    on_three = (np.arange(32) - 2) % 4  # decoded: downbeats on the kick
    assert np.array_equal(check_bar_phase(on_three, x), np.arange(32) % 4)
    right = np.arange(32) % 4
    assert np.array_equal(check_bar_phase(right, x), right)
    for late in (1, 3):  # a turn other than the half bar, which is its own inverse
        assert np.array_equal(check_bar_phase((np.arange(32) - late) % 4, x), right)
    turned = beat_cues(*(np.roll(c, 1, axis=-1) for c in _one_drop()))
    assert turned is not None  # the same groove a beat later: one is on beat index 1
    assert np.array_equal(check_bar_phase(right, turned), (np.arange(32) - 1) % 4)


def test_too_few_beats_or_no_downbeat_leave_the_bars() -> None:
    low, onset, loud, treble = _one_drop(3)
    assert len(low) < MIN_BEATS and beat_cues(low, onset, loud, treble) is None
    pos = (np.arange(12) - 2) % 4
    assert np.array_equal(check_bar_phase(pos, None), pos)
    x = beat_cues(*_one_drop())
    assert np.array_equal(check_bar_phase(np.ones(32, dtype=int), x), np.ones(32, dtype=int))


@pytest.mark.parametrize(("lead", "moved"), [(0.5, False), (0.9, False), (1.1, True), (1.5, True)])
def test_the_decoded_bar_lines_keep_a_margin(lead: float, moved: bool) -> None:
    """Bar lines a beat later score ``lead`` a bar more than the decoded ones, all song
    long (and more than the other two ways): they win only by more than MARGIN (1.0)."""
    n = 64
    decoded = np.arange(n) % 4
    later = (decoded + 1) % 4
    d = WEIGHTS[later] - WEIGHTS[decoded]  # (n, 6): the cue direction that favours later
    cues = (d / (d**2).sum(axis=1, keepdims=True) * lead / 4).T
    per = WEIGHTS @ cues
    scores = [
        np.sum(per[(decoded + o) % 4, np.arange(n)][EDGE:-EDGE]) / ((n - 2 * EDGE) / 4) for o in range(4)
    ]
    assert scores[1] - scores[0] == pytest.approx(lead)
    assert scores[1] > max(scores[2], scores[3])
    assert np.array_equal(check_bar_phase(decoded, cues), later if moved else decoded)


def test_the_first_and_last_beats_take_no_part() -> None:
    """An ending's held chord (or a count-in) whose cues would outvote the groove, on
    the song's first and last EDGE beats: the bar lines stay where the groove puts them,
    and the same cues one beat further in do move them."""
    cues = beat_cues(*_one_drop())
    assert cues is not None
    right = np.arange(32) % 4
    loud = cues.copy()
    loud[:, :EDGE] = loud[:, -EDGE:] = 50.0 * WEIGHTS[(right[-EDGE:] + 1) % 4].T
    assert np.array_equal(check_bar_phase(right, loud), right)
    inside = cues.copy()
    inside[:, EDGE : 2 * EDGE] = 50.0 * WEIGHTS[(right[EDGE : 2 * EDGE] + 1) % 4].T
    assert not np.array_equal(check_bar_phase(right, inside), right)


def test_a_bar_of_two_the_decoding_missed_is_put_right_piece_by_piece() -> None:
    """A one-drop of 33 bars, a chord a bar, with a bar of two after 16 (as in "Your
    Song" or "Hello, Goodbye"): decoded as bars of four throughout, its second half is
    read on three. The check moves that half only; the same song read on three all
    through is moved as a whole."""
    truth = _positions(33, two_after=16)
    cues = beat_cues(*_one_drop(33, two_after=16, hold=1))
    assert cues is not None
    fours = np.arange(len(truth)) % 4  # the decoding kept every bar at four beats
    assert np.array_equal(fours[66:], (truth[66:] + 2) % 4)  # a half bar off after it
    checked = check_bar_phase(fours, cues)
    assert np.array_equal(checked[:64], truth[:64])
    assert np.array_equal(checked[68:], truth[68:])
    assert np.array_equal(checked, truth)  # the short bar too
    on_three = (truth + 2) % 4
    assert np.array_equal(check_bar_phase(on_three, cues), truth)


def test_the_check_follows_the_decodings_own_bar_lines_and_adds_only_short_bars() -> None:
    """A bar of two the decoding found is kept (following it costs nothing); bar lines
    the check adds end a bar after two or three beats, never one, five, six or seven: a
    second half whose groove sits a beat later (bars of five, if any bar length were
    allowed) comes out as a bar of two and a bar of three."""
    truth = _positions(33, two_after=16)
    cues = beat_cues(*_one_drop(33, two_after=16, hold=1))
    assert np.array_equal(check_bar_phase(truth, cues), truth)
    n = 128
    right = np.arange(n) % 4
    later = np.concatenate([right[:64], (right[64:] - 1) % 4])
    x = 3.0 * WEIGHTS[later].T
    checked = check_bar_phase(right, x)
    lengths = np.diff(np.flatnonzero(checked == 0))
    assert set(lengths.tolist()) == {2, 3, 4}
    assert np.array_equal(checked[:56], right[:56]) and np.array_equal(checked[72:], later[72:])


ONE_DROP = """title: One Drop
key: G
tempo: 80
time: 4/4

[A]
| G | G | C | C | G | G | D7 | D7 |
[A]
| G | G | C | C | G | G | D7 | D7 |
"""


@pytest.fixture(scope="module")
def rendered_one_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_chart(ONE_DROP, "reggae", tmp_path_factory.mktemp("one_drop"))


def test_downbeats_of_a_rendered_one_drop(rendered_one_drop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reggae arrangement rendered with FluidSynth, 16 bars of 3 s: its bar lines are
    heard on one. Without the check they sit on three, the one-drop's kick (downbeat F
    0.0 on seeds 0-3, 0.97 with it on all four)."""
    ref = np.arange(16) * 3.0
    a = analyze_file(rendered_one_drop)
    assert a.time_signature == (4, 4)
    assert mir_eval.beat.f_measure(ref, np.array(a.downbeats)) >= 0.9, a.downbeats[:4]
    monkeypatch.setattr(bar_phase, "check_bar_phase", lambda pos, cues: pos)
    unchecked = analyze_file(rendered_one_drop)
    assert mir_eval.beat.f_measure(ref, np.array(unchecked.downbeats)) <= 0.1
