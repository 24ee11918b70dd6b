"""Rebuild the analyser's harmony model (``src/backline/data/harmony.json``) from the
iReal Pro playlists of the shared corpora.

    .venv/bin/python scripts/train_harmony.py [--variants 0 1 2 3] [--check-sets DIR ...]

Every song that the analysis evaluation sets render (``benchmarks/build_eval_set.py``,
variants 0 to 3) is left out, so the benchmark figures are measured on songs the
model never saw. ``--check-sets`` compares that list with the titles of sets already
built (their ``truth.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import require_corpora  # noqa: E402
from backline.formats import load_songs  # noqa: E402
from backline.model.harmony import train  # noqa: E402
from backline.util.atomic import atomic_path  # noqa: E402
from build_eval_set import select  # noqa: E402

PLAYLISTS = ("jazz1350", "pop400", "latin", "brazilian", "blues50", "country")
OUT = ROOT / "src" / "backline" / "data" / "harmony.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, nargs="*", default=[0, 1, 2, 3])
    ap.add_argument("--check-sets", type=Path, nargs="*", default=[])
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    held_out = {arr.song.title for v in a.variants for _, _, arr in select(variant=v)}  # type: ignore[attr-defined]
    for d in a.check_sets:
        built = {json.loads(p.read_text())["title"] for p in d.glob("*/truth.json")}
        if not built <= held_out:
            sys.exit(f"{d}: songs not held out: {sorted(built - held_out)}")
    corpora = require_corpora()
    songs = [s for pl in PLAYLISTS for s in load_songs(corpora / "ireal" / f"{pl}.txt")]
    counts = train(songs, exclude_titles=held_out)
    with atomic_path(a.out) as tmp:
        tmp.write_text(counts.to_json() + "\n", encoding="utf-8")
    print(f"{counts.songs} songs counted, {len(counts.excluded)} titles held out -> {a.out}")


if __name__ == "__main__":
    main()
