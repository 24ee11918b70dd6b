"""Analysis benchmark: mir_eval scores on the rendered evaluation set and madmom's sample,
speed (x real time on one core, after start-up), shift speed and memory on a 60-minute file.

    taskset -c 0 .venv/bin/python benchmarks/bench_analysis.py [--variant N] [--set DIR] [--no-long] [--mute drums]
    .venv/bin/python benchmarks/bench_analysis.py --set DIR --pitch-from OTHER_DIR --no-long
    .venv/bin/python benchmarks/bench_analysis.py --pool SET1 SET2 ...

Builds the evaluation set first when it is missing (benchmarks/build_eval_set.py;
``--variant`` picks the draw: 0 the main set, 1 to 3 further songs from the same plan).
Prints a markdown table and writes ``results.json`` into the set's folder. ``--pool``
prints the measures over the songs of several sets already measured.

``--pitch-from`` is a diagnostic: each song's beats come from its own mix, its chords and
key from the pitch features of the same song in another set (built with ``--mute drums``:
how much of the chord and key error the drums cause, the beat tracker's onsets unchanged;
the off-beat check, meter and bar lines weigh the chords and can move).
Its results go to ``results-pitch-from-<set name>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CORPORA, md_table, pin_one_core

KEY_KINDS = ("correct", "fifth", "relative", "parallel", "other")


def _key_kind(ref: str, est: str) -> str:
    import mir_eval

    s = mir_eval.key.weighted_score(ref, est)
    return {1.0: "correct", 0.5: "fifth", 0.3: "relative", 0.2: "parallel"}.get(round(s, 2), "other")


def key_named_by_chart(truth: dict[str, Any]) -> bool:
    """Whether the chart's own chords back its key label: the tonic is the root or the
    bass of its first or last chord. Chart keys are typed by hand (a country chart
    labelled D plays in E; a few Brazilian and jazz charts keep iReal's default C while
    they start and end elsewhere); this row counts them apart, it does not correct them."""
    import mir_eval

    labels = [c["label"] for c in truth["chords"] if c["label"] != "N"]
    if not labels or truth["key"] == "X":
        return False
    tonic = mir_eval.chord.pitch_class_to_semitone(truth["key"].split()[0])
    named = set()
    for lab in (labels[0], labels[-1]):
        root, _, bass = mir_eval.chord.encode(lab)
        named |= {root % 12, (root + bass) % 12}
    return tonic in named


def _analyze_with_pitch_from(mix: Path, other: Path) -> Any:
    """Analysis of ``mix`` with the pitch features (chords, key) of ``other``."""
    from dataclasses import replace

    from backline.audio.analyze.core import analyze_features
    from backline.audio.analyze.features import extract_features

    feat, pitched = extract_features(mix), extract_features(other)
    n = feat.pitch.shape[1]
    pitch = pitched.pitch[:, :n]
    if pitch.shape[1] < n:
        pitch = np.pad(pitch, ((0, 0), (0, n - pitch.shape[1])))
    return analyze_features(replace(feat, pitch=pitch))


def evaluate_item(item: Path, pitch_from: Path | None = None) -> dict[str, Any]:
    import mir_eval

    from backline.audio.analyze import analyze_file

    truth = json.loads((item / "truth.json").read_text())
    t0 = time.perf_counter()
    if pitch_from is None:
        a = analyze_file(item / "mix.wav")
    else:
        a = _analyze_with_pitch_from(item / "mix.wav", pitch_from / item.name / "mix.wav")
    secs = time.perf_counter() - t0
    ref_b, est_b = np.array(truth["beats"]), np.array(a.beats)
    ref_d, est_d = np.array(truth["downbeats"]), np.array(a.downbeats)
    tr = mir_eval.beat.trim_beats
    ref_int = np.array([[c["start"], c["end"]] for c in truth["chords"]])
    ref_lab = [c["label"] for c in truth["chords"]]
    est_int = np.array([[c.start, c.end] for c in a.chords])
    est_lab = [c.label for c in a.chords]
    chords = mir_eval.chord.evaluate(ref_int, ref_lab, est_int, est_lab)
    scored_s, correct_s = _majmin_seconds(ref_int, ref_lab, est_int, est_lab)
    ref_sec = np.array(truth["sections"] + [truth["duration"]])
    est_sec = np.array([s.start for s in a.sections] + [a.duration])
    seg_f = mir_eval.segment.detection(
        np.c_[ref_sec[:-1], ref_sec[1:]], np.c_[est_sec[:-1], est_sec[1:]], window=3.0, trim=True
    )[2]
    return {
        "item": item.name,
        "title": truth["title"],
        "style": truth["style"],
        "tempo_ref": truth["tempo"],
        "tempo_est": round(a.tempo, 2),
        "tempo_ok": abs(a.tempo - truth["tempo"]) <= 0.04 * truth["tempo"],
        "beat_f": mir_eval.beat.f_measure(tr(ref_b), tr(est_b)),
        "downbeat_f": mir_eval.beat.f_measure(tr(ref_d), tr(est_d)),
        "meter_ok": a.time_signature[0] == truth["time_signature"][0],
        "key_ref": truth["key"],
        "key_est": a.key,
        "key_score": mir_eval.key.weighted_score(truth["key"], a.key),
        "key_kind": _key_kind(truth["key"], a.key),
        "key_named_by_chart": key_named_by_chart(truth),
        "key_changes": len(a.keys) - 1,
        "key_in_two": any(
            mir_eval.key.weighted_score(truth["key"], k) == 1.0 for k, _ in a.key_candidates[:2]
        ),
        "majmin": chords["majmin"],
        "majmin_scored_seconds": scored_s,
        "majmin_correct_seconds": correct_s,
        "sevenths": chords["sevenths"],
        "sections_f": seg_f,
        "duration": a.duration,
        "seconds": secs,
        "confidence": a.confidence,
    }


def _majmin_seconds(
    ref_int: np.ndarray, ref_lab: list[str], est_int: np.ndarray, est_lab: list[str]
) -> tuple[float, float]:
    """(seconds mir_eval's majmin scores, seconds it finds right): the reference chords
    outside its vocabulary (power chords, suspensions) are not scored, as in
    :func:`mir_eval.chord.evaluate`."""
    import mir_eval

    est_int, est_lab = mir_eval.util.adjust_intervals(
        est_int, est_lab, ref_int.min(), ref_int.max(), mir_eval.chord.NO_CHORD, mir_eval.chord.NO_CHORD
    )
    iv, ref, est = mir_eval.util.merge_labeled_intervals(ref_int, ref_lab, est_int, est_lab)
    dur = mir_eval.util.intervals_to_durations(iv)
    cmp = mir_eval.chord.majmin(ref, est)
    return float(dur[cmp >= 0].sum()), float((dur * np.maximum(cmp, 0)).sum())


def same_song(mine: dict[str, Any], theirs: dict[str, Any], variant: int) -> bool:
    """Whether two items' truths are the same song of the same draw (an item built before
    ``variant`` was written counts as the draw asked for)."""
    keys = ("title", "key", "tempo")
    return all(theirs.get(k) == mine.get(k) for k in keys) and theirs.get("variant", variant) == mine.get(
        "variant", variant
    )


def madmom_sample() -> dict[str, Any]:
    import mir_eval

    from backline.audio.analyze import analyze_file

    wav = CORPORA / "audio" / "madmom" / "sample.wav"
    if not wav.exists():
        return {}
    a = analyze_file(wav)
    lines = [
        ln for ln in (wav.with_suffix(".tempo")).read_text().splitlines() if ln and not ln.startswith("#")
    ]
    t1, t2, w = (float(x) for x in lines[0].split())
    ref_beats = np.loadtxt(wav.with_suffix(".beats"))[:, 0]
    ok = any(abs(a.tempo - t) <= 0.04 * t for t in (t1, t2))
    p_score = (
        mir_eval.tempo.detection(np.array([t1, t2]), w, np.array([a.tempo, a.tempo * 2]), tol=0.04)[0]
        if a.tempo > 0
        else 0.0
    )
    return {
        "tempo_est": round(a.tempo, 2),
        "tempo_ref": [t1, t2],
        "tempo_ok": ok,
        "p_score": p_score,
        "beat_f": mir_eval.beat.f_measure(ref_beats, np.array(a.beats)),
        "confidence": a.confidence,
    }


def shift_speed(src: Path, out: Path) -> float:
    from backline.audio.io import probe
    from backline.audio.shift import shift_file

    info = probe(src)
    t0 = time.perf_counter()
    shift_file(src, out / "shift-bench.wav", semitones=2.0)
    return info.duration / (time.perf_counter() - t0)


def _peak_hz(x: np.ndarray, sr: int) -> float:
    """The strongest frequency of 2 s from a quarter into ``x`` (zero-padded FFT, parabolic peak)."""
    seg = x[len(x) // 4 : len(x) // 4 + 2 * sr]
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size), n=seg.size * 8))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-12)
    return float((k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / (seg.size * 8))


def shift_accuracy(sr: int = 44100) -> dict[str, float]:
    """The issue's shift checks on a 440 Hz tone (8 s): the pitch error in cents of +2 and
    -3 semitones, and the length error in percent of tempo ratios 0.9 and 1.25."""
    from backline.audio.shift import shift_audio

    tone = (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(8 * sr) / sr)).astype(np.float32)[None]
    out: dict[str, float] = {}
    for st in (2, -3):
        y = shift_audio(tone, sr, semitones=st)
        out[f"cents_{st:+d}"] = 1200 * float(np.log2(_peak_hz(y[0], sr) / (440.0 * 2 ** (st / 12))))
    for ratio in (0.9, 1.25):
        y = shift_audio(tone, sr, tempo_ratio=ratio)
        out[f"length_pct_{ratio}"] = 100 * (y.shape[1] - tone.shape[1] / ratio) / (tone.shape[1] / ratio)
    return out


_MEMORY_PROBE = """
import sys, tempfile, time
from pathlib import Path
import numpy as np
from backline.audio.analyze import analyze_array, analyze_file
from backline.audio.shift import shift_audio, shift_file

# Warm up: imports, JIT compilation and caches, on 20 s of noise with a pulse.
y = np.random.default_rng(0).standard_normal(22050 * 20).astype(np.float32) * 0.01
y[:: 11025] = 1.0
if sys.argv[2] == "shift":
    shift_audio(y[None], 22050, semitones=2.0)
else:
    analyze_array(y, 22050)

def kb(field):
    with open("/proc/self/status") as fh:
        return int(next(l for l in fh if l.startswith(field)).split()[1])

with open("/proc/self/clear_refs", "w") as fh:  # reset the peak: measure the long analysis alone
    fh.write("5")
before = kb("VmRSS:")
t = time.perf_counter()
if sys.argv[2] == "shift":
    with tempfile.TemporaryDirectory() as tmp:
        shift_file(sys.argv[1], Path(tmp) / "shifted.wav", semitones=2.0)
    from backline.audio.io import probe
    duration = probe(sys.argv[1]).duration
else:
    duration = analyze_file(sys.argv[1]).duration
print(time.perf_counter() - t, duration, before, kb("VmHWM:"))
"""


def long_file_memory(path: Path, job: str = "analyze") -> dict[str, float]:
    """Time and memory of a fresh process that analyses ``path`` (``job="shift"``: shifts
    it +2 semitones): its resident size once warmed up (imports and JIT compilation done
    on a short signal), and its peak during the job (the peak is reset after the warm-up,
    so that the transient peak of the imports does not hide the job's)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path), job], capture_output=True, text=True, check=True
    )
    secs, dur, before, peak = (float(x) for x in out.stdout.split())
    return {
        "seconds": secs,
        "duration": dur,
        "peak_rss_mb": peak / 1024,
        "baseline_rss_mb": before / 1024,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The set's measures from its per-song rows."""
    n = len(rows)
    audio_s = sum(r["duration"] for r in rows)
    kinds = {k: sum(r["key_kind"] == k for r in rows) for k in KEY_KINDS}
    named = sum(r["key_named_by_chart"] for r in rows)
    return {
        "items": n,
        "tempo_within_4pct": sum(r["tempo_ok"] for r in rows) / n,
        "beat_f_mean": float(np.mean([r["beat_f"] for r in rows])),
        "downbeat_f_mean": float(np.mean([r["downbeat_f"] for r in rows])),
        "meter_correct": sum(r["meter_ok"] for r in rows) / n,
        "key_correct": kinds["correct"] / n,
        "key_mirex_weighted": float(np.mean([r["key_score"] for r in rows])),
        "key_kinds": kinds,
        "key_named_by_chart": named,
        "key_correct_named_by_chart": sum(r["key_kind"] == "correct" for r in rows if r["key_named_by_chart"])
        / max(named, 1),
        "key_lifts": sum(r["key_changes"] > 0 for r in rows),
        "key_in_two": sum(r["key_in_two"] for r in rows) / n,
        "majmin_mean": float(np.mean([r["majmin"] for r in rows])),
        # over all the scored seconds of the set (MIREX's weighted chord symbol recall)
        "majmin_weighted": float(
            sum(r["majmin_correct_seconds"] for r in rows)
            / max(sum(r["majmin_scored_seconds"] for r in rows), 1e-9)
        ),
        "sevenths_mean": float(np.mean([r["sevenths"] for r in rows])),
        "sections_f_mean": float(np.mean([r["sections_f"] for r in rows])),
        "analysis_x_realtime": audio_s / sum(r["seconds"] for r in rows),
    }


def score_rows(s: dict[str, Any]) -> list[list[str]]:
    """The table rows of the accuracy measures of :func:`summarise`."""
    k = s["key_kinds"]
    return [
        ["tempo within 4% (rendered)", f"{s['tempo_within_4pct']:.1%}", ">= 95%"],
        ["beat F-measure (mean)", f"{s['beat_f_mean']:.3f}", ">= 0.90"],
        ["downbeat F-measure (mean)", f"{s['downbeat_f_mean']:.3f}", ""],
        ["meter correct", f"{s['meter_correct']:.1%}", ""],
        ["key correct", f"{s['key_correct']:.1%}", ">= 95%"],
        ["key MIREX weighted", f"{s['key_mirex_weighted']:.3f}", ""],
        ["key fifth / relative / parallel / other", " / ".join(str(k[x]) for x in KEY_KINDS[1:]), ""],
        [
            f"key correct where the chart's first or last chord names its key ({s['key_named_by_chart']} of {s['items']})",
            f"{s['key_correct_named_by_chart']:.1%}",
            "reported",
        ],
        ["key among the two likeliest (`key_candidates`)", f"{s['key_in_two']:.1%}", "reported"],
        ["songs heard to lift a step to the end", str(s["key_lifts"]), "reported"],
        [
            "chords majmin (mean / duration-weighted)",
            f"{s['majmin_mean']:.3f} / {s['majmin_weighted']:.3f}",
            ">= 0.85",
        ],
        ["chords sevenths (mean)", f"{s['sevenths_mean']:.3f}", "reported"],
        ["section boundaries F (3 s)", f"{s['sections_f_mean']:.3f}", "reported"],
        ["analysis speed (one core, after start-up)", f"{s['analysis_x_realtime']:.0f}x real time", ">= 20x"],
    ]


def pool(sets: list[Path]) -> None:
    """Print the measures over every song of several measured sets (a set's folder, or
    one of its results files)."""
    files = [d if d.is_file() else d / "results.json" for d in sets]
    folders = [f.parent.resolve() for f in files]
    if len(set(folders)) < len(folders):
        sys.exit("two results of the same set would count its songs twice: pool one per set")
    items = {f: json.loads(f.read_text())["items"] for f in files}
    old = [
        str(f)
        for f, rs in items.items()
        if any(k not in r for r in rs for k in ("key_named_by_chart", "key_in_two"))
    ]
    if old:
        sys.exit(f"measured by an older benchmark: {', '.join(old)}; measure these sets again")
    rows = [r for rs in items.values() for r in rs]
    s = summarise(rows)
    print(md_table(["measure", f"{s['items']} songs of {len(sets)} sets", "target"], score_rows(s)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--set", type=Path, help="default: /tmp/backline-eval, or /tmp/backline-eval-vN for a variant"
    )
    ap.add_argument("--variant", type=int, default=0, help="which draw of songs (build_eval_set.py)")
    ap.add_argument("--no-long", action="store_true", help="skip the 60-minute memory run")
    ap.add_argument(
        "--mute", action="append", default=[], help="a set rendered without this part (diagnostic)"
    )
    ap.add_argument("--pitch-from", type=Path, help="take chords and key from this set's mixes (diagnostic)")
    ap.add_argument(
        "--pool", type=Path, nargs="+", help="measured sets (or results files) to pool (no analysis is run)"
    )
    args = ap.parse_args()
    if args.pool:
        pool(args.pool)
        return
    pin_one_core()
    import build_eval_set

    mute = build_eval_set.muted(args.mute)
    args.set = args.set or build_eval_set.default_folder(args.variant, mute)
    items = build_eval_set.build(args.set, len(build_eval_set.PLAN), variant=args.variant, mute=mute)
    from backline.audio.analyze import analyze_file

    analyze_file(items[0] / "mix.wav")  # start-up: imports and JIT compilation
    if args.pitch_from is not None:
        for it in items:
            other = args.pitch_from / it.name / "truth.json"
            mine = json.loads((it / "truth.json").read_text())
            theirs = json.loads(other.read_text()) if other.exists() else {}
            if not same_song(mine, theirs, args.variant):
                sys.exit(
                    f"{args.pitch_from} does not hold the songs of {args.set}: build it with the same --variant"
                )
    rows = [evaluate_item(it, args.pitch_from) for it in items]
    mm = madmom_sample()
    n = len(rows)
    audio_s = sum(r["duration"] for r in rows)
    summary = summarise(rows)
    summary["madmom"] = mm
    summary["pitch_from"] = str(args.pitch_from) if args.pitch_from is not None else None
    summary["shift_x_realtime"] = shift_speed(items[0] / "mix.wav", args.set)
    summary["shift_accuracy"] = shift_accuracy()
    if not args.no_long:
        long = build_eval_set.build_long(args.set)
        summary["long"] = long_file_memory(long)
        summary["long_shift"] = long_file_memory(long, "shift")
    print(
        md_table(
            [
                "item",
                "tempo ref/est",
                "beat F",
                "downbeat F",
                "key ref -> est",
                "majmin",
                "sevenths",
                "sections F",
            ],
            [
                [
                    r["item"],
                    f"{r['tempo_ref']:g}/{r['tempo_est']:g}{'' if r['tempo_ok'] else ' x'}",
                    f"{r['beat_f']:.3f}",
                    f"{r['downbeat_f']:.3f}",
                    f"{r['key_ref']} -> {r['key_est']} ({r['key_kind']})",
                    f"{r['majmin']:.3f}",
                    f"{r['sevenths']:.3f}",
                    f"{r['sections_f']:.2f}",
                ]
                for r in rows
            ],
        )
    )
    print()
    srows = score_rows(summary)
    srows[1:1] = [
        [
            "tempo within 4% (madmom sample.wav)",
            f"{mm.get('tempo_est')} vs {mm.get('tempo_ref')}: {mm.get('tempo_ok')}",
            "yes",
        ],
        ["madmom beat F / tempo P-score", f"{mm.get('beat_f', 0):.3f} / {mm.get('p_score', 0):.2f}", ""],
    ]
    srows += [
        ["shift speed (+2 st, one core)", f"{summary['shift_x_realtime']:.1f}x real time", ">= 8x"],
        [
            "shift accuracy on a 440 Hz tone: +2 / -3 semitones",
            f"{summary['shift_accuracy']['cents_+2']:+.2f} / {summary['shift_accuracy']['cents_-3']:+.2f} cents",
            "within 5 cents",
        ],
        [
            "tempo change length error: x0.9 / x1.25",
            f"{summary['shift_accuracy']['length_pct_0.9']:+.4f}% / {summary['shift_accuracy']['length_pct_1.25']:+.4f}%",
            "within 0.1%",
        ],
    ]
    if "long" in summary:
        lg = summary["long"]
        srows.append(
            [
                f"60-minute file ({lg['duration'] / 60:.0f} min)",
                f"{lg['seconds']:.0f} s, peak RSS {lg['peak_rss_mb']:.0f} MB during the analysis ({lg['baseline_rss_mb']:.0f} MB before it, warmed up)",
                "bounded",
            ]
        )
        ls = summary["long_shift"]
        srows.append(
            [
                f"60-minute file shifted +2 semitones ({ls['duration'] / 60:.0f} min, one process)",
                f"{ls['seconds']:.0f} s ({ls['duration'] / ls['seconds']:.1f}x), peak RSS {ls['peak_rss_mb']:.0f} MB ({ls['baseline_rss_mb']:.0f} MB before it, warmed up)",
                "bounded",
            ]
        )
    print(md_table(["measure", "result", "target"], srows))
    print(
        f"\n{n} rendered songs, {audio_s / 60:.1f} minutes of audio; peak RSS here {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    name = "results.json" if args.pitch_from is None else f"results-pitch-from-{args.pitch_from.name}.json"
    (args.set / name).write_text(json.dumps({"summary": summary, "items": rows}, indent=1, default=float))


if __name__ == "__main__":
    main()
