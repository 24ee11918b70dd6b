"""Load every chart of the shared corpora: songs, bars, chords, distinct spellings, failures.

Usage: ``.venv/bin/python benchmarks/bench_corpus.py`` (the corpora are found at
``$BACKLINE_CORPORA``, else ``../shared/corpora``). Runs on one core and prints a markdown
table (copy it into docs/benchmarks.md); songs that fail to load go to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import md_table, pin_one_core, require_corpora
from backline.errors import BacklineError
from backline.formats import load_songs
from backline.model.form import expand


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.parse_args(argv)  # --help, and unknown arguments refused, before any work
    pin_one_core()
    root = require_corpora()
    groups = {
        "iReal Pro playlists": sorted((root / "ireal").glob("*.txt")),
        "iReal -> MusicXML goldens": sorted(
            p for p in (root / "ireal" / "expected-musicxml").glob("*") if p.name != "invalid.musicxml"
        ),
        "ChordPro songs": sorted((root / "chordpro" / "songs").glob("*")),
        "MusicXML OpenEWLD": sorted((root / "musicxml" / "openewld").rglob("*.mxl")),
        "MusicXML music21": sorted((root / "musicxml" / "music21-chordsymbols").glob("*")),
    }
    rows = []
    total_fail = 0
    spellings_all: set[str] = set()
    for name, files in groups.items():
        songs = bars = played = chords = fails = 0
        spellings: set[str] = set()
        t0 = time.process_time()
        for f in files:
            try:
                for s in load_songs(f):
                    songs += 1
                    bars += len(s.bars)
                    played += len(expand(s))
                    for c in s.chord_symbols():
                        chords += 1
                        spellings.add(c.symbol)
            except BacklineError as exc:
                fails += 1
                print(f"FAIL {exc}", file=sys.stderr)
        cpu = time.process_time() - t0
        total_fail += fails
        spellings_all |= spellings
        rows.append([name, len(files), songs, bars, played, chords, len(spellings), fails, f"{cpu:.2f}"])
    print(
        md_table(
            [
                "corpus",
                "files",
                "songs",
                "written bars",
                "played bars",
                "chords",
                "distinct spellings",
                "failures",
                "CPU s",
            ],
            rows,
        )
    )
    print(f"\ndistinct chord spellings over all corpora: {len(spellings_all)}; failures: {total_fail}")


if __name__ == "__main__":
    main()
