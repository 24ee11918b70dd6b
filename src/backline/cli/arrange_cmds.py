"""Arrangement commands: ``arrange`` (one song or a whole playlist) and ``styles``."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from backline.cli.checks import (
    EndingOption,
    IntroOption,
    check_key_option,
    intro_ending,
    refuse_overwrite,
    same_file,
)
from backline.cli.common import console, err_console, handle_errors, parse_song_selector, say, warn_song
from backline.errors import ArrangeError, BacklineError, OutputError
from backline.util.slug import slug

__all__ = ["register", "styles_json"]


def styles_json() -> list[dict[str, Any]]:
    """What ``backline styles --json`` prints: one object per style."""
    from backline.arrange.styles import StyleRegistry

    return [s.summary() for s in StyleRegistry.default()]


def _write_outputs(arr: Any, out: Path, plan: Path | None) -> None:
    """Write the MIDI (and the plan): both are made and written to temporary files first,
    so an output that cannot be written (an unwritable folder for the plan) leaves neither."""
    from backline.arrange.midi_out import arrangement_to_midi_bytes
    from backline.util.atomic import atomic_path

    midi = arrangement_to_midi_bytes(arr)
    plan_text = None if plan is None else json.dumps(arr.plan_json(), indent=1) + "\n"
    with contextlib.ExitStack() as stack:
        tmp_mid = stack.enter_context(atomic_path(out))
        tmp_plan = None if plan is None else stack.enter_context(atomic_path(plan))
        _write(tmp_mid, out, midi)
        if tmp_plan is not None and plan is not None and plan_text is not None:
            _write(tmp_plan, plan, plan_text.encode("utf-8"))


def _write(tmp: Path, dest: Path, data: bytes) -> None:
    from backline.util.atomic import write_failed

    try:
        tmp.write_bytes(data)
    except OSError as exc:
        raise write_failed(dest, exc) from exc


def register(app: typer.Typer) -> None:
    """Add ``arrange`` and ``styles`` to the ``backline`` app."""

    @app.command("arrange")
    @handle_errors
    def arrange_cmd(
        file: Annotated[Path, typer.Argument(help="Chart or playlist file.")],
        output: Annotated[
            Path, typer.Option("-o", "--output", help="Output .mid file (with --all: a folder).")
        ],
        song: Annotated[str | None, typer.Option("--song", help="Song number (1-based) or title.")] = None,
        style: Annotated[
            str | None,
            typer.Option("--style", help="Style name (see `backline styles`); default: the chart's hint."),
        ] = None,
        key: Annotated[
            str | None, typer.Option("--key", help="Transpose to this key, e.g. Bb or F#m.")
        ] = None,
        tempo: Annotated[float | None, typer.Option("--tempo", help="Tempo in BPM (10-400).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same MIDI).")] = 0,
        intro: IntroOption = None,
        ending: EndingOption = None,
        plan: Annotated[
            Path | None,
            typer.Option(
                "--plan",
                help="Also write the plan JSON here (not with --all: --all always writes "
                "NNN-title.plan.json beside each NNN-title.mid).",
            ),
        ] = None,
        all_songs: Annotated[
            bool,
            typer.Option(
                "--all", help="Arrange every song of a playlist into -o DIR (MIDI and plan per song)."
            ),
        ] = False,
    ) -> None:
        """Arrange a chart into a band MIDI file (and optionally its plan JSON)."""
        from backline.arrange.engine import arrange
        from backline.arrange.styles import StyleRegistry
        from backline.formats import load_songs, select_song

        check_key_option(key)
        registry = StyleRegistry.default()
        if style is not None:
            registry.get(style)  # fail early on an unknown style
        if all_songs:
            if song is not None:
                raise ArrangeError("use either --song or --all, not both")
            if plan is not None:
                raise ArrangeError(
                    "--plan names one file; with --all each song's plan is written beside its MIDI "
                    "(NNN-title.plan.json)"
                )
        else:
            if output.suffix.lower() not in (".mid", ".midi"):
                raise OutputError(f"{output}: the output must be a .mid file")
            refuse_overwrite(output, [file])
            if plan is not None:
                refuse_overwrite(plan, [file], "the plan")
                if same_file(plan, output):
                    raise OutputError(f"the plan {plan} and the MIDI {output} are the same file")
        songs = load_songs(file)
        if all_songs:
            if output.exists() and not output.is_dir():
                raise OutputError(f"{output}: --all writes into a folder, and this is a file")
            _arrange_all(songs, output, registry, style, key, tempo, seed, intro, ending)
            return
        chosen = select_song(songs, parse_song_selector(song), str(file))
        warn_song(chosen, tempo_given=tempo is not None)
        play_intro, play_ending = intro_ending(chosen, intro, ending)
        arr = arrange(
            chosen,
            style,
            registry=registry,
            seed=seed,
            key=key,
            tempo=tempo,
            intro=play_intro,
            ending=play_ending,
        )
        _write_outputs(arr, output, plan)
        reason = arr.extra.get("style_reason", "")
        console.print(
            f"{chosen.title}: {arr.style} ({reason}), {len(arr.bars)} bars, "
            f"{arr.duration_seconds:.1f} s -> {output}",
            highlight=False,
        )
        for w in arr.extra.get("warnings", []):
            say(err_console, w, "warning:", "yellow")

    @app.command("styles")
    @handle_errors
    def styles_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        preview: Annotated[
            str | None,
            typer.Option(
                "--preview",
                help="Hear this style: render a short song in it (two 8-bar sections, intro and "
                "ending) to -o.",
            ),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option(
                "-o",
                "--output",
                help="The preview's file (.wav, .flac, .mp3, .ogg); default NAME-preview.wav.",
            ),
        ] = None,
        time: Annotated[
            str | None, typer.Option("--time", help="The preview's meter (one the style plays, e.g. 3/4).")
        ] = None,
        tempo: Annotated[
            float | None,
            typer.Option("--tempo", help="The preview's tempo in BPM, 10-400 (default: the style's)."),
        ] = None,
        key: Annotated[str | None, typer.Option("--key", help="The preview's key (default C).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """List the styles: name, meters, tempo range and parts; or hear one (--preview)."""
        if preview is not None:
            _preview(preview, output, time=time, tempo=tempo, key=key, seed=seed, quiet=quiet)
            return
        if any(v is not None for v in (output, time, tempo, key)):
            raise ArrangeError("-o, --time, --tempo and --key go with --preview NAME")
        data = styles_json()
        if as_json:
            console.print_json(json.dumps(data))
            return
        table = Table(title=f"{len(data)} styles")
        # the name is what you type after --style: never cut it; the parts column wraps
        names = [str(s["name"]) for s in data]
        table.add_column("name", no_wrap=True, min_width=max(map(len, names), default=4))
        for col in ("family", "meters", "tempo", "feel"):
            table.add_column(col, no_wrap=col in ("tempo", "feel"))
        table.add_column("parts", overflow="fold")
        for s in data:
            table.add_row(
                str(s["name"]),
                str(s["family"]),
                " ".join(s["meters"]),
                f"{s['tempo'][0]:g}-{s['tempo'][1]:g}",
                str(s["feel"]),
                ", ".join(f"{p['name']} ({p['role']})" for p in s["parts"]),
            )
        console.print(table)


def _preview(
    name: str,
    output: Path | None,
    *,
    time: str | None,
    tempo: float | None,
    key: str | None,
    seed: int,
    quiet: bool,
) -> None:
    """Render the preview song of style ``name`` (see :mod:`backline.arrange.preview`) to one
    audio file: the mastered mix, no click or cues; written whole or not at all."""
    from backline.arrange.engine import arrange
    from backline.arrange.preview import preview_song
    from backline.arrange.styles import StyleRegistry
    from backline.cli.render_cmds import MIX_FILE_SUFFIXES, render_mix_file
    from backline.model.checks import check_tempo
    from backline.render.pipeline import RenderOptions

    check_key_option(key)
    if tempo is not None:
        check_tempo(tempo, "--tempo")  # before it is written into the preview's chart
    style = StyleRegistry.default().get(name)
    default = f"{slug(style.name)}-preview.wav"
    out = output if output is not None else Path(default)
    fmt = out.suffix.lower().lstrip(".")
    if out.suffix.lower() not in MIX_FILE_SUFFIXES:
        raise OutputError(f"{out}: the preview is a .wav, .flac, .mp3 or .ogg file")
    if out.is_dir():
        raise OutputError(f"{out} is a folder; name the preview's file (e.g. {out / default})")
    song = preview_song(style, time=time, tempo=tempo)
    arr = arrange(song, style.name, seed=seed, key=key)
    report = render_mix_file(
        arr, out, RenderOptions(fmt=fmt, click=False, cues=False, midi=False, count_in_bars=0), quiet=quiet
    )
    first = arr.song.bars[0]
    console.print(
        f"{style.name}: {len(arr.bars)} bars in {arr.song.key}, {first.time} at {first.tempo:g} BPM, "
        f"{report.duration_seconds:.1f} s, {report.master.integrated_lufs:.1f} LUFS -> {out}",
        highlight=False,
    )


def _arrange_all(
    songs: list[Any],
    folder: Path,
    registry: Any,
    style: str | None,
    key: str | None,
    tempo: float | None,
    seed: int,
    intro: bool | None,
    ending: bool | None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from backline.arrange.engine import arrange

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror or exc}") from None
    failed: list[tuple[int, str, str]] = []
    written = 0
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err_console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("arranging", total=len(songs))
        for i, s in enumerate(songs, 1):
            progress.update(task, description=f"{s.title[:30]:<30}")
            stem = folder / f"{i:03d}-{slug(s.title, sep='-', lower=True, max_len=60, fallback='song')}"
            try:
                play_intro, play_ending = intro_ending(s, intro, ending)
                arr = arrange(
                    s, style, registry=registry, seed=seed, key=key, tempo=tempo,
                    intro=play_intro, ending=play_ending,
                )  # fmt: skip
                _write_outputs(arr, stem.with_suffix(".mid"), stem.with_suffix(".plan.json"))
                written += 1
            except BacklineError as exc:
                failed.append((i, s.title, str(exc)))
            progress.advance(task)
    console.print(f"wrote {written} of {len(songs)} songs to {folder}", highlight=False)
    if failed:
        err_console.print(f"[bold red]{len(failed)} songs failed:[/]", markup=True)
        for i, title, why in failed:
            err_console.print(f"  {i:3d}. {title}: {why}", highlight=False, markup=False)
        raise typer.Exit(1)
