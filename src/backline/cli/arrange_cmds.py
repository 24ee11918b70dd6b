"""Arrangement commands: ``arrange`` (one song or a whole playlist) and ``styles``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from backline.cli.common import console, err_console, handle_errors, parse_song_selector, warn_song
from backline.errors import ArrangeError, BacklineError, OutputError

__all__ = ["register", "styles_json"]


def styles_json() -> list[dict[str, Any]]:
    """What ``backline styles --json`` prints: one object per style."""
    from backline.arrange.styles import StyleRegistry

    return [s.summary() for s in StyleRegistry.default()]


def _slug(text: str) -> str:
    s = re.sub(r"[^\w]+", "-", text.strip().lower(), flags=re.UNICODE).strip("-")
    return s[:60] or "song"


def _write_outputs(arr: Any, out: Path, plan: Path | None) -> None:
    from backline.arrange.midi_out import write_midi
    from backline.util.atomic import write_text_atomic

    write_midi(arr, out)
    if plan is not None:
        write_text_atomic(plan, json.dumps(arr.plan_json(), indent=1) + "\n")


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
        tempo: Annotated[float | None, typer.Option("--tempo", help="Tempo in BPM.", min=10, max=400)] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same MIDI).")] = 0,
        intro: Annotated[bool, typer.Option("--intro/--no-intro", help="Play the style's intro.")] = True,
        ending: Annotated[bool, typer.Option("--ending/--no-ending", help="Play the style's ending.")] = True,
        plan: Annotated[Path | None, typer.Option("--plan", help="Also write the plan JSON here.")] = None,
        all_songs: Annotated[
            bool, typer.Option("--all", help="Arrange every song of a playlist into -o DIR.")
        ] = False,
    ) -> None:
        """Arrange a chart into a band MIDI file (and optionally its plan JSON)."""
        from backline.arrange.engine import arrange
        from backline.arrange.styles import StyleRegistry
        from backline.formats import load_songs, select_song

        registry = StyleRegistry.default()
        if style is not None:
            registry.get(style)  # fail early on an unknown style
        songs = load_songs(file)
        if all_songs:
            if song is not None:
                raise ArrangeError("use either --song or --all, not both")
            if output.exists() and not output.is_dir():
                raise OutputError(f"{output}: --all writes into a folder, and this is a file")
            _arrange_all(songs, output, registry, style, key, tempo, seed, intro, ending)
            return
        chosen = select_song(songs, parse_song_selector(song), str(file))
        warn_song(chosen)
        if output.suffix.lower() not in (".mid", ".midi"):
            raise OutputError(f"{output}: the output must be a .mid file")
        arr = arrange(
            chosen, style, registry=registry, seed=seed, key=key, tempo=tempo, intro=intro, ending=ending
        )
        _write_outputs(arr, output, plan)
        reason = arr.extra.get("style_reason", "")
        console.print(
            f"{chosen.title}: {arr.style} ({reason}), {len(arr.bars)} bars, "
            f"{arr.duration_seconds:.1f} s -> {output}",
            highlight=False,
        )

    @app.command("styles")
    @handle_errors
    def styles_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List the styles: name, meters, tempo range and parts."""
        data = styles_json()
        if as_json:
            console.print_json(json.dumps(data))
            return
        table = Table(title=f"{len(data)} styles")
        for col in ("name", "family", "meters", "tempo", "feel", "parts"):
            table.add_column(col)
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


def _arrange_all(
    songs: list[Any],
    folder: Path,
    registry: Any,
    style: str | None,
    key: str | None,
    tempo: float | None,
    seed: int,
    intro: bool,
    ending: bool,
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
            stem = folder / f"{i:03d}-{_slug(s.title)}"
            try:
                arr = arrange(
                    s, style, registry=registry, seed=seed, key=key, tempo=tempo, intro=intro, ending=ending
                )
                _write_outputs(arr, stem.with_suffix(".mid"), stem.with_suffix(".plan.json"))
                written += 1
            except BacklineError as exc:
                failed.append((i, s.title, str(exc)))
            progress.advance(task)
    console.print(f"wrote {written} of {len(songs)} songs to {folder}", highlight=False)
    if failed:
        err_console.print(f"[bold red]{len(failed)} songs failed:[/]")
        for i, title, why in failed:
            err_console.print(f"  {i:3d}. {title}: {why}", highlight=False, markup=False)
        raise typer.Exit(1)
