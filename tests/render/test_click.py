"""The click: onsets on the plan's beat grid (to 1 ms), accents, meters, count-in, subdivisions."""

from __future__ import annotations

import numpy as np
import pytest
from clickcue_plans import arrangement_of, bar, song_of

from backline.errors import RenderError
from backline.render.click import CLICK_SOUNDS, click_times, count_in_seconds, render_click

SR = 48000


def detect_onsets(x: np.ndarray, sr: int, threshold: float = 0.01, gap_s: float = 0.004) -> np.ndarray:
    """Onset times (s): first sample above ``threshold`` after at least ``gap_s`` below it."""
    idx = np.flatnonzero(np.abs(x) > threshold)
    if len(idx) == 0:
        return np.array([])
    keep = np.concatenate([[True], np.diff(idx) > gap_s * sr])
    return idx[keep] / sr


def expected_grid(
    bars: list[tuple[int, int, float]], offsets: dict[tuple[int, int], list[float]]
) -> list[float]:
    """Independent computation: seconds of each pulse, bar by bar (offsets in quarter notes)."""
    t = 0.0
    out = []
    for num, den, tempo in bars:
        spq = 60.0 / tempo
        out.extend(t + o * spq for o in offsets[(num, den)])
        t += num * 4 / den * spq
    return out


MIXED = [
    (4, 4, 120.0),
    (4, 4, 120.0),
    (4, 4, 90.0),
    (3, 4, 90.0),
    (6, 8, 150.0),
    (7, 8, 150.0),
    (5, 4, 100.0),
]
PULSES = {
    (4, 4): [0, 1, 2, 3],
    (3, 4): [0, 1, 2],
    (6, 8): [0, 1.5],
    (7, 8): [0, 1, 2],  # 2+2+3 eighths
    (5, 4): [0, 1, 2, 3, 4],
}


def mixed_arrangement():  # type: ignore[no-untyped-def]
    return arrangement_of(song_of(("A", [bar(n, d, t) for n, d, t in MIXED])))


@pytest.mark.parametrize("sound", sorted(CLICK_SOUNDS))
def test_onsets_within_1ms_across_tempo_and_meter_changes(sound: str) -> None:
    arr = mixed_arrangement()
    track = render_click(arr, SR, count_in_bars=0, sound=sound)
    assert track.audio.dtype == np.float32 and track.audio.ndim == 1
    assert len(track.audio) == round(arr.duration_seconds * SR)
    expected = expected_grid(MIXED, PULSES)
    assert [c.seconds for c in track.onsets] == pytest.approx(expected, abs=1e-9)
    found = detect_onsets(track.audio, SR)
    assert len(found) == len(expected)
    assert np.max(np.abs(found - np.array(expected))) < 0.001
    # the attack starts exactly at round(t * sr): silence just before, sound from there
    for t in expected:
        s = round(t * SR)
        assert track.audio[s - 1] == 0.0 or t == 0.0
        assert np.max(np.abs(track.audio[s : s + 48])) > 0.01


def test_count_in_shifts_everything_and_is_one_bar_by_default() -> None:
    arr = mixed_arrangement()
    track = render_click(arr, SR)
    assert track.count_in_seconds == pytest.approx(2.0)  # one bar of 4/4 at 120
    assert len(track.audio) == round((2.0 + arr.duration_seconds) * SR)
    count = [c for c in track.onsets if c.count_in]
    assert [c.seconds for c in count] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert [c.bar for c in count] == [-1] * 4
    expected = [2.0 + t for t in expected_grid(MIXED, PULSES)]
    found = detect_onsets(track.audio, SR)
    assert np.max(np.abs(found - np.array([0.0, 0.5, 1.0, 1.5, *expected]))) < 0.001


def test_slow_songs_get_two_bars_of_count_in() -> None:
    slow = arrangement_of(song_of(("A", [bar(4, 4, 60.0)] * 2)))
    assert count_in_seconds(slow) == pytest.approx(8.0)
    assert sum(c.count_in for c in click_times(slow)) == 8
    # 6/8 at quarter = 90 is a dotted-quarter pulse of 60: slow, two bars of two clicks
    slow68 = arrangement_of(song_of(("A", [bar(6, 8, 90.0)] * 2)))
    assert [c.beat for c in click_times(slow68) if c.count_in] == [-6.0, -4.5, -3.0, -1.5]
    fast = arrangement_of(song_of(("A", [bar(4, 4, 72.0)] * 2)))
    assert count_in_seconds(fast) == pytest.approx(4 * 60 / 72)
    assert count_in_seconds(fast, 3) == pytest.approx(3 * 4 * 60 / 72)
    assert count_in_seconds(slow, 0) == 0.0


def test_fast_songs_get_two_bars_counted_one_two_one_two_three_four() -> None:
    """At 160 bpm and above one bar of count (1.5 s at 160, 1.1 s at 211) is easy to miss:
    two bars, the first in half time, as a band leader counts off a fast tune."""
    from backline.render.cues import plan_cues

    fast = arrangement_of(song_of(("A", [bar(4, 4, 200.0)] * 2)))
    assert count_in_seconds(fast) == pytest.approx(2 * 4 * 60 / 200)
    count = [c for c in click_times(fast) if c.count_in]
    assert [c.beat for c in count] == [-8.0, -6.0, -4.0, -3.0, -2.0, -1.0]
    assert [c.accent for c in count] == [True, False, True, False, False, False]
    words = [p[0] for p, _t, _g, kind in plan_cues(fast) if kind == "count"]
    times = [t for _p, t, _g, kind in plan_cues(fast) if kind == "count"]
    assert words == ["one", "two", "one", "two", "three", "four"]
    assert times == pytest.approx([0.0, 0.6, 1.2, 1.5, 1.8, 2.1])
    # just under the line: one bar; a 3/4 at 200 counts two full bars (no half time in three)
    assert count_in_seconds(arrangement_of(song_of(("A", [bar(4, 4, 159.0)] * 2)))) == pytest.approx(
        4 * 60 / 159
    )
    waltz = arrangement_of(song_of(("A", [bar(3, 4, 200.0)] * 2)))
    assert sum(c.count_in for c in click_times(waltz)) == 6
    # an explicit count-in of 1 at a fast tempo is one full bar
    assert sum(c.count_in for c in click_times(fast, count_in_bars=1)) == 4


def test_count_in_uses_first_bar_meter_and_tempo() -> None:
    arr = arrangement_of(song_of(("A", [bar(3, 4, 180.0), bar(4, 4, 100.0)])))
    track = render_click(arr, SR, count_in_bars=2)
    count = [c for c in track.onsets if c.count_in]
    assert len(count) == 6
    assert track.count_in_seconds == pytest.approx(2 * 3 * 60 / 180)
    assert [c.accent for c in count] == [True, False, False, True, False, False]


def _peak_and_freq(x: np.ndarray, t: float) -> tuple[float, float]:
    s = round(t * SR)
    seg = x[s : s + int(0.02 * SR)].astype(np.float64)
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), 8 * len(seg)))
    return float(np.max(np.abs(seg))), float(np.argmax(spec) * SR / (8 * len(seg)))


@pytest.mark.parametrize("sound", ["classic", "wood", "beep", "cowbell"])
def test_downbeats_are_louder_and_higher(sound: str) -> None:
    arr = arrangement_of(song_of(("A", [bar(4, 4, 120.0)] * 2)))
    track = render_click(arr, SR, count_in_bars=0, sound=sound, level_db=-6.0)
    down = [_peak_and_freq(track.audio, c.seconds) for c in track.onsets if c.accent]
    other = [_peak_and_freq(track.audio, c.seconds) for c in track.onsets if not c.accent]
    assert len(down) == 2 and len(other) == 6
    assert min(p for p, _ in down) == pytest.approx(10 ** (-6 / 20), rel=0.02)  # level_db is the accent peak
    assert max(p for p, _ in other) < min(p for p, _ in down) * 10 ** (-5 / 20)  # at least 5 dB softer
    assert min(f for _, f in down) > max(f for _, f in other) * 1.1


def test_compound_and_odd_meter_groupings() -> None:
    def beats_of(num: int, den: int, sub: str | None = None) -> list[tuple[float, int]]:
        arr = arrangement_of(song_of(("A", [bar(num, den, 120.0)])))
        return [(c.beat, c.level) for c in click_times(arr, count_in_bars=0, subdivision=sub)]

    assert beats_of(6, 8) == [(0.0, 0), (1.5, 1)]
    assert [b for b, _ in beats_of(6, 8, "8ths")] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert [b for b, _ in beats_of(6, 8, "triplets")] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    assert [b for b, _ in beats_of(12, 8)] == [0.0, 1.5, 3.0, 4.5]
    assert [b for b, _ in beats_of(9, 8)] == [0.0, 1.5, 3.0]
    assert beats_of(7, 8) == [(0.0, 0), (1.0, 1), (2.0, 1)]  # 2+2+3
    seven8 = beats_of(7, 8, "8ths")
    assert [b for b, _ in seven8] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert [lv for _, lv in seven8] == [0, 2, 1, 2, 1, 2, 2]
    assert [b for b, _ in beats_of(5, 8)] == [0.0, 1.5]  # 3+2, as the band groups it
    assert [b for b, _ in beats_of(2, 2)] == [0.0, 2.0]
    arr = arrangement_of(song_of(("A", [bar(7, 8, 120.0)])))
    custom = click_times(arr, count_in_bars=0, groupings={(7, 8): (3, 2, 2)})
    assert [c.beat for c in custom] == [0.0, 1.5, 2.5]
    with pytest.raises(RenderError):
        click_times(arr, count_in_bars=0, groupings={(7, 8): (3, 3)})


@pytest.mark.parametrize(("sub", "n"), [(None, 4), ("8ths", 8), ("16ths", 16), ("triplets", 12)])
def test_subdivisions_count_and_render(sub: str | None, n: int) -> None:
    arr = arrangement_of(song_of(("A", [bar(4, 4, 100.0)] * 2)))
    track = render_click(arr, SR, count_in_bars=1, subdivision=sub)
    assert len(track.onsets) == 3 * n
    found = detect_onsets(track.audio, SR, gap_s=0.003)
    assert len(found) == 3 * n
    assert np.max(np.abs(found - np.array([c.seconds for c in track.onsets]))) < 0.001


def test_bad_options_are_clear_errors() -> None:
    arr = mixed_arrangement()
    with pytest.raises(RenderError, match="subdivision"):
        render_click(arr, SR, subdivision="quintuplets")
    with pytest.raises(RenderError, match="click sound"):
        render_click(arr, SR, sound="kazoo")
    with pytest.raises(RenderError, match="count-in"):
        click_times(arr, count_in_bars=-1)


def test_short_pickup_bar_only_clicks_inside_it() -> None:
    from dataclasses import replace

    arr = arrangement_of(song_of(("A", [bar(4, 4, 120.0)] * 2)))
    pickup = replace(arr.bars[0], beats=1.0)
    second = replace(arr.bars[1], start_beat=1.0)
    from backline.model.form import TempoMap

    arr = replace(arr, bars=(pickup, second), tempo_map=TempoMap.from_segments([(0.0, 120.0)]))
    beats = [c.beat for c in click_times(arr, count_in_bars=0)]
    assert beats == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert count_in_seconds(arr, 1) == pytest.approx(2.0)  # a full 4/4 bar, not the pickup's length
    assert [c.beat for c in click_times(arr, count_in_bars=1) if c.count_in] == [-4.0, -3.0, -2.0, -1.0]
