"""What ``backline live check`` tells the musician beyond problems: the role each stem gets,
the peak each output will reach, and foot-switch jumps that no song can carry out.

- :func:`stem_roles`: one line per source file of a song, with its role and outputs
  (``Click Track.wav -> click (in-ear 3, in-ear 4)``);
- :func:`predict_peaks`: the peak of every output for a song played through, from the
  song's decoded audio mixed through its gains (levels, routes, output levels: the same
  gains the engine uses), plus the count-in and the between-song pad; above 0 dBFS the
  engine's safety stage clips it, so ``check`` warns;
- :func:`midi_jump_warnings` / :func:`jump_target_warning`: a ``[midi.map]`` or
  ``[midi.learned]`` jump whose target no song has (``jump Chorous next bar``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from backline.live.commands import Action
from backline.live.routing import MixLevels, Routing, build_routing, capped_gains, effective_gains
from backline.live.setlist import Setlist
from backline.live.show import PreparedSong, Show

__all__ = [
    "stem_roles",
    "predict_peaks",
    "peak_warnings",
    "cap_notes",
    "midi_jump_warnings",
    "jump_target_warning",
]

_ROLE = {"stem": "music", "click": "click", "cues": "cues"}


def _label(setlist: Setlist, o: int) -> str:
    """Output ``o`` (1-based) in a few words: ``FOH 1``, ``in-ear 3``, ``out 5``, or its name."""
    outs = setlist.outputs
    if o in outs.names:
        return f"{o} {outs.names[o]!r}"
    if o in outs.foh:
        return f"FOH {o}"
    if o in outs.in_ear:
        return f"in-ear {o}"
    return f"out {o}"


def stem_roles(setlist: Setlist, song: PreparedSong, routing: Routing | None = None) -> list[str]:
    """``FILE -> ROLE (OUTPUTS)`` per source file of ``song`` (``nowhere`` when not routed)."""
    r = routing or build_routing(setlist, song)
    lines = []
    row = 0
    for src in song.sources:
        rows = list(range(row, row + src.channels))
        row += src.channels
        outs = [o + 1 for o in range(r.n_outputs) if np.any(r.base[o, rows] > 0)]
        role = _ROLE.get(src.kind, src.kind)
        if src.kind == "stem" and src.name in song.spec.routing:
            role = f"music, own route {src.name!r}"
        where = ", ".join(_label(setlist, o) for o in outs) or "nowhere"
        lines.append(f"{src.file_name} -> {role} ({where})")
    return lines


def predict_peaks(
    setlist: Setlist, song: PreparedSong, gains: np.ndarray, block: int = 1 << 16
) -> np.ndarray:
    """The peak (linear) of every output for ``song``: its files read in step and mixed
    through ``gains`` (outputs x rows, as :func:`~backline.live.routing.effective_gains`),
    and the count-in and the between-song pad (they sound together when the pad crossfades
    under the count-in)."""
    import soundfile as sf

    from backline.render.click import click_sound

    n_src_rows = sum(s.channels for s in song.sources)
    peaks = np.zeros(gains.shape[0], dtype=np.float64)
    g = gains[:, :n_src_rows].astype(np.float64)
    files = [sf.SoundFile(str(s.path)) for s in song.sources]
    try:
        stage = np.zeros((n_src_rows, block), dtype=np.float64)
        while True:
            stage.fill(0.0)
            got = 0
            row = 0
            for s, f in zip(song.sources, files, strict=True):
                x = f.read(block, dtype="float64", always_2d=True)
                k = x.shape[0]
                got = max(got, k)
                if k:
                    stage[row : row + s.channels, :k] = x[:, : s.channels].T
                row += s.channels
            if got == 0:
                break
            mixed = np.abs(g @ stage[:, :got])
            np.maximum(peaks, mixed.max(axis=1), out=peaks)
    finally:
        for f in files:
            f.close()
    shot = float(np.max(np.abs(click_sound(song.spec.click_sound, setlist.sample_rate, 0)))) * 0.5
    rows = list(gains.shape[1] - 3 + np.arange(3))  # count-in, pad.L, pad.R (see routing)
    pad = 10 ** (setlist.pad_level_db / 20)
    extra = shot * np.abs(gains[:, rows[0]]) + pad * np.abs(gains[:, rows[1:]]).sum(axis=1)
    return np.maximum(peaks, extra)


def _song_gains(setlist: Setlist, song: PreparedSong) -> tuple[Routing, MixLevels, np.ndarray]:
    r = build_routing(setlist, song)
    lv = MixLevels(dict(song.spec.mix), {k - 1: v for k, v in setlist.levels.outputs.items()})
    return r, lv, effective_gains(r, lv)


def peak_warnings(show: Show) -> list[str]:
    """A warning per song and output whose predicted peak is above 0 dBFS (output and role
    named); the engine's safety stage clips those samples at full scale."""
    out = []
    for song in show.playable:
        _r, _lv, gains = _song_gains(show.setlist, song)
        peaks = predict_peaks(show.setlist, song, gains)
        for o, p in enumerate(peaks.tolist(), start=1):
            if p > 1.0:
                out.append(
                    f"song {song.index + 1} {song.title!r}: output {show.setlist.outputs.describe(o)} would peak "
                    f"at {20 * math.log10(p):+.1f} dBFS; the safety clip holds it at 0 dBFS (it will distort): "
                    "lower the song's mix, its routes' dB or [levels.outputs]"
                )
    return out


def cap_notes(show: Show) -> list[str]:
    """A note per source whose combined gain on an output (level x route x output level) is
    above +12 dB and is therefore capped."""
    out = []
    for song in show.playable:
        r, lv, _g = _song_gains(show.setlist, song)
        for src, o, want in capped_gains(r, lv):
            out.append(
                f"song {song.index + 1} {song.title!r}: {src} on output {show.setlist.outputs.describe(o)} "
                f"adds up to {want:+.1f} dB (level x route x output level); capped at +12 dB"
            )
    return out


_OCC = re.compile(r"^(.*?)\s*#\s*(\d+)$")


def jump_target_warning(target: str, songs: Sequence[PreparedSong]) -> str | None:
    """Why no song can jump to ``target`` (a section label, ``NAME #k`` or ``bar N``), or None
    when some song can."""
    t = " ".join(str(target).split())
    if not songs:
        return None
    m = re.fullmatch(r"bar\s+(\d+)", t, re.I)
    if m:
        n = int(m.group(1))
        if any(n <= s.n_bars for s in songs):
            return None
        return f"no song has a bar {n} (the longest has {max(s.n_bars for s in songs)} bars)"
    occ = 1
    mo = _OCC.match(t)
    if mo:
        t, occ = mo.group(1), int(mo.group(2))
    for s in songs:
        hits = [x for x in s.sections if x.label.lower() == t.lower()]
        if len(hits) >= occ:
            return None
    labels = ", ".join(dict.fromkeys(x.label for s in songs for x in s.sections))
    if any(x.label.lower() == t.lower() for s in songs for x in s.sections):
        return f"no song has section {t!r} {occ} times"
    return f"no song has a section {t!r}; sections: {labels}"


def midi_jump_warnings(show: Show) -> list[str]:
    """``[midi.map]`` / ``[midi.learned]`` jumps to a target no song has."""
    out = []
    for b in show.setlist.midi.bindings:
        cmd = b.command
        if cmd is None or cmd.action is not Action.JUMP or cmd.target is None:
            continue
        why = jump_target_warning(str(cmd.target), show.playable)
        if why:
            out.append(f"MIDI {b.trigger} -> {b.action!r}: {why}")
    return out
