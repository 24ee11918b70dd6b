"""A click for audio the user already has, locked to its detected beats and downbeats.

The clicks sit on the analysed beats (so they follow tempo drift); downbeats are
accented (level 0), other beats are level 1, with the sounds of
:mod:`backline.render.click`. An optional count-in of N bars is placed before the
first downbeat at the opening beat period; when it does not fit before the music,
the original is delayed: every output then starts ``offset_seconds`` earlier than
the original, and the report says so. Beats before the first downbeat (a pickup)
are replaced by the count-in when there is one.

Outputs (into a folder): ``click.wav`` (mono), ``split.wav`` with ``--split``
(left = click and cues, right = the original folded to mono), ``cues.wav`` with
``--cues`` (spoken count-in numbers and section names), and ``click.json``. Audio is
written block by block: memory stays bounded for long files. The input is never
written to.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backline.audio.analyze.core import Analysis
from backline.audio.io import iter_blocks, open_writer, probe
from backline.errors import AudioInputError, OutputError
from backline.model.checks import MAX_COUNT_IN_BARS
from backline.render.click import click_sound
from backline.util.atomic import write_bytes_atomic

__all__ = ["ClickPlan", "ClickResult", "plan_clicks", "render_click_block", "click_for_audio"]

_BLOCK = 1 << 16


@dataclass(frozen=True)
class ClickPlan:
    """Every click as (seconds in the output, level), the output's delay of the original,
    and the spoken cues as (seconds in the output, phrase)."""

    clicks: tuple[tuple[float, int], ...]
    offset_seconds: float
    count_in_clicks: int
    cues: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class ClickResult:
    outdir: Path
    files: dict[str, str]
    sample_rate: int
    offset_seconds: float
    duration_seconds: float
    tempo: float
    beats: int
    downbeats: int
    confidence: float
    warnings: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "sample_rate": self.sample_rate,
            "offset_seconds": round(self.offset_seconds, 6),
            "offset_note": (
                f"the original starts {self.offset_seconds:.3f} s into these files (count-in)"
                if self.offset_seconds > 0
                else "the files line up with the original"
            ),
            "duration_seconds": round(self.duration_seconds, 6),
            "tempo": round(self.tempo, 3),
            "beats": self.beats,
            "downbeats": self.downbeats,
            "confidence": round(self.confidence, 3),
            "warnings": list(self.warnings),
        }


def plan_clicks(a: Analysis, *, count_in_bars: int = 0, cues: bool = False) -> ClickPlan:
    """Where the clicks go for analysis ``a`` (pure: no audio)."""
    if not 0 <= count_in_bars <= MAX_COUNT_IN_BARS:
        raise AudioInputError(f"count-in must be 0 to {MAX_COUNT_IN_BARS} bars, not {count_in_bars}")
    beats = np.array(a.beats, dtype=float)
    if len(beats) == 0:
        raise AudioInputError("no steady beat was found in this recording: cannot place a click")
    downs = set(np.round(np.array(a.downbeats), 6).tolist())
    meter = a.time_signature[0]
    first_db = a.downbeats[0] if a.downbeats else float(beats[0])
    n_count = count_in_bars * meter
    offset = 0.0
    count: list[tuple[float, int]] = []
    keep = beats
    if n_count:
        after = beats[beats >= first_db - 1e-6]
        period = float(np.median(np.diff(after[: meter + 1]))) if len(after) > 1 else 60.0 / max(a.tempo, 1.0)
        start = first_db - n_count * period
        offset = max(0.0, -start)
        count = [(start + k * period + offset, 0 if k % meter == 0 else 1) for k in range(n_count)]
        keep = after
    clicks = count + [(float(b) + offset, 0 if round(float(b), 6) in downs else 1) for b in keep]
    spoken: list[tuple[float, str]] = []
    if cues:
        from backline.render.cues import section_phrase

        for k, (t, _) in enumerate(count):
            spoken.append((t, _NUMBERS[k % meter] if k % meter < len(_NUMBERS) else str(k % meter + 1)))
        for s in a.sections[1:] if count else a.sections:
            phrase = section_phrase(s.label)
            if phrase:
                spoken.append((s.start + offset, phrase))
    return ClickPlan(tuple(clicks), offset, len(count), tuple(spoken))


_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def render_click_block(
    plan_samples: list[tuple[int, int]],
    start: int,
    n: int,
    sample_rate: int,
    *,
    sound: str = "classic",
    gain: float = 0.5,
) -> np.ndarray:
    """The click audio for output samples ``[start, start + n)`` (mono float32).

    ``plan_samples`` are (sample, level) in time order. Each click is cut (1 ms fade)
    where the next one starts, as in :func:`backline.render.click.render_click`.
    """
    out = np.zeros(n, dtype=np.float32)
    starts = [s for s, _ in plan_samples]
    i0 = max(0, int(np.searchsorted(starts, start - sample_rate)) - 1)
    fade = max(1, sample_rate // 1000)
    for i in range(i0, len(plan_samples)):
        s, level = plan_samples[i]
        if s >= start + n:
            break
        shot = click_sound(sound, sample_rate, level)
        length = len(shot)
        if i + 1 < len(plan_samples):
            length = min(length, plan_samples[i + 1][0] - s)
        if length <= 0 or s + length <= start:
            continue
        seg = shot[:length] * np.float32(gain)
        if length < len(shot):
            f = min(fade, length)
            seg[length - f :] *= np.linspace(1.0, 0.0, f, dtype=np.float32)
        a, b = max(s, start), min(s + length, start + n)
        out[a - start : b - start] += seg[a - s : b - s]
    return out


def _mix_phrases(phrases: list[tuple[int, np.ndarray]], start: int, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    for s, y in phrases:
        a, b = max(s, start), min(s + len(y), start + n)
        if b > a:
            out[a - start : b - start] += y[a - s : b - s]
    return out


def click_for_audio(
    src: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    *,
    count_in_bars: int = 0,
    split: bool = False,
    cues: bool = False,
    sound: str = "classic",
    level_db: float = -6.0,
    analysis: Analysis | None = None,
) -> ClickResult:
    """Analyse ``src`` (unless ``analysis`` is given) and write the click files into ``outdir``."""
    src_p, out = Path(src), Path(outdir)
    if not 0 <= count_in_bars <= MAX_COUNT_IN_BARS:
        raise AudioInputError(f"count-in must be 0 to {MAX_COUNT_IN_BARS} bars, not {count_in_bars}")
    info = probe(src_p)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    if out.resolve() == src_p.parent.resolve() and src_p.name in ("click.wav", "split.wav", "cues.wav"):
        raise OutputError(f"{src_p} would be overwritten: choose another output folder")
    _check_writable(out)  # before the analysis, which takes a while
    if analysis is None:
        from backline.audio.analyze import analyze_file

        analysis = analyze_file(src_p)
    plan = plan_clicks(analysis, count_in_bars=count_in_bars, cues=cues)
    sr = info.sample_rate
    clicks = [(round(t * sr), lvl) for t, lvl in plan.clicks]
    delay = round(plan.offset_seconds * sr)
    total = info.frames + delay
    gain = float(10 ** (level_db / 20))
    phrases: list[tuple[int, np.ndarray]] = []
    if cues:
        from backline.render.cues import speak

        for t, text in plan.cues:
            y = speak(text, sr) * np.float32(gain * 0.9)
            # Count-in numbers start on their beat; section names end just before the section.
            s = round(t * sr) if text in _NUMBERS else round(t * sr) - len(y) - int(0.1 * sr)
            phrases.append((max(0, s), y))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {out}: {exc.strerror or exc}") from None
    files: dict[str, str] = {"click": "click.wav"}
    if split:
        files["split"] = "split.wav"
    if cues:
        files["cues"] = "cues.wav"
    with contextlib.ExitStack() as stack:
        w_click = stack.enter_context(open_writer(out / "click.wav", sr, 1))
        ws = stack.enter_context(open_writer(out / "split.wav", sr, 2)) if split else None
        wc = stack.enter_context(open_writer(out / "cues.wav", sr, 1)) if cues else None
        pos = 0
        pending = np.zeros(delay, dtype=np.float32)  # the original (mono), delayed
        blocks = iter_blocks(src_p, _BLOCK)
        while pos < total:
            need = min(_BLOCK, total - pos)
            while len(pending) < need:
                b = next(blocks, None)
                if b is None:
                    pending = np.concatenate([pending, np.zeros(need - len(pending), np.float32)])
                    break
                pending = np.concatenate([pending, b.mean(axis=0)])
            orig, pending = pending[:need], pending[need:]
            c = render_click_block(clicks, pos, need, sr, sound=sound, gain=gain)
            w_click(c)
            q = _mix_phrases(phrases, pos, need) if phrases else None
            if wc is not None:
                wc(q if q is not None else np.zeros(need, np.float32))
            if ws is not None:
                ws(np.stack([c + q if q is not None else c, orig]))
            pos += need
    res = ClickResult(
        outdir=out,
        files=files,
        sample_rate=sr,
        offset_seconds=delay / sr,
        duration_seconds=total / sr,
        tempo=analysis.tempo,
        beats=len(analysis.beats),
        downbeats=len(analysis.downbeats),
        confidence=analysis.confidence,
        warnings=analysis.warnings,
    )
    write_bytes_atomic(out / "click.json", (json.dumps(res.as_json(), indent=2) + "\n").encode())
    return res


def _check_writable(out: Path) -> None:
    """:class:`OutputError` unless files can be made in ``out`` (or in the folder that
    would hold it): tried with a real file, as permissions alone do not tell (read-only
    mounts, immutable folders, root)."""
    import tempfile

    folder = out
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write to {out}: {folder} is not a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=".backline-write-test-", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise OutputError(f"cannot write to {out}: {exc.strerror or exc}") from None
