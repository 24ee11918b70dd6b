"""Spoken guide cues: section names before each section, numbers over the count-in.

The synthetic voice is espeak-ng (``espeak-ng --stdout TEXT``: a 22.05 kHz mono WAV),
resampled to the target rate. A folder of the user's own recordings (``voice_dir``)
replaces it for every phrase it has.

Conventions (documented choices):

- **Time origin.** As for the click (:mod:`backline.render.click`): the track starts
  with the count-in and the arrangement's first bar starts at ``count_in_seconds``.
- **Count-in.** Every pulse of every count-in bar is spoken in the first bar's meter
  ("one, two, three, four" in 4/4; "one, two, three" in 3/4; "one, two" in 6/8;
  "one, two, three" for 7/8 = 2+2+3). Each number's speech onset is on its beat.
  A number too long for its pulse is re-synthesised faster (up to 2.5x) and, if it
  still does not fit, faded out 20 ms before the next number.
- **Section cues.** A cue is spoken where a section starts: where the section label
  changes, or wherever the form lands on the first written bar of a section (a
  repeated verse, or two written choruses in a row, each get their cue). The speech ends ``gap`` before the downbeat,
  ``gap = max(min_gap_s, gap_beats * one quarter note)`` (0.15 s; half a quarter note),
  measured on the real speech (energy threshold), not the file length. The cue for
  the arrangement's first bar is not spoken while the count-in numbers are (they
  would talk over each other), nor when there is no count-in (no time before it).
- **Words.** Known section names are spoken as such ("Intro", "Verse", "Pre-chorus",
  "Chorus", "Bridge", "Solo", "Break", "Interlude", "Outro", "Coda", "Ending",
  "Tag", "Vamp"...), trailing numbers kept ("Verse 2"). Letter labels ("A", "B",
  "A1") become "A section", "B section", "A section 1" (a bare letter is too short to hear).
- **Last time.** "Last time" is said before the name of the section that starts the
  last time through (:func:`_last_time`): the earliest section start of the form (intro
  and outro/coda/ending/tag left out) from which the rest of the form repeats sections
  already played: the top of the last chorus, the last A of an AABA, the last verse
  before a closing Verse-Chorus. A section merely repeated inside one pass (the second
  A of AABC, a repeated intro) is not the last time.
- **Key change.** When a played bar's key (from the written bar) differs from the
  previous played bar's, "Key change" is said before it.
- **Fitting.** A cue that would start before the previous cue (or count-in number)
  has ended is re-synthesised faster; if it still does not fit it is skipped and
  listed in :attr:`CueTrack.skipped` (never dropped silently).
- **Voice folder.** A phrase is looked up as ``slug.wav`` (also ``.flac``, ``.ogg``,
  ``.aiff``), slug = lower case with spaces as ``_`` (``last_time.wav``,
  ``key_change.wav``, ``a_section.wav``, ``one.wav``); ``-`` and no separator are
  also tried, and digits for numbers (``1.wav``); names are matched ignoring case.
  Any sample rate, mono or stereo (mixed to mono).
- **Levels.** Every phrase is normalised to a peak of ``level_db`` dBFS.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from backline.arrange.events import Arrangement, PlanBar
from backline.errors import AudioInputError, DependencyMissingError, RenderError
from backline.render.click import count_in_seconds, half_time_count, meter_quarters, pulse_groups
from backline.util.slug import slug as file_slug

__all__ = [
    "Cue",
    "CueTrack",
    "NUMBER_WORDS",
    "SECTION_WORDS",
    "render_cues",
    "plan_cues",
    "section_phrase",
    "speak",
    "trim_speech",
    "espeak_available",
]

ESPEAK = "espeak-ng"
ESPEAK_RATE = 22050
DEFAULT_WPM = 175
MAX_SPEEDUP = 2.5
SPEECH_THRESHOLD_DB = -40.0
NUMBER_WORDS = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
SECTION_WORDS = {
    "intro": "Intro",
    "verse": "Verse",
    "prechorus": "Pre-chorus",
    "pre": "Pre-chorus",
    "chorus": "Chorus",
    "refrain": "Chorus",
    "hook": "Hook",
    "bridge": "Bridge",
    "solo": "Solo",
    "solos": "Solos",
    "break": "Break",
    "interlude": "Interlude",
    "instrumental": "Instrumental",
    "outro": "Outro",
    "coda": "Coda",
    "ending": "Ending",
    "end": "Ending",
    "tag": "Tag",
    "vamp": "Vamp",
    "head": "Head",
    "turnaround": "Turnaround",
    "postchorus": "Post-chorus",
    "breakdown": "Breakdown",
    "drop": "Drop",
}
_VOICE_EXTS = (".wav", ".flac", ".ogg", ".aiff", ".aif")


@dataclass(frozen=True, slots=True)
class Cue:
    """One spoken cue: its text, where the speech starts and ends, and the beat it points at.

    All times in seconds from the start of the cue track (count-in included).
    """

    text: str
    start_seconds: float
    end_seconds: float
    target_seconds: float
    kind: str = "section"  # "section" or "count"
    #: the section label the cue names (None: a count-in number, or a key change alone)
    section: str | None = None


@dataclass(frozen=True)
class CueTrack:
    """Rendered cues: mono float32 ``audio`` the same length as the click track."""

    audio: np.ndarray
    cues: tuple[Cue, ...]
    sample_rate: int
    count_in_seconds: float = 0.0
    skipped: tuple[str, ...] = ()


# --- words ------------------------------------------------------------------------------


def section_phrase(label: str) -> str | None:
    """The spoken name of a section label (None when there is nothing to say)."""
    text = re.sub(r"[^0-9A-Za-z' -]+", " ", label).strip()
    if not text:
        return None
    m = re.fullmatch(r"([A-Za-z])\s*'?\s*(\d*)", text)
    if m:
        return f"{m.group(1).upper()} section" + (f" {m.group(2)}" if m.group(2) else "")
    m = re.fullmatch(r"([A-Za-z][A-Za-z' -]*?)\s*(\d*)", text)
    if m:
        key = re.sub(r"[^a-z]", "", m.group(1).lower())
        if key in SECTION_WORDS:
            return SECTION_WORDS[key] + (f" {m.group(2)}" if m.group(2) else "")
    return text[:1].upper() + text[1:]


def _number_word(n: int) -> str:
    return NUMBER_WORDS[n - 1] if 1 <= n <= len(NUMBER_WORDS) else str(n)


# --- audio helpers --------------------------------------------------------------------


def trim_speech(x: np.ndarray, sample_rate: int, threshold_db: float = SPEECH_THRESHOLD_DB) -> np.ndarray:
    """Cut ``x`` to its speech: from the first to the last 1 ms frame whose RMS is within
    ``threshold_db`` of the loudest frame, with 1 ms / 5 ms fades inside. float32 out."""
    frame = max(1, int(0.001 * sample_rate))
    n = len(x) // frame
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    rms = np.sqrt(np.mean(x[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    peak = float(rms.max())
    if peak <= 0:
        return np.zeros(0, dtype=np.float32)
    loud = np.flatnonzero(rms >= peak * 10 ** (threshold_db / 20))
    y = x[loud[0] * frame : (loud[-1] + 1) * frame].astype(np.float32)
    fi, fo = min(len(y), int(0.001 * sample_rate)), min(len(y), int(0.005 * sample_rate))
    if fi:
        y[:fi] *= np.linspace(0.0, 1.0, fi, dtype=np.float32)
    if fo:
        y[len(y) - fo :] *= np.linspace(1.0, 0.0, fo, dtype=np.float32)
    return y


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x.astype(np.float32)
    from scipy.signal import resample_poly

    g = gcd(src, dst)
    return np.asarray(resample_poly(x.astype(np.float64), dst // g, src // g), dtype=np.float32)


def _normalise(x: np.ndarray, level_db: float) -> np.ndarray:
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0:
        return x
    return (x * (10 ** (level_db / 20) / peak)).astype(np.float32)


def espeak_available() -> bool:
    """True when the espeak-ng program is on the PATH."""
    return shutil.which(ESPEAK) is not None


_SPEECH_CACHE: dict[tuple[str, int, int, str], np.ndarray] = {}


def speak(text: str, sample_rate: int, *, wpm: int = DEFAULT_WPM, voice: str = "en") -> np.ndarray:
    """``text`` spoken by espeak-ng, trimmed to the speech, at ``sample_rate`` (float32, cached).

    Raises :class:`~backline.errors.DependencyMissingError` when espeak-ng is missing.
    """
    key = (text, sample_rate, wpm, voice)
    cached = _SPEECH_CACHE.get(key)
    if cached is not None:
        return cached
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise DependencyMissingError(
            f"spoken cues need espeak-ng, which is not installed (apt-get install espeak-ng), "
            f"or a voice folder with a recording of {text!r}"
        )
    import soundfile as sf

    # --stdout, not -w: no temporary file (espeak-ng's -w also seeks far past the end
    # of its file, which fails under a file-size limit)
    proc = subprocess.run(
        [exe, "-v", voice, "-s", str(wpm), "--stdout", "--", text],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if proc.returncode != 0 or len(proc.stdout) <= 44:
        why = proc.stderr.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        if proc.returncode < 0:
            import signal

            why = f"killed by {signal.Signals(-proc.returncode).name} ({why})"
        raise RenderError(f"espeak-ng failed to say {text!r}: {why}")
    try:
        data, rate = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise RenderError(f"espeak-ng gave unreadable audio for {text!r}: {exc}") from exc
    mono = data.mean(axis=1)
    y = trim_speech(_resample(mono, int(rate), sample_rate), sample_rate)
    y.setflags(write=False)
    _SPEECH_CACHE[key] = y
    return y


class _Voice:
    """Finds each phrase in the user's folder first, then asks espeak-ng."""

    def __init__(self, sample_rate: int, voice_dir: Path | None, espeak_voice: str) -> None:
        self.sr = sample_rate
        self.dir = voice_dir
        self.espeak_voice = espeak_voice
        self._user: dict[str, np.ndarray | None] = {}
        self._files: dict[str, Path] = {}
        if voice_dir is not None:
            if not voice_dir.is_dir():
                raise AudioInputError(f"{voice_dir}: voice folder not found")
            for f in sorted(voice_dir.iterdir()):
                if f.is_file() and f.suffix.lower() in _VOICE_EXTS:
                    self._files.setdefault(f.stem.casefold(), f)

    def user_file(self, phrase: str) -> Path | None:
        """The user's recording of ``phrase`` (file names matched case-insensitively)."""
        slug = file_slug(phrase, lower=True, fallback="")
        names = [slug, slug.replace("_", "-"), slug.replace("_", " "), slug.replace("_", "")]
        if phrase in NUMBER_WORDS:
            names.append(str(NUMBER_WORDS.index(phrase) + 1))
        for name in names:
            if name in self._files:
                return self._files[name]
        return None

    def has_user(self, phrase: str) -> bool:
        return self.user_file(phrase) is not None

    def clip(self, phrase: str, speed: float = 1.0) -> tuple[np.ndarray, bool]:
        """(trimmed clip, whether it came from the user's folder)."""
        if phrase not in self._user:
            path = self.user_file(phrase)
            self._user[phrase] = None if path is None else self._load(path)
        user = self._user[phrase]
        if user is not None:
            return user, True
        return speak(phrase, self.sr, wpm=round(DEFAULT_WPM * speed), voice=self.espeak_voice), False

    def _load(self, path: Path) -> np.ndarray:
        import soundfile as sf

        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except Exception as exc:  # soundfile raises several types for bad files
            raise AudioInputError(f"{path}: cannot read cue sample ({exc})") from exc
        y = trim_speech(_resample(data.mean(axis=1), int(rate), self.sr), self.sr)
        if len(y) == 0:
            raise AudioInputError(f"{path}: cue sample is silent")
        return y


# --- planning -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Planned:
    phrases: tuple[str, ...]
    target: float  # seconds in the track
    gap: float
    kind: str


def _section_starts(arr: Arrangement) -> list[int]:
    heads: set[int] = set()
    i = 0
    for sec in arr.song.sections:
        heads.add(i)
        i += len(sec.bars)
    starts: list[int] = []
    prev: PlanBar | None = None
    for k, pb in enumerate(arr.bars):
        new_label = prev is None or pb.section != prev.section
        if new_label or (pb.written_bar is not None and pb.written_bar in heads):
            starts.append(k)
        prev = pb
    return starts


_FRAME_WORDS = ("intro", "outro", "coda", "ending", "end", "tag", "fine")


def _last_time(arr: Arrangement, starts: list[int], labels: list[str]) -> int | None:
    """The played bar that starts the last time through: the earliest section start of
    the form (written bars, intro and outro/coda/ending/tag left out) from which the rest
    of the form repeats a run of sections already played. AABA twice: the second top;
    AABA once: the last A; a blues of three choruses: the third; Verse Chorus Verse
    Chorus Outro: the second verse; AABC once (Autumn Leaves): none, since the second A
    is followed by B and C for the first time."""
    form = [
        (k, label)
        for k, label in zip(starts, labels, strict=True)
        if arr.bars[k].written_bar is not None
        and not label.strip().lower().rstrip("0123456789 ").startswith(_FRAME_WORDS)
    ]
    tokens = [label for _, label in form]
    for j in range(1, len(tokens)):
        rest = tokens[j:]
        n = len(rest)
        if any(tokens[i : i + n] == rest for i in range(0, j - n + 1)):
            return form[j][0]
    return None


def _key_changes(arr: Arrangement) -> set[int]:
    written = arr.song.bars
    out: set[int] = set()
    prev_key = None
    for k, pb in enumerate(arr.bars):
        key = None
        if pb.written_bar is not None and 0 <= pb.written_bar < len(written):
            key = written[pb.written_bar].key
        if key is not None:
            if prev_key is not None and (key.tonic.pc, key.mode) != (prev_key.tonic.pc, prev_key.mode):
                out.add(k)
            prev_key = key
    return out


def plan_cues(
    arr: Arrangement,
    *,
    count_in_bars: int | None = None,
    count: bool = True,
    sections: bool = True,
    min_gap_s: float = 0.15,
    gap_beats: float = 0.5,
) -> list[tuple[tuple[str, ...], float, float, str]]:
    """What will be said and when: ``(phrases, target seconds, gap seconds, kind)`` in time order.

    ``kind`` is ``"count"`` (speech starts on the target) or ``"section"`` (speech ends
    ``gap`` before the target).
    """
    return [p[:4] for p in _plan(arr, count_in_bars, count, sections, min_gap_s, gap_beats)]


_Plan = tuple[tuple[str, ...], float, float, str, str | None]


def _plan(
    arr: Arrangement,
    count_in_bars: int | None,
    count: bool,
    sections: bool,
    min_gap_s: float,
    gap_beats: float,
) -> list[_Plan]:
    """:func:`plan_cues` with the section label each cue names (None: a number, a key change alone)."""
    offset = count_in_seconds(arr, count_in_bars)
    out: list[_Plan] = []
    if not arr.bars:
        return out
    first = arr.bars[0]
    counting = count and offset > 0
    if counting:
        groups = pulse_groups(first.numerator, first.denominator)
        unit = 4 / first.denominator * 60.0 / first.tempo
        bar_s = meter_quarters(first) * 60.0 / first.tempo
        n_bars = round(offset / bar_s)
        for b in range(n_bars):
            pos = b * bar_s
            half = half_time_count(first, n_bars, b)
            for i, g in enumerate(groups):
                if not (half and i % 2):
                    out.append(((_number_word(i // 2 + 1 if half else i + 1),), pos, 0.0, "count", None))
                pos += g * unit
    if not sections:
        return out
    starts = _section_starts(arr)
    changes = _key_changes(arr)
    labels = [arr.bars[k].section for k in starts]
    cue_bars = sorted(set(starts) | changes)
    tm = arr.tempo_map
    last_time = _last_time(arr, starts, labels)
    for k in cue_bars:
        if k == 0 and (counting or offset <= 0):
            continue  # the count-in numbers are spoken there, or there is no time before it
        phrases: list[str] = []
        named: str | None = None
        if k == last_time:
            phrases.append("Last time")
        if k in changes:
            phrases.append("Key change")
        if k in starts:
            name = section_phrase(arr.bars[k].section)
            if name:
                phrases.append(name)
                named = arr.bars[k].section
        if not phrases:
            continue
        beat = arr.bars[k].start_beat
        target = offset + tm.seconds_at(beat)
        spq = tm.seconds_at(beat) - tm.seconds_at(beat - 1.0) if beat >= 1.0 else 60.0 / first.tempo
        gap = max(min_gap_s, gap_beats * spq)
        out.append((tuple(phrases), target, gap, "section", named))
    out.sort(key=lambda c: c[1])
    return out


# --- rendering ------------------------------------------------------------------------

_PHRASE_GAP_S = 0.06
_COUNT_GAP_S = 0.02  # silence kept before the next count-in number


def _say(voice: _Voice, phrases: Iterable[str], speed: float) -> tuple[np.ndarray, bool]:
    parts: list[np.ndarray] = []
    all_user = True
    gap = np.zeros(int(_PHRASE_GAP_S * voice.sr), dtype=np.float32)
    for i, p in enumerate(phrases):
        clip, user = voice.clip(p, speed)
        all_user &= user
        if i:
            parts.append(gap)
        parts.append(clip)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32), all_user


def render_cues(
    arr: Arrangement,
    sample_rate: int,
    *,
    count_in_bars: int | None = None,
    voice_dir: str | Path | None = None,
    level_db: float = -6.0,
    count: bool = True,
    sections: bool = True,
    min_gap_s: float = 0.15,
    gap_beats: float = 0.5,
    espeak_voice: str = "en",
) -> CueTrack:
    """Render the spoken cues of ``arr`` as mono float32 audio (same length as the click).

    Raises :class:`~backline.errors.DependencyMissingError` when espeak-ng is missing
    and ``voice_dir`` does not cover every phrase, and
    :class:`~backline.errors.AudioInputError` for an unreadable voice sample.
    """
    if sample_rate <= 0:
        raise RenderError(f"sample rate must be positive, not {sample_rate}")
    offset = count_in_seconds(arr, count_in_bars)
    total = round((offset + arr.duration_seconds) * sample_rate)
    audio = np.zeros(total, dtype=np.float32)
    plan = _plan(arr, count_in_bars, count, sections, min_gap_s, gap_beats)
    voice = _Voice(sample_rate, Path(voice_dir) if voice_dir is not None else None, espeak_voice)
    missing = sorted({p for phrases, *_ in plan for p in phrases if not voice.has_user(p)})
    if missing and not espeak_available():
        raise DependencyMissingError(
            "spoken cues need espeak-ng (apt-get install espeak-ng) or recordings of "
            + ", ".join(repr(m) for m in missing)
            + (f" in {voice_dir}" if voice_dir is not None else " in a voice folder")
        )
    cues: list[Cue] = []
    skipped: list[str] = []
    busy_until = 0.0  # end of the previous speech, seconds
    count_targets = [t for _, t, _, kind, _ in plan if kind == "count"]
    fade = max(1, int(0.005 * sample_rate))
    for phrases, target, gap, kind, named in plan:
        text = ", ".join(phrases)
        if kind == "count":
            nxt = [t for t in count_targets if t > target + 1e-9]
            room = (nxt[0] if nxt else offset) - target
            clip, user = _say(voice, phrases, 1.0)
            if len(clip) / sample_rate > room * 0.95 and not user:
                speed = min(MAX_SPEEDUP, len(clip) / sample_rate / (room * 0.9))
                clip, user = _say(voice, phrases, speed)
            start_s = round(target * sample_rate)
            limit = max(0, round((target + room - _COUNT_GAP_S) * sample_rate) - start_s)
            clip = _normalise(clip, level_db)
            if len(clip) > limit:
                clip = clip[:limit].copy()
                f = min(fade, limit)
                if f:
                    clip[limit - f :] *= np.linspace(1.0, 0.0, f, dtype=np.float32)
        else:
            end_target = target - gap
            room = end_target - busy_until - 0.05
            clip, user = _say(voice, phrases, 1.0)
            speed = 1.0
            # espeak's length is not proportional to its speed: ask again, up to the limit
            for _ in range(3):
                if len(clip) / sample_rate <= room or user or room <= 0 or speed >= MAX_SPEEDUP:
                    break
                speed = min(MAX_SPEEDUP, speed * len(clip) / sample_rate / room * 1.05)
                clip, user = _say(voice, phrases, speed)
            if len(clip) / sample_rate > room:
                skipped.append(
                    f"cue {text!r} at {target:.3f} s skipped: {len(clip) / sample_rate:.2f} s of speech "
                    f"does not fit in {max(room, 0.0):.2f} s"
                )
                continue
            end_s = round(end_target * sample_rate)
            start_s = end_s - len(clip)
            clip = _normalise(clip, level_db)
        end_s = min(total, start_s + len(clip))
        if end_s <= start_s:
            continue
        audio[start_s:end_s] += clip[: end_s - start_s]
        busy_until = end_s / sample_rate
        cues.append(Cue(text, start_s / sample_rate, end_s / sample_rate, target, kind, named))
    return CueTrack(audio, tuple(cues), sample_rate, offset, tuple(skipped))
