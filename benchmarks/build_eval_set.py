"""Build the analysis evaluation set: charts from the shared corpora, arranged and rendered
by backline, with ground truth taken from the arrangement plan.

    .venv/bin/python benchmarks/build_eval_set.py [--out /tmp/backline-eval] [--count 32] [--variant N] [--mute PART]

``--variant 1`` draws other songs, keys and seeds from the same plan (a second set, to
see whether a change to the analyser suits more than the songs it was tried on).
``--mute drums`` renders the same songs without that part (a diagnostic: how much of
the analyser's error the drums cause); its default folder ends in ``-no-drums``.

For each item: ``<out>/<id>/mix.wav`` (22.05 kHz, no click, no count-in, no intro or
ending, so the chart's first bar starts at 0 s) and ``truth.json``:

- ``beats``/``downbeats``: the click grid of the plan (:func:`backline.render.click.click_times`
  with no count-in), i.e. every counted pulse of every played bar, in seconds from the plan's
  tempo map;
- ``chords``: every chord span of the expanded chart as Harte labels (``N`` for N.C.);
- ``key``: the chart's key after transposition (mir_eval form); ``tempo``: the first bar's;
- ``sections``: the chart's section starts in playback order.

Items are cached: an item whose ``truth.json`` exists is not rendered again. Songs in
4/4 and 3/4 only (the meters the analyser reports); styles cover the style families,
tempos run from 60 to 200 BPM and keys go round the circle of fifths.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import require_corpora
from backline.errors import BacklineError

# (playlist, style, meter numerator, tempo): one row per item, cycled over songs of the list.
PLAN: list[tuple[str, str, int, int]] = [
    ("pop400", "pop", 4, 100),
    ("pop400", "rock", 4, 128),
    ("pop400", "soul", 4, 92),
    ("pop400", "funk", 4, 104),
    ("pop400", "pop-ballad", 4, 70),
    ("pop400", "even-8ths", 4, 116),
    ("pop400", "hard-rock", 4, 140),
    ("pop400", "dance", 4, 124),
    ("pop400", "reggae", 4, 80),
    ("pop400", "gospel", 4, 88),
    ("pop400", "folk", 4, 108),
    ("jazz1350", "medium-swing", 4, 132),
    ("jazz1350", "up-tempo-swing", 4, 200),
    ("jazz1350", "jazz-ballad", 4, 64),
    ("jazz1350", "medium-swing", 4, 160),
    ("jazz1350", "bossa-nova", 4, 130),
    ("jazz1350", "latin-jazz", 4, 176),
    ("jazz1350", "jazz-waltz", 3, 150),
    ("jazz1350", "waltz", 3, 120),
    ("brazilian", "bossa-nova", 4, 140),
    ("brazilian", "samba", 4, 96),
    ("latin", "afro-cuban", 4, 180),
    ("latin", "latin-jazz", 4, 110),
    ("blues50", "blues-shuffle", 4, 112),
    ("blues50", "slow-blues", 4, 66),
    ("blues50", "medium-swing", 4, 144),
    ("country", "country-train", 4, 150),
    ("country", "country-two-step", 4, 120),
    ("country", "waltz", 3, 96),
    ("pop400", "rock", 4, 168),
    ("pop400", "pop", 4, 84),
    ("jazz1350", "jazz-waltz", 3, 180),
    ("pop400", "soul", 4, 76),
    ("country", "folk", 4, 96),
]
KEYS_MAJOR = ["C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F"]


def _truth(arr: object) -> dict[str, object]:
    from backline.audio.analyze.harte import chord_to_harte
    from backline.model.form import expand
    from backline.render.click import click_times

    clicks = click_times(arr, count_in_bars=0)  # type: ignore[arg-type]
    song = arr.song  # type: ignore[attr-defined]
    tm = arr.tempo_map  # type: ignore[attr-defined]
    tl = expand(song)
    chords = []
    for start, dur, ev, _pb in tl.chord_spans():
        s, e = tm.seconds_at(float(start)), tm.seconds_at(float(start + dur))
        label = chord_to_harte(ev.chord)
        if chords and chords[-1]["label"] == label and abs(chords[-1]["end"] - s) < 1e-9:
            chords[-1]["end"] = e
        else:
            chords.append({"start": s, "end": e, "label": label})
    sections = [tm.seconds_at(float(pb.start_beat)) for pb in tl.bars if pb.section_start or pb.index == 0]
    return {
        "title": song.title,
        "style": arr.style,  # type: ignore[attr-defined]
        "key": song.key.mir_eval if song.key is not None else None,
        "tempo": arr.bars[0].tempo,  # type: ignore[attr-defined]
        "time_signature": [arr.bars[0].numerator, arr.bars[0].denominator],  # type: ignore[attr-defined]
        "duration": arr.duration_seconds,  # type: ignore[attr-defined]
        "beats": [c.seconds for c in clicks if c.level <= 1],
        "downbeats": [c.seconds for c in clicks if c.level == 0],
        "chords": chords,
        "sections": sorted(set(sections)),
    }


def muted(parts: Iterable[str]) -> tuple[str, ...]:
    """The parts to mute, in one order (``--mute bass --mute drums`` is the same set as
    ``--mute drums --mute bass``)."""
    return tuple(sorted(set(parts)))


def default_folder(variant: int, mute: tuple[str, ...] = ()) -> Path:
    base = "/tmp/backline-eval" if variant == 0 else f"/tmp/backline-eval-v{variant}"
    return Path(base + "".join(f"-no-{m}" for m in mute))


def check_variant(item: Path, variant: int, mute: tuple[str, ...] = ()) -> None:
    """Refuse an item built as another variant (same item names, other songs) or with
    other parts muted."""
    truth = json.loads((item / "truth.json").read_text())
    built = truth.get("variant", variant)
    if built != variant:
        sys.exit(f"{item} was built as variant {built}, not {variant}: use another --out/--set")
    built_muted = muted(truth.get("muted", ()))
    if built_muted != muted(mute):
        sys.exit(
            f"{item} was built with {list(built_muted) or 'no part'} muted, not {list(mute)}: use another --out/--set"
        )


def select(count: int = len(PLAN), variant: int = 0, max_bars: int = 96) -> Iterator[tuple[str, int, object]]:
    """The items of one set, without rendering: (item name, tempo, arrangement) per plan
    row (``variant`` > 0 picks other songs, keys and seeds from the same plan)."""
    from backline.arrange.engine import arrange
    from backline.formats import load_songs
    from backline.model.form import expand

    corpora = require_corpora()
    lists: dict[str, list[object]] = {}
    used: dict[str, int] = {}
    for i, (playlist, style, meter, tempo) in enumerate(PLAN[:count]):
        if playlist not in lists:
            lists[playlist] = load_songs(corpora / "ireal" / f"{playlist}.txt")
        songs = lists[playlist]
        pos = used.get(playlist, 0) + 7 * i + 101 * variant  # spread over the playlist
        for k in range(len(songs)):
            song = songs[(pos + k * 13) % len(songs)]
            if song.time_signature.numerator != meter or song.time_signature.denominator != 4:  # type: ignore[attr-defined]
                continue
            if song.key is None:  # type: ignore[attr-defined]
                continue
            try:
                if len(expand(song)) > max_bars:  # type: ignore[arg-type]
                    continue
                mode = song.key.mode  # type: ignore[attr-defined]
                tonic = KEYS_MAJOR[(i * 5 + 7 * variant) % 12]
                key = tonic + ("m" if mode == "minor" else "")
                arr = arrange(
                    song,
                    style,
                    seed=i + 1000 * variant,
                    key=key,
                    tempo=float(tempo),
                    intro=False,
                    ending=False,
                )  # type: ignore[arg-type]
            except BacklineError:
                continue
            break
        else:
            print(f"no song for {playlist}/{style}", file=sys.stderr)
            continue
        used[playlist] = (pos + k * 13) % len(songs) + 1
        yield f"{i:02d}-{style}", tempo, arr


def build(out: Path, count: int, variant: int = 0, mute: tuple[str, ...] = ()) -> list[Path]:
    """Render (or reuse) the items of :func:`select`, without the parts in ``mute``."""
    from backline.model.pitch import Key
    from backline.render.pipeline import RenderOptions, render_arrangement

    mute = muted(mute)
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.glob("*/truth.json")):  # refuse a folder of another set before rendering
        check_variant(old.parent, variant, mute)
    items: list[Path] = []
    for name, tempo, arr in select(count, variant):
        item = out / name
        items.append(item)
        if (item / "truth.json").exists() and (item / "mix.wav").exists():
            check_variant(item, variant, mute)
            continue
        t0 = time.perf_counter()
        opts = RenderOptions(
            sample_rate=22050,
            click=False,
            cues=False,
            count_in_bars=0,
            midi=False,
            tail_seconds=1.0,
            mute=tuple(mute),
        )
        render_arrangement(arr, item, opts)  # type: ignore[arg-type]
        truth = _truth(arr) | {"variant": variant} | ({"muted": list(mute)} if mute else {})
        (item / "truth.json").write_text(json.dumps(truth, indent=1))
        assert isinstance(arr.song.key, Key)  # type: ignore[attr-defined]
        print(
            f"{item.name}: {truth['title']} in {truth['key']} at {tempo} BPM ({time.perf_counter() - t0:.1f} s)"
        )
    return items


def build_long(out: Path, minutes: float = 60.0) -> Path:
    """A long file for the memory benchmark: the rendered items end to end, repeated."""
    import numpy as np

    from backline.audio.io import iter_blocks, open_writer

    path = out / f"long-{int(minutes)}min.wav"
    if path.exists():
        return path
    mixes = sorted(out.glob("*/mix.wav"))
    if not mixes:
        raise SystemExit("build the evaluation set first")
    need = int(minutes * 60 * 22050)
    done = 0
    with open_writer(path, 22050, 1, bit_depth=16) as write:
        while done < need:
            for m in mixes:
                for b in iter_blocks(m):
                    x = b.mean(axis=0)[: need - done]
                    write(np.asarray(x, dtype=np.float32))
                    done += len(x)
                    if done >= need:
                        break
                if done >= need:
                    break
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, help="default: /tmp/backline-eval, or /tmp/backline-eval-vN for a variant"
    )
    ap.add_argument("--count", type=int, default=len(PLAN))
    ap.add_argument("--long", action="store_true", help="also build the 60-minute file")
    ap.add_argument(
        "--variant", type=int, default=0, help="another draw of songs, keys and seeds (held-out set)"
    )
    ap.add_argument("--mute", action="append", default=[], help="render without this part (diagnostic)")
    a = ap.parse_args()
    mute = muted(a.mute)
    a.out = a.out or default_folder(a.variant, mute)
    items = build(a.out, a.count, variant=a.variant, mute=mute)
    print(f"{len(items)} items in {a.out}")
    if a.long:
        print(build_long(a.out))


if __name__ == "__main__":
    main()
