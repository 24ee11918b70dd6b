"""``backline audio ...``: work on audio the user already has."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from backline.cli.common import console, err_console, handle_errors, say
from backline.errors import AudioInputError

if TYPE_CHECKING:
    from backline.audio.analyze.core import Analysis
    from backline.audio.shift import ShiftProgress, ShiftResult

__all__ = ["audio_app", "register"]

audio_app = typer.Typer(
    help="Work on audio you already have: shift, check, analyze, click, transcribe.", no_args_is_help=True
)

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]

#: Outputs that hold 32-bit float samples (``--bit-depth float``).
FLOAT_EXTENSIONS = (".wav", ".aif", ".aiff")


# --------------------------------------------------------------------------- progress
# Progress goes to stderr, only when stderr is a terminal (never into a pipe or a log, and
# never onto stdout, which carries the results), and is transient: it is gone when the
# command prints its results. Rich redraws it a few times a second from its own thread.


def _shows_progress(quiet: bool = False) -> bool:
    return not quiet and err_console.is_terminal


def _clock(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _progress(*columns: Any) -> Any:
    """A transient rich Progress on stderr (stdout left alone), redrawn 5 times a second."""
    from rich.progress import Progress

    return Progress(
        *columns, console=err_console, transient=True, redirect_stdout=False, refresh_per_second=5
    )


@contextlib.contextmanager
def _spinner(text: str, show: bool) -> Iterator[None]:
    """A transient spinner with ``text`` and the time elapsed on stderr while the block runs."""
    if not show:
        yield
        return
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    with _progress(
        SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn()
    ) as bar:
        bar.add_task(text, total=None)
        yield


@contextlib.contextmanager
def _shift_bar(label: str, show: bool) -> Iterator[ShiftProgress | None]:
    """A transient bar on stderr (as ``render`` shows one) fed by the shift's progress
    callback: seconds of audio done of the total; ``None`` (no callback) when not shown."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

    with _progress(
        TextColumn("{task.description:<24}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.fields[audio]}", markup=False),
        TimeElapsedColumn(),
    ) as bar:
        task = bar.add_task(label, total=None, audio="")

        def progress(done: float, total: float) -> None:
            bar.update(task, completed=done, total=total, audio=f"{_clock(done)} / {_clock(total)}")

        yield progress


@audio_app.command("shift")
@handle_errors
def shift_cmd(
    src: Annotated[
        Path, typer.Argument(help="An audio file (WAV, FLAC, MP3, OGG, AIFF) or a folder of stems.")
    ],
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
    a4: Annotated[
        float | None,
        typer.Option("--a4", help="Retune to this concert pitch in Hz, e.g. 440 (the source's is measured)."),
    ] = None,
    bit_depth: Annotated[
        str,
        typer.Option(
            "--bit-depth",
            help="16, 24 or float (32-bit float: WAV and AIFF only; FLAC holds 16 or 24; "
            "MP3 and OGG have none).",
        ),
    ] = "24",
    headroom: Annotated[
        bool,
        typer.Option(
            "--headroom/--no-headroom",
            help="Keep the source's headroom (the default): when the shift raises the peaks "
            "above the source's peak (or -1 dBFS for a quieter source) or full scale, turn the "
            "whole output down just enough (all stems by one gain; MP3/OGG 1 dB more, for the "
            "encoder). --no-headroom writes Rubber Band's raw level, which may clip.",
        ),
    ] = True,
    quiet: QuietOption = False,
) -> None:
    """Change key and tempo with Rubber Band (high quality). Click and cue stems keep their
    pitch. Peaks stay under the source's (or -1 dBFS for a quieter source): the output is
    turned down instead."""
    from backline.audio.shift import check_shift, shift_file_report, shift_folder, stem_files
    from backline.audio.source import SourceMeasures

    # everything that can be checked without reading the audio is checked first
    if tempo is not None and bpm is not None:
        raise AudioInputError("give --tempo or --bpm, not both")
    depth = _bit_depth(bit_depth, out, src.is_dir())
    check_shift(semitones, 1.0 if tempo is None else tempo)
    if bpm is not None and (not math.isfinite(bpm) or not 20.0 <= bpm <= 400.0):
        raise AudioInputError(f"--bpm {bpm:g} is not a tempo (20-400 BPM)")
    if a4 is not None and (not math.isfinite(a4) or not 380.0 <= a4 <= 500.0):
        raise AudioInputError(f"--a4 {a4:g} Hz is not a concert pitch (380-500 Hz, usually 440)")
    if not src.exists():
        raise AudioInputError(f"{src}: no such file or folder")
    show = _shows_progress(quiet)
    measures = SourceMeasures(src)
    if a4 is not None:
        with _spinner(f"measuring the tuning of {src.name}", show):
            source_a4 = measures.a4()
        retune = 12 * math.log2(a4 / source_a4)
        console.print(f"source tuned to A4 = {source_a4:.1f} Hz: {retune * 100:+.0f} cents to A4 = {a4:g} Hz")
        semitones += retune
    ratio = 1.0 if tempo is None else tempo
    if bpm is not None:
        with _spinner(f"measuring the tempo of {src.name}", show):
            source_bpm, source_name = measures.tempo()
        console.print(
            f"source tempo {source_bpm:.1f} BPM (from {source_name}) -> {bpm:g} BPM", highlight=False
        )
        ratio = bpm / source_bpm
    if not 0.25 <= ratio <= 4:
        raise AudioInputError(f"tempo ratio {ratio:.3f} is outside 0.25..4")
    check_shift(semitones, ratio)
    folder = src.is_dir()
    if folder:
        count = len(stem_files(src))
        label = f"shifting {count} stem{'' if count == 1 else 's'}"
    else:
        label = f"shifting {src.name}"
    shift = shift_folder if folder else shift_file_report
    with _shift_bar(label, show) as progress:
        res = shift(
            src,
            out,
            semitones=semitones,
            tempo_ratio=ratio,
            bit_depth=depth,
            progress=progress,
            headroom=headroom,
        )
    changes = f"(tempo x{ratio:.4f}, {round(semitones, 2):+g} st)"
    if folder:
        console.print(f"shifted {len(res.outputs)} stems into {out} {changes}")
        for p in res.pitch_kept:
            console.print(f"  {p.name}: click/cue stem, time-stretched only")
    else:
        console.print(f"wrote {out} {changes}")
    if res.gain_db < -0.05:  # less is a float hair over full scale: not worth a line
        console.print(_level_text(res, folder=folder), highlight=False)
    for w in res.warnings:
        say(err_console, w, "warning:", "yellow")
    if res.clipped:
        say(
            err_console,
            f"output peaks at {res.peak_dbfs:+.1f} dBFS; {res.clipped} samples clipped at full scale "
            f"({'leave out --no-headroom, or ' if not headroom else ''}write --bit-depth float)",
            "warning:",
            "yellow",
        )


def _level_text(res: ShiftResult, *, folder: bool) -> str:
    """What the headroom gain did, in a line: "turned down 1.4 dB to keep the source's
    -1.0 dBFS peak (the shift raised it to +0.4 dBFS)"; a folder names the stem that set
    the common gain."""
    from backline.audio.shift import HEADROOM_FLOOR_DBFS, LOSSY_MARGIN_DB

    src, by = res.source_peak_dbfs, res.level_set_by
    raised = res.ceiling_dbfs - res.gain_db  # that output's peak before the gain
    codec = by is not None and by.suffix.lower() in (".mp3", ".ogg")
    level = res.ceiling_dbfs + (LOSSY_MARGIN_DB if codec else 0.0)  # before the encoder's margin
    peaks = f"{by.name}'s peaks" if folder and by is not None else "the peaks"
    notes = [f"the source peaks at {src:+.1f} dBFS"]
    if abs(level - src) < 0.005:
        limit, notes = f"{'its' if folder else 'the'} source's {src:+.1f} dBFS peak", []
    elif abs(level - HEADROOM_FLOOR_DBFS) < 0.005:
        limit = f"{level:+.1f} dBFS"
    else:
        limit = "full scale"
    if codec and by is not None:
        keep = f"{peaks} {LOSSY_MARGIN_DB:g} dB under {limit}"
        notes.append(f"room for the {by.suffix[1:].upper()} encoder's overshoot")
    elif not notes and not folder:
        keep = limit
    else:
        keep = f"{peaks} under {limit}"
    verb = "raised" if raised > src + 0.005 else "took"
    notes.append(f"the shift {verb} {'them' if folder or notes else 'it'} to {raised:+.1f} dBFS")
    what = f"turned down {-res.gain_db:.1f} dB"
    if folder:
        what = f"turned all stems down {-res.gain_db:.1f} dB together (their balance kept)"
    return f"{what} to keep {keep} ({'; '.join(notes)})"


def _bit_depth(text: str, out: Path, folder: bool) -> int | str:
    """``--bit-depth``: 16, 24 or float; checked against the output format before any work."""
    value = text.strip().lower()
    if value not in ("16", "24", "float"):
        raise AudioInputError(f"--bit-depth {text!r}: use 16, 24 or float")
    depth: int | str = "float" if value == "float" else int(value)
    if not folder:
        from backline.audio.io import AUDIO_EXTENSIONS

        ext = out.suffix.lower()
        if ext not in AUDIO_EXTENSIONS:
            raise AudioInputError(f"{out}: the output must end in one of {', '.join(AUDIO_EXTENSIONS)}")
        if depth == "float" and ext not in FLOAT_EXTENSIONS:
            raise AudioInputError(
                f"--bit-depth float needs a .wav or .aiff output, not {ext} "
                "(FLAC holds 16 or 24 bits; MP3 and OGG have no bit depth)"
            )
    return depth


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
        typer.echo(json.dumps(r.as_json(), allow_nan=False))
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
            say(console, w, "warning:", "yellow")
        if not r.warnings:
            console.print("[green]no problems found[/]", markup=True)
    if strict and r.would_distort:
        raise typer.Exit(1)


@audio_app.command("analyze")
@handle_errors
def analyze_cmd(
    src: Annotated[Path, typer.Argument(help="An audio file (WAV, FLAC, MP3, OGG, AIFF).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON.")] = False,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also write a chart (sections, bars, chords) here.")
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Tempo, beats, downbeats, meter, key, chords on the beat and sections of a recording."""
    from backline.audio.analyze import analysis_to_song, analyze_file

    _refuse_overwrite(src, chart)
    show = _shows_progress(quiet or as_json)  # --json: nothing but the JSON
    with _spinner(f"analysing {src.name}{_length(src) if show else ''}", show):
        a = analyze_file(src)
    if chart is not None:
        from backline.formats import save_song

        save_song(analysis_to_song(a, title=src.stem), chart)
    if as_json:
        typer.echo(json.dumps(a.as_json()))
    else:
        t = Table(show_header=False)
        t.add_row("file", str(src))
        t.add_row("duration", f"{a.duration:.2f} s")
        t.add_row("tempo", f"{a.tempo:.1f} BPM" + (" (drifts)" if a.tempo_curve else ""))
        t.add_row("time signature", f"{a.time_signature[0]}/{a.time_signature[1]}")
        t.add_row("key", _key_text(a))
        t.add_row("tuning", f"A4 = {a.a4_hz:.1f} Hz ({a.tuning_cents:+.0f} cents)")
        t.add_row("beats / bars", f"{len(a.beats)} / {len(a.downbeats)}")
        t.add_row("sections", " ".join(f"{s.label}@{s.start:.1f}s" for s in a.sections))
        t.add_row("confidence", f"{a.confidence:.2f}")
        console.print(t)
        line = " ".join(c.label for c in a.chords[:32])
        console.print(f"chords: {line}{' ...' if len(a.chords) > 32 else ''}", highlight=False)
        if chart is not None:
            console.print(f"wrote {chart}")
    for w in a.warnings:
        say(err_console, w, "warning:", "yellow")


#: The analysis table names a second key as likely as this, or likelier.
KEY_ALTERNATIVE_SHOWN = 0.15


def _key_text(a: Analysis) -> str:
    """The key row: the home key, a close second ("or F major, 40%") and any lift."""
    text = a.key
    if len(a.key_candidates) > 1 and a.key_candidates[1][1] >= KEY_ALTERNATIVE_SHOWN:
        first, (second, p) = a.key_candidates[0][1], a.key_candidates[1]
        text += f" ({first:.0%}; or {second}, {p:.0%})"
    return text + "".join(f", then {k.label} from {k.start:.1f} s" for k in a.keys[1:])


def _length(src: Path) -> str:
    """`` (3:20)``, the length of an audio file, or nothing when it cannot be read (the
    analysis then says why)."""
    from backline.audio.io import probe
    from backline.errors import BacklineError

    try:
        info = probe(src)
    except BacklineError:
        return ""
    return f" ({_clock(info.frames / info.sample_rate)})"


def _refuse_overwrite(src: Path, out: Path | None) -> None:
    from backline.util.atomic import same_file

    if out is not None and same_file(out, src):
        raise AudioInputError(f"{out} is the input file: choose another output")


@audio_app.command("click")
@handle_errors
def click_cmd(
    src: Annotated[Path, typer.Argument(help="An audio file.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="Output folder.")],
    count_in: Annotated[
        int, typer.Option("--count-in", help="Bars of count-in before the first downbeat.")
    ] = 0,
    split: Annotated[
        bool, typer.Option("--split", help="Also write split.wav: left click, right original.")
    ] = False,
    cues: Annotated[
        bool, typer.Option("--cues", help="Spoken count-in and section cues (espeak-ng).")
    ] = False,
    sound: Annotated[str, typer.Option("--sound", help="classic, wood, beep, cowbell or rim.")] = "classic",
) -> None:
    """A click stem locked to the beats of a recording (accented downbeats, optional count-in)."""
    from backline.audio.click import click_for_audio
    from backline.model.checks import MAX_COUNT_IN_BARS
    from backline.render.click import CLICK_SOUNDS

    if sound not in CLICK_SOUNDS:
        raise AudioInputError(f"unknown --sound {sound!r}; choose one of {', '.join(CLICK_SOUNDS)}")
    if not 0 <= count_in <= MAX_COUNT_IN_BARS:
        raise AudioInputError(f"--count-in must be 0 to {MAX_COUNT_IN_BARS} bars, not {count_in}")
    res = click_for_audio(src, out, count_in_bars=count_in, split=split, cues=cues, sound=sound)
    console.print(f"wrote {', '.join(res.files.values())} and click.json into {out}")
    console.print(f"tempo {res.tempo:.1f} BPM, {res.beats} beats, {res.downbeats} bars")
    if res.offset_seconds > 0:
        console.print(f"the original starts {res.offset_seconds:.3f} s into these files (count-in)")
    for w in res.warnings:
        say(err_console, w, "warning:", "yellow")


@audio_app.command("transcribe")
@handle_errors
def transcribe_cmd(
    src: Annotated[Path, typer.Argument(help="An audio file with a sung or played melody.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="The MIDI file to write (.mid).")],
) -> None:
    """Melody to MIDI notes (basic-pitch on onnxruntime)."""
    from backline.audio.transcribe import transcribe_file, write_midi

    _refuse_overwrite(src, out)
    if out.suffix.lower() not in (".mid", ".midi"):
        raise AudioInputError(f"{out}: the output must be a .mid file")
    notes = transcribe_file(src)
    write_midi(notes, out)
    console.print(f"wrote {out}: {len(notes)} notes")


def register(app: typer.Typer) -> None:
    app.add_typer(audio_app, name="audio")
