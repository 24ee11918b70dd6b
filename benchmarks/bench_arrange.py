"""Benchmark: arrange every song of jazz1350.txt in a five-part style and write MIDI bytes.

Usage: ``python benchmarks/bench_arrange.py [--style medium-swing] [--limit N] [--corpus PATH]``

Runs on one core in-process; parsing the playlist is timed separately. Prints a table
of total seconds and milliseconds per song for each stage. Target: under 15 s in total
for the 1,350 songs (arrange + MIDI).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from backline.arrange.engine import arrange
from backline.arrange.midi_out import arrangement_to_midi_bytes
from backline.arrange.styles import StyleRegistry
from backline.formats import load_songs

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "ireal" / "jazz1350.txt"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--style", default="medium-swing")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--corpus", default=os.environ.get("BACKLINE_BENCH_CORPUS", str(DEFAULT)))
    args = ap.parse_args(argv)
    if not Path(args.corpus).exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    t = time.perf_counter()
    songs = load_songs(args.corpus)
    t_load = time.perf_counter() - t
    if args.limit:
        songs = songs[: args.limit]
    reg = StyleRegistry.load([])
    style = reg.get(args.style)
    t_arr = t_midi = 0.0
    notes = 0
    failed: list[tuple[str, str]] = []
    for song in songs:
        t0 = time.perf_counter()
        try:
            arr = arrange(song, style, registry=reg, seed=1)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
            failed.append((song.title, f"{type(exc).__name__}: {exc}"))
            continue
        t1 = time.perf_counter()
        data = arrangement_to_midi_bytes(arr)
        t2 = time.perf_counter()
        t_arr += t1 - t0
        t_midi += t2 - t1
        notes += sum(len(p.notes) for p in arr.parts)
        assert data[:4] == b"MThd"
    n = len(songs) - len(failed)
    total = t_arr + t_midi
    print(f"style {style.name} ({len(style.parts)} parts), {n} songs, {notes} notes")
    print(f"{'stage':<22}{'total s':>10}{'ms/song':>10}")
    for name, secs in (("parse playlist", t_load), ("arrange", t_arr), ("MIDI bytes", t_midi), ("arrange + MIDI", total)):
        print(f"{name:<22}{secs:>10.2f}{1000 * secs / max(n, 1):>10.2f}")
    print(f"target: arrange + MIDI < 15 s -> {'PASS' if total < 15 else 'FAIL'}")
    for title, why in failed[:10]:
        print(f"failed: {title}: {why}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
