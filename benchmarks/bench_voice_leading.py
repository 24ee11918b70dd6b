"""Voice-leading figure of the keys comping, per style, over real charts.

Usage: ``python benchmarks/bench_voice_leading.py [--songs 100] [--style NAME ...]``

For every style and each of its ``comping`` parts: arrange ~100 corpus songs (the
songs whose meters the style was written for; odd-meter styles also take 4/4 charts
re-metered to 5/4 or 7/8) with the real engine, take the chord the part strikes at each
chord change (its first attack inside the chord; for arpeggios every pitch it plays there), and report
:func:`backline.arrange.voicing.mean_voice_movement`: the mean semitone movement per
voice between consecutive chords. Swing and humanisation are switched off for the
measurement (they move notes in time, never in pitch), so each chord's notes share one
onset. Prints a markdown table; the aim is 2 semitones or less for jazz and pop comping.
"""

from __future__ import annotations

import argparse
import bisect
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import md_table, require_corpora
from backline.arrange.context import build_layout
from backline.arrange.engine import arrange
from backline.arrange.roles._common import build_regions
from backline.arrange.styles import Humanise, Style, StyleRegistry
from backline.arrange.voicing import mean_voice_movement
from backline.formats import load_songs
from backline.model.song import Song, TimeSignature

#: where each style family finds its charts (iReal playlists in the shared corpora)
SOURCES: dict[str, tuple[str, ...]] = {
    "jazz": ("jazz1350",),
    "latin": ("latin", "jazz1350"),
    "brazilian": ("brazilian", "jazz1350"),
    "blues": ("blues50", "jazz1350", "pop400"),
    "country": ("country", "pop400"),
    "folk": ("country", "pop400"),
}
DEFAULT_SOURCES = ("pop400", "country", "blues50")


def _remeter(song: Song, ts: TimeSignature) -> Song | None:
    if any(ev.beat >= ts.bar_beats for b in song.bars for ev in b.chords):
        return None
    return replace(
        song,
        sections=tuple(replace(s, bars=tuple(replace(b, time=ts) for b in s.bars)) for s in song.sections),
    )


def songs_for(style: Style, corpora: Path, n: int, cache: dict[str, list[Song]]) -> list[Song]:
    """Up to ``n`` charts whose every bar is in one of the style's meters, evenly sampled."""
    meters = set(style.meters)
    pool: list[Song] = []
    for name in SOURCES.get(style.family, DEFAULT_SOURCES):
        if name not in cache:
            cache[name] = load_songs(corpora / "ireal" / f"{name}.txt")
        pool += [s for s in cache[name] if s.bars and all(b.time in meters for b in s.bars)]
    if len(pool) < n:  # odd meters: re-meter 4/4 jazz charts
        for s in cache.setdefault("jazz1350", load_songs(corpora / "ireal" / "jazz1350.txt")):
            if len(pool) >= n:
                break
            if all(b.time == TimeSignature(4, 4) for b in s.bars):
                r = _remeter(s, style.meters[0])
                if r is not None:
                    pool.append(r)
    step = max(1, len(pool) // n)
    return pool[::step][:n]


def change_voicings(
    notes: list[tuple[float, int]], regions: list[tuple[float, float]]
) -> list[tuple[int, ...]]:
    """The chord each comping part plays on each chord (start, end) region: the notes of
    its first attack inside the region, or, when that is a single note (an arpeggio), every
    pitch the part strikes in the region."""
    groups: dict[float, list[int]] = {}
    for t, p in notes:
        groups.setdefault(round(t, 4), []).append(p)
    times = sorted(groups)
    out: list[tuple[int, ...]] = []
    for s, e in regions:
        i = bisect.bisect_left(times, s - 1e-4)
        if i < len(times) and times[i] < e - 1e-6:
            chord = set(groups[times[i]])
            if len(chord) == 1:
                j = i
                while j < len(times) and times[j] < e - 1e-6:
                    chord.update(groups[times[j]])
                    j += 1
            out.append(tuple(sorted(chord)))
    return out


def measure(style: Style, songs: list[Song], reg: StyleRegistry) -> list[tuple[str, str, float, float, int]]:
    """(part, pattern/voicing, mean movement, mean voices, chords) for each comping part."""
    still = replace(style, humanise=Humanise(0.0, 0.0, {}), feel="straight")
    comping = [p for p in style.parts if p.role == "comping"]
    rows = []
    for spec in comping:
        figs: list[float] = []
        sizes: list[int] = []
        chords = 0
        for song in songs:
            arr = arrange(song, still, registry=reg, seed=1, parts=[spec.name])
            layout = build_layout(arr.song, still)
            regions = [(r.start, r.end) for r in build_regions(layout.bars) if r.chord is not None]
            notes = [(n.start, n.pitch) for n in arr.parts[0].notes]
            vs = change_voicings(notes, regions)
            if len(vs) >= 2:
                figs.append(mean_voice_movement(vs))
                sizes += [len(v) for v in vs]
                chords += len(vs)
        params = spec.params_for("A")
        label = f"{params.get('pattern', '?')}/{params.get('voicing', '-')}"
        rows.append((spec.name, label, statistics.fmean(figs), statistics.fmean(sizes), chords))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--songs", type=int, default=100)
    ap.add_argument("--style", action="append", default=[])
    args = ap.parse_args(argv)
    corpora = require_corpora()
    reg = StyleRegistry.load([])
    cache: dict[str, list[Song]] = {}
    table: list[list[object]] = []
    t0 = time.perf_counter()
    for name in args.style or reg.names():
        style = reg.get(name)
        songs = songs_for(style, corpora, args.songs, cache)
        for part, label, fig, size, chords in measure(style, songs, reg):
            aim = "<= 2" if style.family in ("jazz", "pop") else ""
            ok = ("yes" if fig <= 2.0 else "NO") if aim else ""
            table.append(
                [name, style.family, part, label, len(songs), chords, f"{size:.1f}", f"{fig:.2f}", ok]
            )
    print(md_table(["style", "family", "part", "pattern/voicing", "songs", "chords", "voices", "mean move (st)",
                    "aim <= 2 met"], table))  # fmt: skip
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
