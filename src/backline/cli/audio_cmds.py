"""``backline audio ...``: work on audio the user already has."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from backline.cli.common import console, handle_errors
from backline.errors import AudioInputError

__all__ = ["audio_app", "register"]

audio_app = typer.Typer(
    help="Work on audio you already have: shift, check, analyze, click, transcribe.", no_args_is_help=True
)


@audio_app.command("shift")
@handle_errors
def shift_cmd(
    src: Annotated[Path, typer.Argument(help="An audio file (WAV, FLAC, MP3, OGG) or a folder of stems.")],
    out: Annotated[
        Path, typer.Option("-o", "--output", help="Output file (format from the extension) or folder.")
    ],
    semitones: Annotated[
        float, typer.Option("--semitones", help="Pitch shift in semitones (duration kept).")
    ] = 0.0,
    tempo: Annotated[
        float | None, typer.Option("--tempo", help="Tempo ratio: 1.1 = 10% faster (pitch kept).")
    ] = None,
    bpm: Annotated[
        float | None, typer.Option("--bpm", help="Target tempo in BPM (the source tempo is detected).")
    ] = None,
    bit_depth: Annotated[str, typer.Option("--bit-depth", help="16, 24 or float (WAV/FLAC).")] = "24",
) -> None:
    """Change key and tempo with Rubber Band (high quality). Click and cue stems keep their pitch."""
    from backline.audio.shift import shift_file, shift_folder

    if tempo is not None and bpm is not None:
        raise AudioInputError("give --tempo or --bpm, not both")
    ratio = 1.0 if tempo is None else tempo
    if bpm is not None:
        ratio = bpm / _detect_tempo(src)
    if ratio <= 0 or ratio > 4 or ratio < 0.25:
        raise AudioInputError(f"tempo ratio {ratio:.3f} is outside 0.25..4")
    depth: int | str = "float" if bit_depth == "float" else int(bit_depth)
    if src.is_dir():
        res = shift_folder(src, out, semitones=semitones, tempo_ratio=ratio, bit_depth=depth)
        console.print(f"shifted {len(res.outputs)} stems into {out} (tempo x{ratio:.4f}, {semitones:+g} st)")
        for p in res.pitch_kept:
            console.print(f"  {p.name}: click/cue stem, time-stretched only")
    else:
        shift_file(src, out, semitones=semitones, tempo_ratio=ratio, bit_depth=depth)
        console.print(f"wrote {out} (tempo x{ratio:.4f}, {semitones:+g} st)")


def _detect_tempo(src: Path) -> float:
    try:
        from backline.audio.analyze import estimate_tempo  # type: ignore[attr-defined]
    except ImportError:
        raise AudioInputError(
            "--bpm needs tempo analysis (pip install 'backline[analysis]'); use --tempo RATIO"
        ) from None
    first = (
        src
        if src.is_file()
        else next(p for p in sorted(src.iterdir()) if p.suffix.lower() in (".wav", ".flac", ".mp3", ".ogg"))
    )
    return float(estimate_tempo(first))


@audio_app.command("check")
@handle_errors
def check_cmd(
    src: Annotated[Path, typer.Argument(help="An audio file.")],
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when the file would distort.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Loudness (LUFS, LRA), true peak, clipping, DC offset and mono compatibility, in plain words."""
    from backline.audio.check import check_audio

    r = check_audio(src)
    if as_json:
        typer.echo(json.dumps(r.as_json()))
    else:
        t = Table(show_header=False)
        t.add_row("file", str(src))
        t.add_row("duration", f"{r.duration:.2f} s, {r.sample_rate} Hz, {r.channels} ch")
        t.add_row("integrated", f"{r.integrated_lufs:.1f} LUFS")
        t.add_row("loudness range", f"{r.loudness_range_lu:.1f} LU")
        t.add_row("true peak", f"{r.true_peak_dbtp:+.2f} dBTP (sample peak {r.sample_peak_dbfs:+.2f} dBFS)")
        t.add_row("clipped samples", str(r.clipped_samples))
        t.add_row("DC offset", ", ".join(f"{d:+.5f}" for d in r.dc_offset))
        if r.correlation is not None:
            t.add_row("stereo correlation", f"{r.correlation:+.2f}")
        console.print(t)
        for w in r.warnings:
            console.print(f"[yellow]warning:[/] {w}")
        if not r.warnings:
            console.print("[green]no problems found[/]")
    if strict and r.would_distort:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audio_app, name="audio")
