"""Section markers for the user's own audio.

Two formats are read:

- **CSV** (``.csv``, ``.txt``): one ``time,label`` per line; time in seconds (``12.5``)
  or ``m:ss.sss`` (``1:02.5``); a header line ``time,label`` and ``#`` comments are allowed.
  Each marker starts a section that lasts until the next one (the last until the end).
- **JSON**: a list of ``{"time": 12.5, "label": "Chorus"}``, or a backline
  ``render.json`` (its ``bars`` list: the bar grid *and* the sections; its ``cues`` list:
  where each section's spoken cue lies in the cue stem, so the player can say the right
  one before a jump or a vamp loop).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backline.errors import LiveError, Location

__all__ = ["MarkerBar", "Marker", "MarkerCue", "MarkerFile", "read_markers", "parse_time", "spoken_cues"]


@dataclass(frozen=True, slots=True)
class Marker:
    """A section start: seconds from the start of the audio, and its label."""

    seconds: float
    label: str


@dataclass(frozen=True, slots=True)
class MarkerBar:
    """One bar from a render.json: start seconds, meter, tempo, section label."""

    seconds: float
    numerator: int
    denominator: int
    tempo: float
    section: str
    written_bar: int | None


@dataclass(frozen=True, slots=True)
class MarkerCue:
    """A spoken section cue in a render's cue stem: the section label it names ("" for a
    key change said alone), what it says, where the speech starts and ends and the
    downbeat it points at (seconds)."""

    section: str
    text: str
    start: float
    end: float
    target: float


@dataclass(frozen=True)
class MarkerFile:
    """What a marker file holds: sections, and a bar grid and the spoken cues when it is a
    render.json."""

    path: Path
    markers: tuple[Marker, ...]
    bars: tuple[MarkerBar, ...] = ()
    cues: tuple[MarkerCue, ...] = ()
    #: a render.json's count-in: the seconds of click and spoken count before its first bar
    count_in_seconds: float = 0.0


def spoken_cues(entries: Any) -> tuple[MarkerCue, ...]:
    """The section cues of a render.json ``cues`` list (a key change said alone has the
    label ""; count-in numbers and unreadable entries are left out: a missing cue is
    silence, not an error)."""
    out: list[MarkerCue] = []
    for e in entries if isinstance(entries, list) else []:
        try:
            if e.get("kind") != "section":
                continue
            c = MarkerCue(
                str(e.get("section") or ""),
                str(e.get("text", "")),
                float(e["start_seconds"]),
                float(e["end_seconds"]),
                float(e["target_seconds"]),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        if 0 <= c.start < c.end <= c.target:
            out.append(c)
    return tuple(out)


def parse_time(text: str) -> float:
    """``12.5`` or ``1:02.5`` or ``1:00:02`` -> seconds. Raises ``ValueError``."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(re.fullmatch(r"\d+(\.\d*)?", x) for x in parts):
        raise ValueError(f"not a time: {text!r}")
    secs = 0.0
    for x in parts:
        secs = secs * 60 + float(x)
    return secs


def _from_json(data: Any, p: Path) -> MarkerFile:
    if isinstance(data, dict) and isinstance(data.get("bars"), list):
        bars: list[MarkerBar] = []
        for i, b in enumerate(data["bars"]):
            try:
                ts = b.get("time_signature", [4, 4])
                bars.append(
                    MarkerBar(
                        float(b["start_seconds"]),
                        int(ts[0]),
                        int(ts[1]),
                        float(b.get("tempo", 120.0)),
                        str(b.get("section", "")),
                        b.get("written_bar"),
                    )
                )
            except (KeyError, TypeError, ValueError, IndexError):
                raise LiveError(f"{p}: bar {i + 1} of the render report is not readable") from None
        markers = []
        prev = None
        for b in bars:
            if b.section != prev:
                markers.append(Marker(b.seconds, b.section))
            prev = b.section
        count = data.get("count_in_seconds")
        baked = float(count) if isinstance(count, int | float) and math.isfinite(count) and count > 0 else 0.0
        return MarkerFile(p, tuple(markers), tuple(bars), spoken_cues(data.get("cues")), baked)
    if isinstance(data, list):
        out = []
        for i, m in enumerate(data):
            try:
                out.append(Marker(float(m["time"]), str(m["label"])))
            except (KeyError, TypeError, ValueError):
                raise LiveError(f"{p}: marker {i + 1} needs a time (seconds) and a label") from None
        return MarkerFile(p, tuple(out))
    raise LiveError(f"{p}: expected a list of {{time, label}} or a backline render.json")


def _from_csv(text: str, p: Path) -> MarkerFile:
    out: list[Marker] = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if n == 1 and row[0].strip().lower() in ("time", "seconds", "start"):
            continue
        if len(row) < 2 or not row[1].strip():
            raise LiveError(f"{Location(str(p), n)}: expected time,label")
        try:
            t = parse_time(row[0])
        except ValueError as exc:
            raise LiveError(f"{Location(str(p), n)}: {exc}") from None
        out.append(Marker(t, row[1].strip()))
    return MarkerFile(p, tuple(out))


def read_markers(path: str | Path) -> MarkerFile:
    """Read a marker file (CSV or JSON, see the module docstring); markers must be in time order."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LiveError(f"{p}: no such marker file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LiveError(f"{p}: cannot read markers ({exc})") from None
    if p.suffix.lower() == ".json":
        try:
            mf = _from_json(json.loads(text), p)
        except json.JSONDecodeError as exc:
            raise LiveError(
                f"{Location(str(p), exc.lineno, exc.colno)}: not valid JSON ({exc.msg})"
            ) from None
    else:
        mf = _from_csv(text, p)
    if not mf.markers:
        raise LiveError(f"{p}: contains no markers")
    for a, b in zip(mf.markers, mf.markers[1:], strict=False):
        if b.seconds <= a.seconds:
            raise LiveError(
                f"{p}: marker {b.label!r} at {b.seconds:g} s is not after {a.label!r} at {a.seconds:g} s"
            )
    return mf
