"""The right spoken cue before a jump or a vamp loop.

A rendered cue stem says, in the bar before each section, the name of the section
written next. When the music will not go there (a jump is pending, a vamp loops back),
the engine fades that bar's cue out (:meth:`~backline.live.engine.Engine._shape_cues`)
and, when the render listed its cues (``render.json`` ``cues``; a chart song's cache),
says the name of the section the music *will* go to instead: the same recording, cut
from the cue stem where the render spoke it, ending as far before the downbeat as it
did there.

:class:`CueBank` holds those recordings for one song, read once when the engine is made
(never in the audio callback); :class:`CueClipPlayer` is the callback side: it decides,
block by block, whether a clip is due and mixes it into the cue rows, without allocating.

Rules (what a performer hears):

- The cue names the section the music goes to: the jump's target, or the vamped
  section itself at the end of every loop ("Chorus" before the chorus comes round
  again). A jump to a bar that starts no section says nothing.
- The plain name is preferred ("Chorus", not "Last time, Chorus"); a section that was
  never cued in the render (the first section, with no count-in) stays silent.
- A clip is only started whole: a jump asked for after the clip would have begun says
  nothing (a cue cut in half is no cue).
- When the plan changes while a clip speaks (the vamp is released, the jump cancelled),
  the clip fades out over the engine's cue fade (10 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backline.live.guide_cues import quiet_level
from backline.live.show import CueClip, PreparedSong
from backline.render.cues import section_phrase

__all__ = ["CueBank", "CueClipPlayer", "baked_starts", "load_cue_bank"]


@dataclass(frozen=True)
class CueBank:
    """One song's section cues: ``audio[i]`` (cue rows x frames) says ``labels[i]``, ending
    ``leads[i]`` frames before its downbeat; ``by_start`` maps a section's start frame to
    the clip that names it."""

    audio: tuple[np.ndarray, ...] = ()
    leads: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    by_start: dict[int, int] | None = None

    def clip_for(self, frame: int) -> int:
        """The clip naming the section that starts at song frame ``frame``, or -1."""
        return self.by_start.get(frame, -1) if self.by_start else -1


def _best(clips: Sequence[CueClip]) -> dict[str, CueClip]:
    """Per section label (case-insensitive), the clip to say: the plain name first, then
    the shortest."""
    best: dict[str, CueClip] = {}
    for c in clips:
        if not c.label:
            continue  # a key change said alone names no section
        key = c.label.lower()
        plain = c.text == section_phrase(c.label)
        old = best.get(key)
        if old is None:
            best[key] = c
            continue
        old_plain = old.text == section_phrase(old.label)
        if (plain, -(c.end - c.start)) > (old_plain, -(old.end - old.start)):
            best[key] = c
    return best


def load_cue_bank(song: PreparedSong, n_rows: int) -> tuple[CueBank, str | None]:
    """Read the song's section cues from its cue stem (``n_rows`` channels as the engine
    stages them). Returns the bank (empty when the song has no single cue stem or no cue
    list) and a note when the stem could not be read (the bank is then empty)."""
    cues = [s for s in song.sources if s.kind == "cues"]
    if not song.cue_clips or len(cues) != 1 or cues[0].channels != n_rows:
        return CueBank(), None
    src = cues[0]
    picked = _best(song.cue_clips)
    audio: list[np.ndarray] = []
    leads: list[int] = []
    labels: list[str] = []
    index: dict[str, int] = {}
    stale: list[str] = []
    try:
        import soundfile as sf

        edge = max(1, round(EDGE_S * song.sample_rate))
        with sf.SoundFile(str(src.path)) as f:
            for key, c in picked.items():
                a = max(0, c.start - edge)
                f.seek(a)
                data = f.read(c.end + edge - a, dtype="float32", always_2d=True)
                before, data, after = data[: c.start - a], data[c.start - a : c.end - a], data[c.end - a :]
                if not _lies_there(before, data, after):
                    stale.append(c.text)
                    continue
                index[key] = len(audio)
                audio.append(np.ascontiguousarray(data.T))
                leads.append(c.target - c.start - data.shape[0])
                labels.append(c.label)
    except (OSError, RuntimeError, ValueError) as exc:
        return CueBank(), f"{song.title}: the spoken cues cannot be read again for jumps ({exc})"
    by_start = {s.start: index[s.label.lower()] for s in song.sections if s.label.lower() in index}
    note = None
    if stale:
        note = (
            f"{song.title}: the cue list does not match the cue stem (no speech where it says "
            f"{', '.join(repr(t) for t in stale)}): those cues are not said before jumps; render again"
        )
    return CueBank(tuple(audio), tuple(leads), tuple(labels), by_start), note


#: How much of the stem on each side of a listed cue must be quiet (seconds).
EDGE_S = 0.005


def _lies_there(before: np.ndarray, speech: np.ndarray, after: np.ndarray) -> bool:
    """Whether a cue list entry points at a whole cue: speech inside, quiet on both sides
    (a stale list, written before the stems were rendered again, points elsewhere)."""
    if speech.shape[0] == 0 or not np.isfinite(speech).all():
        return False
    peak = float(np.abs(speech).max())
    if peak < 1e-3:
        return False
    quiet = quiet_level(peak)  # -34 dB under the cue's peak, at least -50 dBFS
    return all(x.shape[0] == 0 or float(np.abs(x).max()) < quiet for x in (before, after))


def baked_starts(song: PreparedSong) -> dict[int, int]:
    """Song frame of each downbeat a listed cue points at -> where the earliest such cue
    starts in the cue stem (a long cue starts before the bar it ends in)."""
    out: dict[int, int] = {}
    for c in song.cue_clips:
        out[c.target] = min(out.get(c.target, c.start), c.start)
    return out


class CueClipPlayer:
    """The audio-callback side: one clip at a time, scheduled against a break frame (a
    pending jump or the end of a vamp loop). ``fade`` is the fade-out length in frames;
    ``max_block`` the largest segment it is asked to mix."""

    def __init__(self, fade: int, max_block: int) -> None:
        self.fade = max(1, fade)
        self.clip = -1  # the clip speaking or due, in the current song's bank
        self.at = 0  # song frame where it starts
        self.brk = -1  # the break it announces
        self.stop = -1  # clip frame where its fade-out begins (-1: plays to its end)
        self._env = np.zeros(max_block, dtype=np.float32)
        self._buf = np.zeros(max_block, dtype=np.float32)
        self._arange = np.arange(max_block, dtype=np.float32)

    def reset(self) -> None:
        """The playhead moved (a jump, a loop, a new song): nothing is due."""
        self.clip = -1
        self.stop = -1

    def plan(self, bank: CueBank, pos: int, brk: int, target: int) -> None:
        """At song frame ``pos``, the music breaks off at ``brk`` to ``target`` (``brk`` < 0:
        it goes on to the next written bar). Schedule the clip that names ``target``'s
        section if it can still start whole; stop one that no longer applies."""
        want = bank.clip_for(target) if brk > 0 else -1
        if self.clip >= 0 and (self.brk != brk or self.clip != want):
            if pos <= self.at:
                self.clip = -1  # not begun: forget it
            elif self.stop < 0:
                self.stop = pos - self.at  # speaking: fade it out from here
        if self.clip < 0 and want >= 0:
            at = brk - bank.leads[want] - bank.audio[want].shape[1]
            if at >= pos:
                self.clip, self.at, self.brk, self.stop = want, at, brk, -1

    def mix(
        self, bank: CueBank, stage: np.ndarray, rows: Sequence[int], pos: int, off: int, seg: int
    ) -> None:
        """Add the clip's samples for song frames ``pos .. pos + seg`` into the cue ``rows``
        of ``stage`` at offset ``off``."""
        if self.clip < 0:
            return
        audio = bank.audio[self.clip]
        i0 = pos - self.at
        end = audio.shape[1] if self.stop < 0 else min(audio.shape[1], self.stop + self.fade)
        a, b = max(i0, 0), min(i0 + seg, end)
        if b > a:
            k = b - a
            d0 = off + a - i0
            env = None
            if self.stop >= 0:
                # gain (stop + fade - 1 - j) / fade for clip frame j, counted in whole
                # frames (exact, whatever the block), 0 from stop + fade - 1 on
                env = self._env[:k]
                np.subtract(float(self.stop + self.fade - 1 - a), self._arange[:k], out=env)
                np.clip(env, 0.0, float(self.fade), out=env)
                np.multiply(env, 1.0 / self.fade, out=env)
            for ch, r in enumerate(rows):
                dest = stage[r, d0 : d0 + k]
                if env is None:
                    np.add(dest, audio[ch, a:b], out=dest)
                else:
                    buf = self._buf[:k]
                    np.multiply(audio[ch, a:b], env, out=buf)
                    np.add(dest, buf, out=dest)
        if i0 + seg >= end:
            self.clip = -1
            self.stop = -1
