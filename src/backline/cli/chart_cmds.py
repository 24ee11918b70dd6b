"""Chart commands: ``chord``, ``inspect``, ``convert``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from backline.cli.checks import refuse_overwrite
from backline.cli.common import console, err_console, handle_errors, parse_song_selector, say, warn_song
from backline.model.chord import parse_chord_or_nc
from backline.model.form import expand
from backline.model.song import Song

__all__ = ["register", "chord_json", "song_summary"]


def chord_json(symbol: str) -> dict[str, Any]:
    """The JSON object ``backline chord --json`` prints for one symbol: what the table
    shows (``scale`` is the chord-scale's name, ``None`` for N.C.)."""
    c = parse_chord_or_nc(symbol)
    if c is None:
        return {
            "symbol": symbol,
            "root": None,
            "bass": None,
            "quality": "N.C.",
            "pitch_classes": [],
            "scale": None,
        }
    return {
        "symbol": symbol,
        "root": c.root_pc,
        "bass": c.bass_pc,
        "quality": c.quality.name or "maj",
        "pitch_classes": sorted(c.pitch_classes),
        "scale": c.scale_name,
    }


def song_summary(song: Song) -> dict[str, Any]:
    """The JSON of one song for ``backline inspect --json`` (expanded playback order)."""
    tl = expand(song)
    chords = []
    for start, dur, ev, _pb in tl.chord_spans():
        c = ev.chord
        chords.append(
            {
                "start_beat": _num(start),
                "duration_beats": _num(dur),
                "symbol": "N.C." if c is None else str(c),
                "root": None if c is None else c.root_pc,
                "bass": None if c is None else c.bass_pc,
                "pitch_classes": [] if c is None else sorted(c.pitch_classes),
            }
        )
    ts = song.time_signature
    return {
        "title": song.title,
        "composer": song.composer,
        "key": None if song.key is None else str(song.key),
        "tempo": song.tempo,
        "time_signature": [ts.numerator, ts.denominator],
        "style": song.style,
        "bars": len(tl),
        "sections": [s.label for s in song.sections],
        "chords": chords,
    }


def _num(x: Any) -> float | int:
    f = float(x)
    return int(f) if f.is_integer() else f


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def chord(
        symbols: Annotated[list[str], typer.Argument(help="Chord symbols, e.g. Cmaj7 F#m7b5 Bb7/Ab N.C.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    ) -> None:
        """Parse chord symbols: root, bass, quality, pitch classes and chord-scale."""
        out = [chord_json(s) for s in symbols]
        if as_json:
            typer.echo(json.dumps(out, ensure_ascii=False))
            return
        table = Table("symbol", "name", "root", "bass", "quality", "pitch classes", "scale")
        for s, o in zip(symbols, out, strict=True):
            c = parse_chord_or_nc(s)
            table.add_row(
                s,
                "N.C." if c is None else c.name,
                str(o["root"]),
                str(o["bass"]),
                o["quality"],
                " ".join(map(str, o["pitch_classes"])),
                o["scale"] or "",
            )
        console.print(table)

    @app.command()
    @handle_errors
    def inspect(
        file: Annotated[
            Path,
            typer.Argument(
                help="A chart or playlist (.chart, iReal .txt/.html, ChordPro, MusicXML, JSON, MIDI)."
            ),
        ],
        song: Annotated[str | None, typer.Option("--song", help="Song number (1-based) or title.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List the songs of a playlist, or show one song: metadata, sections, bars and chords."""
        from backline.formats import load_songs, select_song

        songs = load_songs(file)
        if song is None and len(songs) > 1 and not as_json:
            table = Table("#", "title", "composer", "key", "style", "bars")
            for i, s in enumerate(songs, 1):
                table.add_row(str(i), s.title, s.composer, str(s.key or ""), s.style, str(len(expand(s))))
            console.print(table)
            return
        chosen = songs if song is None else [select_song(songs, parse_song_selector(song), str(file))]
        for s in chosen:
            warn_song(s)
        if as_json:
            typer.echo(json.dumps({"songs": [song_summary(s) for s in chosen]}, ensure_ascii=False))
            return
        _print_song(chosen[0])

    @app.command()
    @handle_errors
    def convert(
        src: Annotated[Path, typer.Argument(help="Input chart (format from the extension).")],
        dst: Annotated[
            Path, typer.Argument(help="Output (.chart, .musicxml, .mxl, .mid, .json, .cho, .txt).")
        ],
        song: Annotated[
            str | None, typer.Option("--song", help="Song number or title in a playlist.")
        ] = None,
    ) -> None:
        """Convert a chart between formats (by extension). The output must be another file:
        converting a file onto itself is refused (it would lose what the format cannot hold)."""
        import warnings

        from backline.formats import load_songs, save_song, select_song
        from backline.formats.lost import FormLostWarning

        refuse_overwrite(dst, [src])
        songs = load_songs(src)
        s = select_song(songs, parse_song_selector(song), str(src))
        warn_song(s)
        with warnings.catch_warnings(record=True) as lost:
            warnings.simplefilter("always", FormLostWarning)
            out = save_song(s, dst)
        for w in lost:
            if issubclass(w.category, FormLostWarning):
                say(err_console, str(w.message), "warning:", "yellow")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        console.print(f"wrote {out}")


def _print_song(song: Song) -> None:
    tl = expand(song)
    ts = song.time_signature
    console.print(Text(song.title, style="bold") + Text(f" — {song.composer}" if song.composer else ""))
    console.print(
        f"key {song.key or '?'}   tempo {song.tempo:g}   time {ts}   style {song.style or '-'}   "
        f"{len(song.bars)} written bars, {len(tl)} played"
    )
    console.print("sections: " + " ".join(s.label for s in song.sections))
    line: list[str] = []
    current = None
    for pb in tl:
        if pb.section_start and pb.section != current:
            if line:
                console.print("  " + " ".join(line) + " |", highlight=False)
                line = []
            current = pb.section
            say(console, pb.section, text_style="cyan")
        cells = " ".join("N.C." if ev.chord is None else str(ev.chord) for ev in pb.bar.chords) or "%"
        line.append(f"| {cells}")
        if len(line) == 4:
            console.print("  " + " ".join(line) + " |", highlight=False)
            line = []
    if line:
        console.print("  " + " ".join(line) + " |", highlight=False)
