"""Benchmark: arrange every song of jazz1350.txt in a five-part style and write MIDI bytes.

Usage: ``python benchmarks/bench_arrange.py [--style medium-swing] [--limit N] [--corpus PATH]
[--notes]``

Runs in-process on ONE core (``os.sched_setaffinity``); parsing the playlist is timed
separately. Prints wall-clock and CPU seconds and milliseconds per song for each stage:
layout (form, chord spans, plan), roles (the parts' notes), feel (clean-up, swing,
humanisation, overlaps) and MIDI bytes. ``--notes`` also makes every part's
:class:`~backline.arrange.events.NoteEvent` objects (the engine keeps notes as arrays until
someone reads them). Target: arrange + MIDI under 15 s in total for the 1,350 songs.
The machine's load average is printed: on a shared machine wall time exceeds CPU time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pin_one_core
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
    ap.add_argument("--notes", action="store_true", help="also materialise every NoteEvent")
    args = ap.parse_args(argv)
    if not Path(args.corpus).exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    pin_one_core()
    t = time.perf_counter()
    songs = load_songs(args.corpus)
    t_load = time.perf_counter() - t
    if args.limit:
        songs = songs[: args.limit]
    reg = StyleRegistry.load([])
    style = reg.get(args.style)
    # warm up (imports, caches of the first song) outside the timed loop
    arrangement_to_midi_bytes(arrange(songs[0], style, registry=reg, seed=1))
    stages: dict[str, float] = {}
    t_midi = t_notes = 0.0
    notes = 0
    failed: list[tuple[str, str]] = []
    load0 = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    for song in songs:
        try:
            arr = arrange(song, style, registry=reg, seed=1, timings=stages)
        except Exception as exc:
            failed.append((song.title, f"{type(exc).__name__}: {exc}"))
            continue
        t1 = time.perf_counter()
        data = arrangement_to_midi_bytes(arr)
        t2 = time.perf_counter()
        t_midi += t2 - t1
        if args.notes:
            for p in arr.parts:
                for _ in p.notes:
                    pass
            t_notes += time.perf_counter() - t2
        notes += sum(len(p.notes) for p in arr.parts)
        assert data[:4] == b"MThd"
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    load1 = os.getloadavg()[0]
    n = len(songs) - len(failed)
    print(f"style {style.name} ({len(style.parts)} parts), {n} songs, {notes} notes, one core")
    print(f"load average {load0:.2f} -> {load1:.2f}")
    print(f"{'stage':<26}{'total s':>10}{'ms/song':>10}")
    rows = [("parse playlist", t_load)]
    rows += [(f"  {k}", v) for k, v in stages.items()]
    rows.append(("  MIDI bytes", t_midi))
    if args.notes:
        rows.append(("  NoteEvent objects", t_notes))
    rows += [("arrange + MIDI (wall)", wall), ("arrange + MIDI (CPU)", cpu)]
    for name, secs in rows:
        print(f"{name:<26}{secs:>10.2f}{1000 * secs / max(n, 1):>10.2f}")
    print(f"target: arrange + MIDI < 15 s -> {'PASS' if wall < 15 else 'FAIL'} (wall), "
          f"{'PASS' if cpu < 15 else 'FAIL'} (CPU)")  # fmt: skip
    for title, why in failed[:10]:
        print(f"failed: {title}: {why}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
