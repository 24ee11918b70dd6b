"""Benchmark: the full render output set for a 3-minute five-part song, on one core.

Renders mix, every stem, click, cues, split track, multichannel WAV and MIDI for a
three-minute pop arrangement (five parts), pinned to CPU 0, and reports:

- real-time factor (song seconds / CPU seconds of the render; target >= 15x);
- peak memory of the process (``ru_maxrss``; target < 1 GB);
- the floor: ``fluidsynth -ni -F`` rendering the same MIDI alone (reverb/chorus off);
- the cost of the realistic default sounds (MuseScore General + AVL drums) against
  FluidR3_GM for every part;
- CPU seconds per stage (synth, mixer, master, click_cues, write) from ``render.json``.

Run:  ``.venv/bin/python benchmarks/bench_render.py [--repeat 3] [--json out.json]``
Each run is a fresh process, so memory figures do not mix. On a shared machine CPU
time grows with the load (a virtual CPU's stolen time is counted as the process's),
so each configuration and each floor runs ``--repeat`` times and the fastest run is
reported, with every run's CPU seconds and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
BARS = 96  # 96 bars of 4/4 at 128 bpm = 180 s


def chart_text() -> str:
    """A 3-minute pop chart: verse / chorus / bridge blocks of 8 bars."""
    verse = "| C | Am | F | G |\n| C | Am | Dm | G |\n"
    chorus = "| F | G | Em | Am |\n| F | G | C | C |\n"
    bridge = "| Dm | Em | F | G |\n| Am | F | Dm | G |\n"
    body = ""
    order = ["Verse", "Chorus", "Verse", "Chorus", "Bridge", "Chorus"] * 2
    for name in order:
        body += f"[{name}]\n" + {"Verse": verse, "Chorus": chorus, "Bridge": bridge}[name]
    return f"title: Bench Song\nkey: C\ntempo: 128\ntime: 4/4\nstyle: pop\n\n{body}"


def _arrangement():  # type: ignore[no-untyped-def]
    from backline.arrange.engine import arrange
    from backline.formats import loads_songs

    song = loads_songs(chart_text().encode(), "bench.chart", ".chart")[0]
    return arrange(song, "pop", seed=1, intro=False, ending=False)


def child(mode: str, outdir: str) -> dict[str, object]:
    """One measured render in this (fresh) process."""
    os.sched_setaffinity(0, {0})
    from backline.render.pipeline import RenderOptions, render_arrangement

    arr = _arrangement()
    opts = RenderOptions(
        stems=True,
        split=True,
        multichannel=True,
        soundfont=FLUIDR3 if mode == "fluidr3" else None,
    )
    c0, w0 = time.process_time(), time.perf_counter()
    rep = render_arrangement(arr, outdir, opts)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    song_s = arr.duration_seconds
    return {
        "mode": mode,
        "parts": [p.name for p in arr.parts],
        "notes": sum(len(p.notes) for p in arr.parts),
        "song_seconds": round(song_s, 2),
        "audio_seconds": round(rep.duration_seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "realtime_factor_cpu": round(song_s / cpu, 1),
        "realtime_factor_wall": round(song_s / wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "integrated_lufs": round(rep.master.integrated_lufs, 2),
        "true_peak_dbtp": round(rep.master.true_peak_dbtp, 2),
        "stage_cpu_seconds": json.loads((Path(outdir) / "render.json").read_text())["stage_cpu_seconds"],
        "files": sorted(str(p.relative_to(outdir)) for p in Path(outdir).rglob("*") if p.is_file()),
    }


def _num(v: object) -> float:
    assert isinstance(v, (int, float, str)), v
    return float(v)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def floor(midi: Path, font: str) -> dict[str, object]:
    """``fluidsynth -F`` rendering the MIDI alone, pinned to CPU 0."""
    out = midi.with_suffix(".floor.wav")
    cmd = ["taskset", "-c", "0", "fluidsynth", "-ni", "-R", "0", "-C", "0", "-g", "0.5", "-r", "44100"]
    cmd += ["-F", str(out), font, str(midi)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - w0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"font": Path(font).name, "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2)}


def _table(r: dict[str, object]) -> str:
    """A markdown summary: one row per configuration, stage CPU seconds included."""
    lines = [
        "| config | CPU s | real-time | peak MB | fluidsynth -F CPU s (x real time) | ratio | "
        "synth | mixer | master | click+cues | write |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    floors = r["fluidsynth_floor"]
    ratios = r["ratio_vs_floor"]
    assert isinstance(floors, list) and isinstance(ratios, dict)
    for mode, fl, ratio in zip(("default", "fluidr3"), floors, ratios.values(), strict=True):
        d = r[mode]
        assert isinstance(d, dict)
        st = d["stage_cpu_seconds"]
        stages = " | ".join(
            f"{st.get(k, 0):.2f}" for k in ("synth", "mixer", "master", "click_cues", "write")
        )
        lines.append(
            f"| {mode} | {d['cpu_seconds']} | {d['realtime_factor_cpu']}x | {d['peak_rss_mb']} | "
            f"{fl['cpu_seconds']} ({fl['realtime_factor']}x) | {ratio} | {stages} |"
        )
    lines.append(f"load average: {r['load_average_before']} before, {r.get('load_average_after')} after")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (fastest kept)")
    ap.add_argument("--child", choices=["default", "fluidr3"])
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.out)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-render-"))
    results: dict[str, object] = {"load_average_before": _load()}
    reps = max(1, args.repeat)
    try:
        for mode in ("default", "fluidr3"):
            runs = []
            for i in range(reps):
                out = tmp / f"{mode}{i}"
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", mode, "--out", str(out)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            best = min(runs, key=lambda r: float(r["cpu_seconds"]))
            best["cpu_seconds_all_runs"] = [r["cpu_seconds"] for r in runs]
            best["peak_rss_mb"] = max(float(r["peak_rss_mb"]) for r in runs)
            results[mode] = best
        midi = tmp / "default0" / "song.mid"
        from backline.render.soundfonts import gm_soundfont

        floors = []
        for font in (str(gm_soundfont()), FLUIDR3):
            tries = [floor(midi, font) for _ in range(reps)]
            fbest = min(tries, key=lambda r: _num(r["cpu_seconds"]))
            fbest["cpu_seconds_all_runs"] = [t["cpu_seconds"] for t in tries]
            floors.append(fbest)
        results["fluidsynth_floor"] = floors
        d, f = results["default"], results["fluidr3"]
        assert isinstance(d, dict) and isinstance(f, dict)
        song_s = _num(d["song_seconds"])
        for fl in floors:
            fl["realtime_factor"] = round(song_s / _num(fl["cpu_seconds"]), 1)
        results["ratio_vs_floor"] = {
            "default_vs_fluidsynth_default_font": round(
                _num(d["cpu_seconds"]) / _num(floors[0]["cpu_seconds"]), 2
            ),
            "fluidr3_vs_fluidsynth_fluidr3": round(
                _num(f["cpu_seconds"]) / _num(floors[1]["cpu_seconds"]), 2
            ),
        }
        results["realistic_sounds_cost"] = round(_num(d["cpu_seconds"]) / _num(f["cpu_seconds"]), 2)
        results["load_average_after"] = _load()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(_table(results))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
