"""The analysis of one recording: tempo, beats, downbeats, meter, key, chords, sections."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backline.audio.analyze.features import (
    ONSET_HOP,
    PITCH_HOP,
    SR,
    Features,
    extract_features,
    features_from_array,
)
from backline.errors import AudioInputError

__all__ = ["Segment", "Analysis", "analyze_file", "analyze_array", "analyze_features", "estimate_tempo"]

SILENCE_PEAK = 10 ** (-70 / 20)
MIN_SECONDS_FOR_TEMPO = 3.0
#: Off-beat check by harmony: when the off-beats are this loud against the beats or
#: louder (:func:`backline.audio.analyze.beats.offbeat_contrast`, a log ratio), the grid
#: moved by half a beat is tried, and taken when its beats fit one chord each better by
#: at least :data:`PHASE_FIT_GAIN` (:func:`backline.audio.analyze.chords.chord_fit`).
#: On the evaluation sets: the funk grooves and two bossas tracked on the off-beat
#: scored -0.5 to -0.1 and gained 0.024-0.030; no correctly tracked song scoring above
#: -1.0 gained more than 0.006, and those that gain more (waltzes, two-beat country,
#: shuffles, whose chords sound on the off-beat) score -2 and lower.
OFFBEAT_GATE = -1.0
PHASE_FIT_GAIN = 0.015
#: The music has stopped on the last beats whose energy is below this share of the
#: median beat's (a reverb tail, the end of a fade): they hold no chord.
TAIL_ENERGY = 0.1


@dataclass(frozen=True, slots=True)
class Segment:
    """A labelled span in seconds (a chord or a section)."""

    start: float
    end: float
    label: str

    def as_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 4), "end": round(self.end, 4), "label": self.label}


@dataclass(frozen=True)
class Analysis:
    """What the analyser found. ``key`` is in mir_eval's form (``"Bb major"``, ``"X"`` unknown):
    the home key, where the song starts; ``keys`` spans the song with its keys, a second
    one when it modulates up to the end (a last chorus a step higher); ``key_candidates``
    the likeliest home keys with their probabilities, ``key`` first (empty when no chord
    was heard), so that a close second is shown, not hidden. Chord labels are
    Harte (``"A:min7"``, ``"N"``). ``beat_chords`` holds the label of every beat (used to
    write a chart). ``confidence`` (0..1) is low when the beat is weak. ``a4_hz`` is the
    recording's concert pitch (440.0 when it is at standard pitch)."""

    duration: float
    tempo: float
    beats: tuple[float, ...]
    downbeats: tuple[float, ...]
    time_signature: tuple[int, int]
    key: str
    chords: tuple[Segment, ...]
    sections: tuple[Segment, ...]
    confidence: float
    tempo_curve: tuple[tuple[float, float], ...] = ()
    beat_chords: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    a4_hz: float = 440.0
    keys: tuple[Segment, ...] = ()
    key_candidates: tuple[tuple[str, float], ...] = ()

    @property
    def tuning_cents(self) -> float:
        """The concert pitch's distance from A = 440 Hz in cents."""
        return 1200.0 * float(np.log2(self.a4_hz / 440.0))

    def as_json(self) -> dict[str, Any]:
        """The documented JSON (``backline audio analyze --json``)."""
        return {
            "duration": round(self.duration, 4),
            "tempo": round(self.tempo, 3),
            "beats": [round(b, 4) for b in self.beats],
            "downbeats": [round(b, 4) for b in self.downbeats],
            "time_signature": list(self.time_signature),
            "key": self.key,
            "keys": [k.as_json() for k in self.keys],
            "key_candidates": [{"key": k, "p": round(p, 3)} for k, p in self.key_candidates],
            "chords": [c.as_json() for c in self.chords],
            "sections": [s.as_json() for s in self.sections],
            "confidence": round(self.confidence, 3),
            "tempo_curve": [[t, b] for t, b in self.tempo_curve],
            "a4_hz": round(self.a4_hz, 2),
            "warnings": list(self.warnings),
        }


def _segments(times: list[float], labels: list[str], end: float) -> tuple[Segment, ...]:
    """Merge runs of equal labels; ``times`` are the starts, the last span ends at ``end``."""
    out: list[Segment] = []
    for i, (t, lab) in enumerate(zip(times, labels, strict=True)):
        stop = min(times[i + 1], end) if i + 1 < len(times) else end
        if stop <= t:
            continue
        if out and out[-1].label == lab:
            out[-1] = Segment(out[-1].start, stop, lab)
        else:
            out.append(Segment(t, stop, lab))
    return tuple(out)


def _silent(feat: Features, warnings: list[str]) -> Analysis:
    d = feat.duration
    return Analysis(
        duration=d,
        tempo=0.0,
        beats=(),
        downbeats=(),
        time_signature=(4, 4),
        key="X",
        chords=(Segment(0.0, d, "N"),) if d > 0 else (),
        sections=(Segment(0.0, d, "A"),) if d > 0 else (),
        confidence=0.0,
        warnings=tuple(warnings),
    )


def analyze_features(feat: Features) -> Analysis:
    """Analyse extracted features (see :func:`analyze_file`)."""
    from backline.audio.analyze.bar_phase import beat_cues, check_bar_phase
    from backline.audio.analyze.beats import (
        beat_attacks,
        beat_chroma,
        downbeat_evidence,
        find_meter,
        half_beat_later,
        offbeat_contrast,
        track_beats,
    )
    from backline.audio.analyze.chords import (
        CHORD_STATES,
        HARMONY_PRIOR_WEIGHT,
        HARMONY_TRANSITION_WEIGHT,
        chord_change_curve,
        chord_chromas,
        chord_fit,
        chromas_scores,
        decode_chords,
        decode_chords_and_bars,
        is_noise,
        power_chords,
    )
    from backline.audio.analyze.drum_tones import without_drum_tones
    from backline.audio.analyze.harte import harte_label
    from backline.audio.analyze.key import (
        find_modulation,
        key_name,
        key_of_scores,
        key_posterior,
        key_scores,
        likeliest_keys,
        without_modulation,
    )
    from backline.audio.analyze.sections import bar_onset_patterns, fill_strength, segment_bars
    from backline.model.harmony import default_model

    warnings: list[str] = list(feat.warnings)
    d = feat.duration
    if feat.peak < SILENCE_PEAK:
        return _silent(feat, [*warnings, "the file is silent: nothing to analyse"])
    if d < MIN_SECONDS_FOR_TEMPO:
        warnings.append(f"only {d:.1f} s of audio: tempo and beats are unreliable")
    br = track_beats(feat)
    beats = br.beats
    steady = br.tempo > 0 and len(beats) >= 4
    if not steady:
        warnings.append("no steady beat found: chords are given on a 0.5 s grid, no tempo")
        beats_for_chords = np.arange(0.0, max(d, 0.5), 0.5)
    else:
        beats_for_chords = beats
        if br.confidence < 0.3:
            warnings.append(f"the beat is weak (confidence {br.confidence:.2f}): check the tempo")
    # Chroma per beat (plus the span before the first beat), drum tones taken off.
    pitch_beats = without_drum_tones(beat_chroma(feat, beats_for_chords))
    noise = is_noise(feat.pitch, SR / PITCH_HOP)
    cc = chord_chromas(pitch_beats)
    full = chromas_scores(cc)
    if steady and offbeat_contrast(feat, beats) >= OFFBEAT_GATE:
        # A syncopated groove: the onsets cannot tell the beat from the off-beat, so the
        # harmony decides (chords change on beats, so on the right grid each beat holds
        # one chord).
        later = half_beat_later(beats, d)
        cc_later = chord_chromas(without_drum_tones(beat_chroma(feat, later)))
        full_later = chromas_scores(cc_later)
        if chord_fit(full_later) - chord_fit(full) >= PHASE_FIT_GAIN:
            beats = beats_for_chords = later
            cc, full = cc_later, full_later
    treble = cc.treble
    bass_time = cc.bass.sum(axis=1)
    if steady:
        meter = find_meter(feat, beats, chord_change_curve(treble))
        accent = downbeat_evidence(feat, beats)
        path, bar_pos = decode_chords_and_bars(full, meter, accent)
        states = [CHORD_STATES[i] for i in path]
        # Second pass in the key the first pass found, with the harmony model's chord
        # prior and chord-change probabilities (learned from charts).
        ks, _ = key_scores(_chord_tone_histogram(states), states, bass=bass_time)
        hm, k = default_model(), key_posterior(ks)
        prior = HARMONY_PRIOR_WEIGHT * hm.chord_prior(k, CHORD_STATES)
        moves = HARMONY_TRANSITION_WEIGHT * hm.transitions(k, CHORD_STATES)
        path, bar_pos = decode_chords_and_bars(full + prior[:, None], meter, accent, transitions=moves)
        if meter == 4:  # beat one or beat three: the bar's whole pattern decides
            bar_pos = check_bar_phase(bar_pos, beat_cues(*beat_attacks(feat, beats), accent, treble))
        states = [CHORD_STATES[i] for i in path]
        db_idx = np.flatnonzero(bar_pos == 0)
    else:
        meter, db_idx = 4, np.zeros(0, dtype=int)
        states, _ = decode_chords(treble, cc.bass, cc.energy, None, notes=cc.notes, tonality=cc.tonality)
    states = power_chords(_tail_without_chords(states, cc.energy), cc.notes)
    # A lift to the end (a last chorus a step up) is read back in the home key.
    modulation = find_modulation(states)
    home = without_modulation(states, modulation)
    home_scores = key_scores(_chord_tone_histogram(home), home, bass=bass_time)
    key, key_conf = key_of_scores(*home_scores)
    candidates = likeliest_keys(*home_scores)
    lift_at, lifted = len(states), key
    if modulation is not None:
        lift_at = modulation[0]
        lifted = key_name((key.tonic.pc + modulation[1]) % 12, key.mode)
    labels = [
        "N" if q == "N" else harte_label(r, q, key if i < lift_at else lifted)
        for i, (r, q) in enumerate(states)
    ]
    times = [float(t) for t in beats_for_chords]
    if times and times[0] > 0.05:
        times, labels_all = [0.0] + times, ["N"] + labels
    else:
        labels_all = labels
        if times:
            times[0] = 0.0
    last_end = d
    chords = _segments(times, labels_all, last_end)
    # Sections from bars.
    downbeats = beats[db_idx] if steady else np.zeros(0)
    sections: tuple[Segment, ...]
    if len(downbeats) >= 8:
        timbre, chroma = _bar_features(feat, downbeats, d, treble, beats)
        fill = fill_strength(bar_onset_patterns(feat.onset, ONSET_HOP / SR, beats, db_idx))
        bar_chords = [states[a:b] for a, b in itertools.pairwise([*db_idx.tolist(), len(states)])]
        starts, sec_labels = segment_bars(timbre, chroma, fill, bar_chords)
        st = [0.0] + [float(downbeats[s]) for s in starts[1:]]
        # one segment per section, even where two in a row share a label (A A B A)
        sections = tuple(Segment(a, b, lab) for a, b, lab in zip(st, [*st[1:], d], sec_labels, strict=True))
    else:
        sections = (Segment(0.0, d, "A"),)
    keys: tuple[Segment, ...] = (Segment(0.0, d, key.mir_eval),)
    if modulation is not None:
        at = float(beats_for_chords[lift_at])
        keys = (Segment(0.0, at, key.mir_eval), Segment(at, d, lifted.mir_eval))
    conf = br.confidence if steady else 0.0
    if d < MIN_SECONDS_FOR_TEMPO:
        conf = min(conf, 0.3)
    if noise:  # no pitched sound: a key and chords read from it would be made up
        warnings.append("no pitched sound found (noise?): no key or chords")
        key_text, keys, candidates, chords = "X", (), (), (Segment(0.0, d, "N"),)
        labels = ["N"] * len(labels)
    else:
        key_text = key.mir_eval
    if key_conf < 0.35 and steady and not noise:
        odds = ", ".join(f"{k.mir_eval} {p:.0%}" for k, p in candidates)
        warnings.append(f"the key is ambiguous ({odds})" if len(candidates) > 1 else "the key is ambiguous")
    return Analysis(
        duration=d,
        tempo=float(br.tempo) if steady else 0.0,
        # a beat tracked past the last sample (a frame's rounding) is not in the file
        beats=tuple(float(b) for b in beats if b <= d) if steady else (),
        downbeats=tuple(float(b) for b in downbeats if b <= d),
        time_signature=(meter, 4),
        key=key_text,
        chords=chords,
        sections=sections,
        confidence=float(conf),
        tempo_curve=tuple(br.tempo_curve),
        beat_chords=tuple(labels) if steady else (),
        warnings=tuple(warnings),
        a4_hz=feat.a4_hz,
        keys=keys,
        key_candidates=tuple((k.mir_eval, p) for k, p in candidates),
    )


def _tail_without_chords(states: list[tuple[int, str]], energy: np.ndarray) -> list[tuple[int, str]]:
    """``states`` with the trailing beats quieter than :data:`TAIL_ENERGY` times the
    median beat set to no chord: the reverb of the last chord, decaying over beats
    tracked past the end, is not a chord (it had read as E major after Eb7, and the
    key classifier reads the last chord as the likeliest tonic)."""
    if len(energy) == 0:
        return states
    quiet = np.asarray(energy) < TAIL_ENERGY * float(np.median(energy))
    end = len(states)
    while end > 0 and quiet[end - 1]:
        end -= 1
    return states[:end] + [(-1, "N")] * (len(states) - end)


def _chord_tone_histogram(states: list[tuple[int, str]]) -> np.ndarray:
    """How often each pitch class is a chord tone (roots count double). Built from the
    decoded chords rather than raw chroma, whose harmonics pull the key a fifth up."""
    from backline.audio.analyze.harte import POWER_INTERVALS, POWER_QUALITY, QUALITY_INTERVALS

    h = np.zeros(12)
    for r, q in states:
        if r < 0:
            continue
        for j, iv in enumerate(POWER_INTERVALS if q == POWER_QUALITY else QUALITY_INTERVALS[q]):
            h[(r + iv) % 12] += 2.0 if j == 0 else 1.0
    return h


def _bar_features(
    feat: Features, downbeats: np.ndarray, d: float, treble: np.ndarray, beats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(timbre (13, bars), chroma (12, bars)): each bar's mean MFCC 1-13 (standardised
    over the song) and mean treble chroma."""
    bounds = np.append(downbeats, d)
    mf = feat.mfcc[1:14]
    mf = (mf - mf.mean(axis=1, keepdims=True)) / (mf.std(axis=1, keepdims=True) + 1e-9)
    n = mf.shape[1]
    tim, chrom = [], []
    for a, b in itertools.pairwise(bounds):
        fa, fb = int(a * SR / PITCH_HOP), max(int(a * SR / PITCH_HOP) + 1, int(b * SR / PITCH_HOP))
        fa, fb = min(fa, n - 1), min(fb, n)
        tim.append(mf[:, fa:fb].mean(axis=1) if fb > fa else np.zeros(13))
        bi = (beats >= a - 1e-6) & (beats < b - 1e-6)
        chrom.append(treble[:, bi].mean(axis=1) if bi.any() else np.zeros(12))
    return np.array(tim).T, np.array(chrom).T


def analyze_file(path: str | os.PathLike[str]) -> Analysis:
    """Analyse an audio file (streamed at 22.05 kHz mono: memory stays bounded).

    Raises :class:`~backline.errors.AudioInputError` for a file that is not readable
    audio; silence, a very short clip or a file without a steady beat give a result
    with a low ``confidence`` and a warning, never an exception.
    """
    return analyze_features(extract_features(path))


def analyze_array(y: np.ndarray, sample_rate: int) -> Analysis:
    """Analyse an in-memory signal (mono or ``(channels, samples)``)."""
    if sample_rate <= 0:
        raise AudioInputError(f"sample rate must be positive, not {sample_rate}")
    return analyze_features(features_from_array(y, sample_rate))


def estimate_tempo(source: str | os.PathLike[str] | Features, *, name: str | None = None) -> float:
    """The tempo of an audio file (or of its extracted features) in BPM;
    AudioInputError when no steady beat is found, naming ``name`` (by default the path)."""
    a = analyze_tempo_only(source)
    if a <= 0:
        where = name or ("the audio" if isinstance(source, Features) else str(source))
        raise AudioInputError(f"{where}: no steady beat found; give the tempo as a ratio (--tempo)")
    return a


def measure_a4(source: str | os.PathLike[str] | Features) -> float:
    """The concert pitch of an audio file or of its extracted features (A4 in Hz; 440.0
    when no tuning stands out)."""
    return _features(source).a4_hz


def analyze_tempo_only(source: str | os.PathLike[str] | Features) -> float:
    from backline.audio.analyze.beats import track_beats

    feat = _features(source)
    if feat.peak < SILENCE_PEAK:
        return 0.0
    br = track_beats(feat)
    return br.tempo if len(br.beats) >= 4 else 0.0


def _features(source: str | os.PathLike[str] | Features) -> Features:
    return source if isinstance(source, Features) else extract_features(source)
