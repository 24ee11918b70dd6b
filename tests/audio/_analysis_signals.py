"""Synthetic test signals for the analysis tests: clicks, additive-synth chord progressions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SR = 22050
QUALITIES = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "min7": (0, 3, 7, 10),
    "dim": (0, 3, 6),
    "5": (0, 7),
}


def midi_hz(m: float, a4: float = 440.0) -> float:
    return float(a4 * 2 ** ((m - 69) / 12))


def tone(
    freqs: list[float], dur: float, *, amp: float, decay: float, harmonics: int = 5, sr: int = SR
) -> np.ndarray:
    t = np.arange(int(dur * sr)) / sr
    y = np.zeros_like(t)
    for f in freqs:
        for h in range(1, harmonics + 1):
            y += amp / h * np.sin(2 * np.pi * f * h * t)
    return y * np.exp(-t * decay)


def clicks(beat_times: np.ndarray, duration: float, *, meter: int = 4, sr: int = SR) -> np.ndarray:
    """A 1 kHz click on every beat, accented (twice as loud) on each ``meter``-th."""
    y = np.zeros(int(duration * sr), dtype=np.float32)
    k = int(0.02 * sr)
    t = np.arange(k) / sr
    for i, b in enumerate(beat_times):
        s = round(b * sr)
        seg = (1.0 if i % meter == 0 else 0.5) * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 200)
        y[s : s + k] += seg[: len(y[s : s + k])]
    return y * 0.8


def progression(
    chords: list[tuple[int, str]],
    *,
    bpm: float = 112.0,
    meter: int = 4,
    beats_per_chord: int = 4,
    bright: bool = False,
    a4: float = 440.0,
    sr: int = SR,
) -> tuple[np.ndarray, np.ndarray]:
    """(audio, beat times): block chords with a bass root and a kick on every beat
    (louder on downbeats). ``bright`` gives a different timbre (more harmonics, higher
    voicing); ``a4`` the concert pitch the band is tuned to."""
    spb = 60.0 / bpm
    n_beats = len(chords) * beats_per_chord
    n = int(n_beats * spb * sr) + sr
    y = np.zeros(n)
    beat = 0
    for root, q in chords:
        for _ in range(beats_per_chord):
            t0 = int(beat * spb * sr)
            base = 72 if bright else 60
            seg = tone(
                [midi_hz(base + (root + iv) % 12, a4) for iv in QUALITIES[q]],
                spb,
                amp=0.12,
                decay=0.5 if bright else 1.5,
                harmonics=9 if bright else 5,
                sr=sr,
            )
            seg = seg + tone([midi_hz(36 + root, a4)], spb, amp=0.35, decay=3.0, sr=sr)
            k = int(0.03 * sr)
            tt = np.arange(k) / sr
            down = beat % meter == 0
            seg[:k] += (
                (0.9 if down else 0.4) * np.sin(2 * np.pi * (60 if down else 200) * tt) * np.exp(-tt * 80)
            )
            end = min(n, t0 + len(seg))
            y[t0:end] += seg[: end - t0]
            beat += 1
    y = y / np.abs(y).max() * 0.8
    return y.astype(np.float32), np.arange(n_beats) * spb


def syncopated(bpm: float = 104.0, bars: int = 16, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """(audio, beat times) of a groove louder on the off-beats than on the beats: C Am F G7
    two beats each (sustained chords with soft attacks, changing on the beat), loud noise
    bursts and a bass stab on every off-beat, soft ticks on the beats."""
    rng = np.random.default_rng(0)
    spb = 60.0 / bpm
    n_beats = bars * 4
    y = np.zeros(int(n_beats * spb * sr) + sr)
    prog = [(0, "maj"), (9, "min"), (5, "maj"), (7, "7")]
    for i in range(0, n_beats, 2):
        root, q = prog[(i // 2) % 4]
        s = int((0.25 + i * spb) * sr)
        seg = tone([midi_hz(60 + (root + iv) % 12) for iv in QUALITIES[q]], 2 * spb, amp=0.12, decay=0.5)
        seg *= np.minimum(1.0, np.arange(len(seg)) / (0.04 * sr))
        y[s : s + len(seg)] += seg[: len(y) - s]
    k = int(0.03 * sr)
    noise = rng.standard_normal(k) * np.exp(-np.arange(k) / sr * 120)
    for i in range(n_beats):
        on, off = int((0.25 + i * spb) * sr), int((0.25 + (i + 0.5) * spb) * sr)
        y[on : on + k] += 0.1 * noise[: len(y) - on]
        y[off : off + k] += 0.6 * noise[: len(y) - off]
        stab = tone([midi_hz(36 + prog[(i // 2) % 4][0])], 0.15, amp=0.5, decay=20)
        y[off : off + len(stab)] += stab[: len(y) - off]
    return y.astype(np.float32), 0.25 + np.arange(n_beats) * spb


def drum_groove(
    bpm: float, hits: list[tuple[float, str, float]], *, bars: int = 24, seed: int = 0, sr: int = SR
) -> tuple[np.ndarray, np.ndarray]:
    """(audio, beat times) of a one-bar drum pattern repeated: ``hits`` are (position in
    beats within the 4/4 bar, "kick" | "snare" | "hat", gain). Kick: a 55 Hz thump;
    snare: noise over a 200 Hz body; hat: bright noise (seeded, so reproducible)."""
    rng = np.random.default_rng(seed)
    spb = 60.0 / bpm
    y = np.zeros(int((bars * 4 + 1) * spb * sr))
    for bar in range(bars):
        for pos, kind, gain in hits:
            i = round((bar * 4 + pos) * spb * sr)
            m = min(int((0.3 if kind == "kick" else 0.15) * sr), len(y) - i)
            t = np.arange(m) / sr
            if kind == "kick":
                x = np.sin(2 * np.pi * 55 * t)
            elif kind == "snare":
                x = 0.7 * rng.standard_normal(m) + np.sin(2 * np.pi * 200 * t)
            else:
                x = np.diff(rng.standard_normal(m + 1))  # high-passed noise
            y[i : i + m] += gain * np.exp(-t / 0.02) * x
    return (y / np.abs(y).max() * 0.5).astype(np.float32), np.arange(bars * 4) * spb


def render_chart(chart: str, style: str, out: Path, *, seed: int = 0) -> Path:
    """A one-song chart arranged in ``style`` (no intro or ending) and rendered with
    FluidSynth at 22.05 kHz into ``out`` (no click, cues or count-in): its mix."""
    from backline.arrange.engine import arrange
    from backline.formats.chart import loads
    from backline.render.pipeline import RenderOptions, render_arrangement

    (song,) = loads(chart, "song.chart")
    arr = arrange(song, style, seed=seed, intro=False, ending=False)
    opts = RenderOptions(
        sample_rate=22050, click=False, cues=False, count_in_bars=0, midi=False, tail_seconds=1.0
    )
    render_arrangement(arr, out, opts)
    return out / "mix.wav"
