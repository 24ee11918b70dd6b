"""Benchmark: load and expand every iReal playlist of the shared corpora.

Prints, per playlist: songs, written bars, played bars, chord events, distinct
chord spellings, failures and CPU seconds (``time.process_time``) to load and to
expand; then jazz1350 alone (target: load + expand under 1 s of CPU).

Run: ``.venv/bin/python benchmarks/bench_load_ireal.py [FOLDER]`` (a folder of iReal
``.txt`` playlists; default ``$BACKLINE_CORPORA/ireal``, else ``../shared/corpora/ireal``).
Exit status 1 when a song fails or jazz1350 takes 1 s or more, 2 when there are no playlists.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from backline.errors import BacklineError
from backline.formats import ireal
from backline.model.form import expand

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = Path(os.environ.get("BACKLINE_CORPORA", ROOT.parent / "shared" / "corpora")) / "ireal"


def bench(path: Path) -> dict[str, float]:
    """Load and expand one playlist; returns the figures."""
    data = path.read_bytes()
    t0 = time.process_time()
    songs = ireal.load_bytes(data, path.name)
    t1 = time.process_time()
    failures = 0
    played = 0
    for s in songs:
        try:
            played += len(expand(s))
        except BacklineError:
            failures += 1
    t2 = time.process_time()
    bars = sum(len(s.bars) for s in songs)
    events = [ev for s in songs for b in s.bars for ev in b.chords]
    spellings = {ev.chord.symbol for ev in events if ev.chord is not None}
    return {
        "songs": len(songs),
        "bars": bars,
        "played": played,
        "chords": len(events),
        "spellings": len(spellings),
        "failures": failures,
        "load_s": t1 - t0,
        "expand_s": t2 - t1,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit status 1 when a song fails or jazz1350 takes 1 s or more."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "folder", nargs="?", type=Path, default=DEFAULT, help=f"folder of iReal playlists (default {DEFAULT})"
    )
    folder: Path = ap.parse_args(argv).folder
    files = sorted(folder.glob("*.txt"))
    if not files:
        print(f"no iReal playlists in {folder}")
        return 2
    head = f"{'playlist':16} {'songs':>6} {'bars':>7} {'played':>7} {'chords':>7} {'spell':>6} {'fail':>5} {'load s':>7} {'expand s':>8}"
    print(head)
    bad = 0
    for f in files:
        r = bench(f)
        bad += int(r["failures"])
        print(
            f"{f.name:16} {r['songs']:6.0f} {r['bars']:7.0f} {r['played']:7.0f} {r['chords']:7.0f} "
            f"{r['spellings']:6.0f} {r['failures']:5.0f} {r['load_s']:7.3f} {r['expand_s']:8.3f}"
        )
    jazz = folder / "jazz1350.txt"
    if jazz.exists():
        # a fresh process would start with cold caches: clear ours to measure the same
        for cache in (ireal._CHORD_CACHE, ireal._EVENT_CACHE, ireal._PLACE_CACHE):
            cache.clear()
        r = bench(jazz)
        total = r["load_s"] + r["expand_s"]
        print(
            f"jazz1350 (cold caches): load {r['load_s']:.3f} s + expand {r['expand_s']:.3f} s = {total:.3f} s CPU"
        )
        if total >= 1.0:
            return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
