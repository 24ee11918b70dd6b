"""The rendered music is recognisable as the chart: the chart's chord is heard on most beats.

Twenty iReal songs from the shared corpora (jazz, pop, latin, brazilian, blues, country:
several styles) are arranged with their own style hint and the first 16 bars rendered
with the default sounds and the default mixer strips (no mastering, 22050 Hz). A
beat-synchronous chroma (an STFT chroma, log-frequency mapped, 40 Hz - 2.1 kHz, the bass
register weighted 3x) is
compared with the 24 major and minor triad templates: a beat is heard as the chart
when the template of the chart's chord (root, and minor when the chord's third is
minor) correlates best. The median over the songs must reach 85 %.

Chords without a third (sus, power chords, a bare bass note) and N.C. are left out of
the count; sevenths and extensions are judged by their triad.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backline.arrange.events import NoteEvent, Part
from corpora import corpora_path

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("fluidsynth") is None, reason="needs pyfluidsynth and libfluidsynth"
    ),
    pytest.mark.slow,
    pytest.mark.audio,
]
engine = pytest.importorskip("backline.arrange.engine")

SR = 22050
BARS = 16
THRESHOLD = 0.85
# (playlist, song indices): 20 songs, spread through each playlist
PICKS = {
    "jazz1350": (1, 150, 400, 700, 1000),
    "pop400": (3, 90, 200, 330),
    "latin": (5, 30),
    "brazilian": (0, 40, 80, 120),
    "blues50": (1, 20, 40),
    "country": (1, 25),
}


def _truncate(arr: Any, bars: int) -> Any:
    """The first ``bars`` bars of an arrangement (notes cut at the end)."""
    plan = arr.bars[:bars]
    end = plan[-1].start_beat + plan[-1].beats
    parts = []
    for p in arr.parts:
        notes = [
            NoteEvent(n.start, min(n.duration, end - n.start), n.pitch, n.velocity)
            for n in p.notes
            if n.start < end - 1e-6
        ]
        parts.append(replace(p, notes=tuple(notes)))
    return replace(arr, parts=tuple(parts), bars=plan)


def _mix(arr: Any) -> np.ndarray:
    """The pre-master mix through the default strips, mono."""
    from backline.render.mixer import process_strip, strip_for
    from backline.render.soundfonts import choose_sounds
    from backline.render.synth import render_parts

    sounds = choose_sounds(arr.parts)
    res = render_parts(arr, sounds, SR, tail_seconds=0.5)
    parts: dict[str, Part] = {p.name: p for p in arr.parts}
    total = np.zeros(res.n_samples, dtype=np.float64)
    for name, audio in res.audio.items():
        stem, _ = process_strip(audio, SR, strip_for(parts[name]))
        total += stem.mean(axis=1)
    return total


def _chroma(y: np.ndarray, n_fft: int = 8192, hop: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(12, frames) chroma from a Hann STFT and the frame centre times in seconds."""
    from numpy.lib.stride_tricks import sliding_window_view

    pad = np.concatenate([np.zeros(n_fft // 2), y, np.zeros(n_fft // 2)])
    frames = sliding_window_view(pad, n_fft)[::hop] * np.hanning(n_fft)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    f = np.fft.rfftfreq(n_fft, 1.0 / SR)
    keep = (f >= 40.0) & (f <= 2100.0)
    midi = 69 + 12 * np.log2(f[keep] / 440.0)
    pc = np.round(midi).astype(int) % 12
    # weight each bin by how close it lies to a semitone centre, and the bass register
    # (under 200 Hz, where the root is played) three times: a bass + treble chroma
    w = np.cos(np.clip(midi - np.round(midi), -0.5, 0.5) * np.pi) ** 2
    w *= np.where(f[keep] < 200.0, 3.0, 1.0)
    m = np.sqrt(mag[:, keep]) * w  # compressed magnitudes: no single loud partial rules
    chroma = np.zeros((12, m.shape[0]))
    for k in range(12):
        chroma[k] = m[:, pc == k].sum(axis=1)
    return chroma, np.arange(m.shape[0]) * hop / SR


def _templates() -> np.ndarray:
    t = np.zeros((24, 12))
    for r in range(12):
        t[r, [r, (r + 4) % 12, (r + 7) % 12]] = 1.0
        t[12 + r, [r, (r + 3) % 12, (r + 7) % 12]] = 1.0
    t -= t.mean(axis=1, keepdims=True)
    return t / np.linalg.norm(t, axis=1, keepdims=True)


def _chart_beats(arr: Any) -> list[tuple[float, float, int]]:
    """(start s, end s, template index) of every beat whose chart chord has a third."""
    written = arr.song.bars
    tm = arr.tempo_map
    out = []
    for pb in arr.bars:
        if pb.written_bar is None:
            continue
        events = written[pb.written_bar].chords
        for k in range(round(pb.beats)):
            current = [e for e in events if float(e.beat) <= k + 1e-9]
            if not current or current[-1].chord is None:
                continue
            ch = current[-1].chord
            if ch.quality.third is None or ch.quality.bass_only or ch.quality.power:
                continue
            idx = ch.root_pc + (12 if ch.quality.is_minor else 0)
            b = pb.start_beat + k
            out.append((tm.seconds_at(b), tm.seconds_at(b + 1), idx))
    return out


def hit_rate(song: Any) -> tuple[float, float, int, str]:
    """(fraction of beats that hear the chart's chord, the same against the chart moved
    up a tone (a control: it must be low), beats judged, style)."""
    arr = _truncate(engine.arrange(song, None, seed=0, intro=False, ending=False), BARS)
    chroma, times = _chroma(_mix(arr))
    tmpl = _templates()
    hits = shifted = 0
    beats = _chart_beats(arr)
    for start, end, idx in beats:
        sel = (times >= start) & (times < end)
        if not sel.any():
            sel = np.abs(times - start) == np.abs(times - start).min()
        v = chroma[:, sel].mean(axis=1)
        best = int(np.argmax(tmpl @ (v - v.mean())))
        hits += int(best == idx)
        shifted += int(best == (idx % 12 + 2) % 12 + (idx // 12) * 12)
    n = max(1, len(beats))
    return hits / n, shifted / n, len(beats), arr.style


def _songs() -> list[tuple[str, Any]]:
    from backline.formats import load_songs

    folder = corpora_path("ireal")
    out = []
    for name, picks in PICKS.items():
        songs = load_songs(Path(folder) / f"{name}.txt")
        out += [(f"{name}/{songs[i].title}", songs[i]) for i in picks]
    return out


@pytest.mark.xfail(
    reason="known gap (issue 4): the median is about 45 %, not 85 %: jazz, bossa and latin-jazz "
    "voicings (rootless, 6ths, 7ths, 9ths, #11) correlate better with other triads (Cmaj7 -> Em, "
    "C6 -> Am); country/pop/blues reach 53-100 %. Needs simpler voicings or chord templates "
    "that know 7ths in the arranger, not a mixer change",
    strict=False,
)
def test_the_chart_is_heard_on_most_beats() -> None:
    from backline.render.soundfonts import gm_soundfont

    try:
        gm_soundfont()
    except Exception as exc:  # no SoundFont installed at all
        pytest.skip(f"no General MIDI SoundFont: {exc}")
    rows = []
    for label, song in _songs():
        rate, control, n, style = hit_rate(song)
        rows.append((rate, control, n, style, label))
    table = "\n".join(f"{r:6.1%} {c:6.1%} {n:4d} beats  {s:<18} {lab}" for r, c, n, s, lab in rows)
    print("\n  hit control beats style              song\n" + table)
    assert len(rows) == 20 and len({row[3] for row in rows}) >= 6
    assert all(row[2] >= 24 for row in rows), table
    median = float(np.median([row[0] for row in rows]))
    assert median >= THRESHOLD, f"median {median:.1%} under {THRESHOLD:.0%}\n{table}"
    # the measure can fail: the chart moved up a tone is (almost) never heard
    assert float(np.median([row[1] for row in rows])) < 0.1, table
