"""Render commands: ``render`` (a chart to audio files) and ``demo``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from backline.cli.checks import EndingOption, IntroOption, check_key_option, intro_ending
from backline.cli.common import console, handle_errors, parse_song_selector, say, warn_song
from backline.errors import RenderError, RenderOptionError

if TYPE_CHECKING:
    from backline.arrange.events import Arrangement
    from backline.model.song import Song
    from backline.render.pipeline import RenderOptions, RenderReport

__all__ = [
    "MAX_LOOP_TIMES",
    "MIX_FILE_SUFFIXES",
    "register",
    "parse_assignments",
    "parse_loop",
    "parse_ramp",
    "render_mix_file",
    "render_song",
]

#: ``render -o`` names one file, the mix alone, when it ends in one of these
MIX_FILE_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


def parse_assignments(items: list[str], what: str) -> dict[str, str]:
    """``["bass=33", "piano=1"]`` -> ``{"bass": "33", "piano": "1"}``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise RenderOptionError(f"{what} must look like PART=VALUE, not {item!r}")
        out[name.strip()] = value.strip()
    return out


#: how many times ``--loop SECTION:N`` may play a section
MAX_LOOP_TIMES = 64


def parse_loop(text: str) -> tuple[str | int, int]:
    """``"Chorus:3"`` -> ``("Chorus", 3)``; ``"2:3"`` -> ``(2, 3)``: a section label or
    number (1-based, as :func:`backline.render.practice.find_section` takes it), times
    (1 to :data:`MAX_LOOP_TIMES`)."""
    label, sep, times = text.rpartition(":")
    if not sep or not label or not times.strip().isdigit() or int(times) < 1:
        raise RenderOptionError(
            f"--loop must look like SECTION:N with N at least 1 (e.g. Chorus:4 or 2:4), not {text!r}"
        )
    if int(times) > MAX_LOOP_TIMES:
        raise RenderOptionError(
            f"--loop {text}: a section can be played at most {MAX_LOOP_TIMES} times, not {int(times)}"
        )
    return (int(label) if label.isdigit() else label), int(times)


def parse_ramp(text: str) -> tuple[float, float]:
    """``"70%:10%"`` or ``"70:10"`` -> ``(70.0, 10.0)``."""
    start, sep, step = text.partition(":")
    try:
        a, b = float(start.strip().rstrip("%")), float(step.strip().rstrip("%"))
    except ValueError:
        a = b = float("nan")
    if not sep or not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b < 0:
        raise RenderOptionError(f"--ramp must look like START%:STEP% (e.g. 70%:10%), not {text!r}")
    return a, b


def _practice(song: Song, loop: str | None, ramp: str | None) -> Song:
    """``--loop`` and ``--ramp`` applied: a ramp without ``--loop`` runs until 100 %."""
    if loop is None and ramp is None:
        return song
    from backline.render import practice

    if ramp is not None:
        start, step = parse_ramp(ramp)
        if loop is None:
            return practice.tempo_ramp(song, start, step)
        section, times = parse_loop(loop)
        return practice.tempo_ramp(song, start, step, times, section=section)
    assert loop is not None
    section, times = parse_loop(loop)
    return practice.loop_section(song, section, times)


def _resolve_parts(arr: Arrangement, names: list[str], what: str) -> tuple[str, ...]:
    have = {p.name.casefold(): p.name for p in arr.parts}
    out = []
    for raw in names:
        for n in raw.split(","):
            n = n.strip()
            if not n:
                continue
            if n.casefold() not in have:
                raise RenderOptionError(
                    f"cannot {what} {n!r}: no such part; the parts are {', '.join(p.name for p in arr.parts)}"
                )
            out.append(have[n.casefold()])
    return tuple(out)


def render_song(
    arr: Arrangement,
    outdir: Path,
    options: RenderOptions,
    *,
    quiet: bool = False,
    protect: tuple[Path, ...] = (),
) -> RenderReport:
    """Render with a rich progress bar (none when ``quiet``) and return the report;
    ``protect``: the input files, never written over or removed."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from backline.render.pipeline import render_arrangement

    if quiet:
        return render_arrangement(arr, outdir, options, protect=protect)
    with Progress(
        TextColumn("{task.description:<24}", style="bold", markup=False),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def progress(label: str, fraction: float) -> None:
            bar.update(task, description=label, completed=fraction)

        return render_arrangement(arr, outdir, options, progress, protect=protect)


def render_mix_file(
    arr: Arrangement,
    out: Path,
    options: RenderOptions,
    *,
    quiet: bool = False,
    protect: tuple[Path, ...] = (),
) -> RenderReport:
    """Render ``arr`` and write its mastered mix alone to the file ``out`` (format from
    ``options``), whole or not at all: the render goes to a hidden folder beside ``out``
    and the mix is renamed into place. An existing file is replaced; an input file
    (``protect``) or a folder is refused (:class:`~backline.errors.OutputError`)."""
    import os
    import tempfile

    from backline.errors import OutputError
    from backline.util.atomic import write_failed

    if out.is_dir():
        raise OutputError(
            f"{out} is a folder: name a file for the mix, or leave the extension off for a folder"
        )
    if any(out.resolve() == Path(p).resolve() for p in protect):
        raise OutputError(f"{out} is the input file: it is never written over")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{out.name}.backline-", dir=out.parent) as tmp:
            report = render_song(arr, Path(tmp), options, quiet=quiet, protect=protect)
            os.replace(Path(tmp) / str(report.files["mix"]), out)
    except OSError as exc:
        raise write_failed(out, exc) from exc
    return report


def _mix_file_options(out: Path, options: dict[str, Any], fmt: str | None, given_count_in: bool) -> None:
    """``render -o song.wav``: the mix alone, in the format its extension names (no click,
    cues or MIDI beside it; no count-in unless ``--count-in`` asks: without a click it
    would be a silent bar). Refuses what needs a folder, and a ``--format`` the extension
    contradicts."""
    wants = [f"--{k}" for k in ("stems", "split", "multichannel") if options.get(k)]
    if wants:
        raise RenderOptionError(
            f"-o {out} names one file, the mix alone; {' and '.join(wants)} {'write' if len(wants) > 1 else 'writes'} several files: "
            f"give a folder (e.g. -o {out.with_suffix('')})"
        )
    ext = out.suffix.lower().lstrip(".")
    if fmt is not None and fmt.lower() != ext:
        raise RenderOptionError(f"--format {fmt} but -o {out} names a .{ext} file: give one of them")
    options.update(fmt=ext, click=False, cues=False, midi=False)
    if not given_count_in:
        options["count_in_bars"] = 0


def _summary(report: RenderReport, outdir: Path, *, files: bool = True) -> None:
    """What was rendered: its loudness, and (``files``) the files of the render folder."""
    data = report.as_json()
    say(console, f"{outdir} in {report.seconds_taken:.1f} s ({report.backend})", "rendered", "bold green")
    lufs, lra, tp = data["integrated_lufs"], data["loudness_range_lu"], data["true_peak_dbtp"]
    target = data.get("lufs_target")
    aim = f" (target {target:g})" if isinstance(target, int | float) else ""
    console.print(
        f"  {report.duration_seconds:.1f} s at {report.sample_rate} Hz, {lufs} LUFS{aim}, LRA {lra} LU, "
        f"true peak {tp} dBTP, chart starts at {report.chart_start_seconds:.3f} s"
    )
    for key, value in report.files.items() if files else ():
        if isinstance(value, dict) and "file" in value:
            console.print(f"  {key}: {value['file']} ({', '.join(value['channels'])})")
        elif isinstance(value, dict):
            console.print(f"  {key}: {', '.join(value.values())}")
        else:
            console.print(f"  {key}: {value}")
    for w in report.warnings:
        say(console, w, "  warning:", "yellow")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def render(
        file: Annotated[
            Path,
            typer.Argument(
                help="A chart or playlist (.chart, iReal .txt/.html, ChordPro, MusicXML, JSON, MIDI)."
            ),
        ],
        out: Annotated[
            Path,
            typer.Option(
                "-o", "--out", help="Output folder; or a .wav/.flac/.mp3/.ogg file for the mix alone."
            ),
        ] = Path("render"),
        song: Annotated[
            str | None, typer.Option("--song", help="Which song of a playlist (number or title).")
        ] = None,
        style: Annotated[
            str | None, typer.Option("--style", help="Style name (default: the chart's).")
        ] = None,
        key: Annotated[
            str | None, typer.Option("--key", help="Transpose to this key, e.g. Bb or F#m.")
        ] = None,
        tempo: Annotated[float | None, typer.Option("--tempo", help="Tempo of the first bar (BPM).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same audio).")] = 0,
        intro: IntroOption = None,
        ending: EndingOption = None,
        count_in: Annotated[
            int | None,
            typer.Option(
                "--count-in",
                help="Count-in bars, 0 to 16 (default 1; 2 when the counted pulse is below 70 or "
                "from 160 per minute).",
            ),
        ] = None,
        click: Annotated[bool, typer.Option("--click/--no-click", help="Render the click.")] = True,
        click_sound: Annotated[
            str, typer.Option("--click-sound", help="classic, wood, beep, cowbell or rim.")
        ] = "classic",
        subdivision: Annotated[
            str | None,
            typer.Option("--subdivision", help="Also click 8ths, 16ths or triplets (softer)."),
        ] = None,
        cues: Annotated[bool, typer.Option("--cues/--no-cues", help="Render spoken cues.")] = True,
        voice_dir: Annotated[
            Path | None,
            typer.Option(
                "--voice-dir",
                help="A folder of your own spoken cues (chorus.wav, last_time.wav, one.wav...); "
                "espeak-ng says the phrases it lacks.",
            ),
        ] = None,
        stems: Annotated[
            bool, typer.Option("--stems", help="Write one stem per part (+ click, cues).")
        ] = False,
        split: Annotated[
            bool, typer.Option("--split", help="Write a split track (L click+cues, R music).")
        ] = False,
        multichannel: Annotated[
            bool, typer.Option("--multichannel", help="Write a multichannel WAV.")
        ] = False,
        mute: Annotated[
            list[str] | None, typer.Option("--mute", help="Parts to leave out (bass,piano).")
        ] = None,
        solo: Annotated[list[str] | None, typer.Option("--solo", help="Only these parts.")] = None,
        fmt: Annotated[
            str | None,
            typer.Option("--format", help="wav, flac, mp3 or ogg (default wav, or -o FILE's extension)."),
        ] = None,
        bit_depth: Annotated[int, typer.Option("--bit-depth", help="16, 24 or 32 (float).")] = 24,
        sample_rate: Annotated[
            int,
            typer.Option(
                "--sample-rate",
                help="44100 or 48000 (Hz); also 22050 or 32000 for quick drafts, 88200 or 96000.",
            ),
        ] = 44100,
        lufs: Annotated[
            float | None,
            typer.Option(
                "--lufs",
                help="Loudness target, LUFS integrated: -60 or louder, below 0 (default -14 plus "
                "the style's offset, e.g. -17 for ballads; given, it is used exactly).",
            ),
        ] = None,
        keep_level: Annotated[
            bool,
            typer.Option(
                "--keep-level/--remaster",
                help="With --mute/--solo: keep the full band's master gain (default), or master "
                "the remaining parts to the target on their own.",
            ),
        ] = True,
        ceiling: Annotated[
            float, typer.Option("--ceiling", help="True-peak ceiling, dBTP (-20 to 0).")
        ] = -1.0,
        soundfont: Annotated[
            Path | None, typer.Option("--soundfont", help="One SoundFont for every part.")
        ] = None,
        program: Annotated[
            list[str] | None, typer.Option("--program", help="PART=GM program (0-127).")
        ] = None,
        part_soundfont: Annotated[
            list[str] | None, typer.Option("--part-soundfont", help="PART=FILE.sf2 for one part.")
        ] = None,
        loop: Annotated[
            str | None,
            typer.Option(
                "--loop", help="Practice: SECTION:N plays a section (label, or number from 1) N times."
            ),
        ] = None,
        ramp: Annotated[
            str | None, typer.Option("--ramp", help="Practice: START%:STEP% speeds up each time round.")
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """Render a chart to a mastered mix, stems, click, cues, split and multichannel files."""
        from backline.formats import load_song
        from backline.render.pipeline import RenderOptions, check_options

        check_key_option(key)
        options: dict[str, Any] = dict(
            sample_rate=sample_rate,
            fmt=(fmt or "wav").lower(),
            bit_depth=bit_depth,
            lufs_target=-14.0 if lufs is None else lufs,
            style_loudness=lufs is None,
            keep_level=keep_level,
            ceiling_dbtp=ceiling,
            stems=stems,
            split=split,
            multichannel=multichannel,
            click=click,
            cues=cues,
            count_in_bars=count_in,
            click_sound=click_sound,
            subdivision=subdivision,
            cue_voice_dir=str(voice_dir) if voice_dir is not None else None,
            soundfont=str(soundfont) if soundfont is not None else None,
        )
        mix_file = out.suffix.lower() in MIX_FILE_SUFFIXES and not out.is_dir()
        if mix_file:
            _mix_file_options(out, options, fmt, count_in is not None)
        # a bad format, sample rate, loudness target or count-in fails before the chart is read
        check_options(RenderOptions(**options))
        chart = load_song(file, parse_song_selector(song))
        warn_song(chart, tempo_given=tempo is not None)
        _render_chart(
            chart,
            out,
            style=style,
            key=key,
            tempo=tempo,
            seed=seed,
            intro=intro,
            ending=ending,
            loop=loop,
            ramp=ramp,
            quiet=quiet,
            mute=mute or [],
            solo=solo or [],
            program=program or [],
            part_soundfont=part_soundfont or [],
            options=options,
            protect=(file,),
            mix_file=mix_file,
        )

    @app.command()
    @handle_errors
    def demo(
        out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("backline-demo"),
        fmt: Annotated[str, typer.Option("--format", help="wav, flac, mp3 or ogg.")] = "wav",
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """Render the built-in demo song to a mix, stems and a split track."""
        from backline.data import demo_chart_path

        path = Path(demo_chart_path())
        if not path.is_file():
            raise RenderError(f"the demo song is missing: {path}")
        from backline.formats import load_song

        chart = load_song(path)
        warn_song(chart)
        _render_chart(
            chart,
            out,
            quiet=quiet,
            options=dict(fmt=fmt.lower(), stems=True, split=True),
        )


def _render_chart(
    chart: Song,
    out: Path,
    *,
    options: dict[str, Any],
    style: str | None = None,
    key: str | None = None,
    tempo: float | None = None,
    seed: int = 0,
    intro: bool | None = None,
    ending: bool | None = None,
    loop: str | None = None,
    ramp: str | None = None,
    quiet: bool = False,
    mute: list[str] | None = None,
    solo: list[str] | None = None,
    program: list[str] | None = None,
    part_soundfont: list[str] | None = None,
    protect: tuple[Path, ...] = (),
    mix_file: bool = False,
) -> None:
    from backline.arrange.engine import arrange
    from backline.render.pipeline import RenderOptions, check_options

    check_options(RenderOptions(**options))  # a bad format or count-in fails before any work
    practised = _practice(chart, loop, ramp)
    # the chart's own intro/ending: as written (a --ramp over the whole song starts and
    # ends as the chart does), or those of the section --loop plays
    play_intro, play_ending = intro_ending(chart if loop is None else practised, intro, ending)
    chart = practised
    arr: Arrangement = arrange(
        chart, style, seed=seed, key=key, tempo=tempo, intro=play_intro, ending=play_ending
    )
    programs: dict[str, int] = {}
    for name, value in parse_assignments(program or [], "--program").items():
        (part,) = _resolve_parts(arr, [name], "set the program of")
        if not value.isdigit() or not 0 <= int(value) <= 127:
            raise RenderOptionError(f"--program {name}={value}: the program must be 0-127")
        programs[part] = int(value)
    fonts: dict[str, str] = {}
    for name, value in parse_assignments(part_soundfont or [], "--part-soundfont").items():
        (part,) = _resolve_parts(arr, [name], "set the SoundFont of")
        fonts[part] = value
    opts = RenderOptions(
        mute=_resolve_parts(arr, mute or [], "mute"),
        solo=_resolve_parts(arr, solo or [], "solo"),
        programs=programs,
        part_soundfonts=fonts,
        **options,
    )
    if mix_file:
        report = render_mix_file(arr, out, opts, quiet=quiet, protect=protect)
    else:
        report = render_song(arr, out, opts, quiet=quiet, protect=protect)
    _summary(report, out, files=not mix_file)
