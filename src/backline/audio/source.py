"""Measures of a source for ``audio shift``: its tempo (``--bpm``) and concert pitch
(``--a4``), from one file or a folder of stems.

In a folder the tempo is read from a click stem, else a drum stem, else a mono mixdown
of all stems (:func:`mixdown`, streamed: memory stays bounded for an hour of stems); the
concert pitch from the first stem that is not a click or cue track. One feature
extraction per file serves both (``--a4`` with ``--bpm`` reads a file once).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from backline.errors import AudioInputError

if TYPE_CHECKING:
    from backline.audio.analyze.features import Features

__all__ = ["SourceMeasures", "first_stem", "mixdown", "tempo_source"]


def tempo_source(src: Path) -> tuple[Path | None, str]:
    """Which file the source tempo is read from: the file itself; in a folder a click stem,
    else a drum stem, else ``None`` (a mixdown of all stems), with words for the user."""
    from backline.audio.shift import is_click_or_cue, stem_files

    if src.is_file():
        return src, src.name
    stems = stem_files(src)
    if not stems:
        raise AudioInputError(f"{src}: no audio files")
    clicks = [p for p in stems if is_click_or_cue(p) and _is_click_name(p)]
    if clicks:
        return clicks[0], clicks[0].name
    drums = [p for p in stems if _is_drum_name(p)]
    if drums:
        return drums[0], drums[0].name
    if len(stems) == 1:
        return stems[0], stems[0].name
    return None, f"a mix of the {len(stems)} stems"


_DRUM_NAMES = {"drum", "drums", "drumkit", "kit", "perc", "percussion", "beat", "beats", "loop", "loops"}


def _is_click_name(p: Path) -> bool:
    from backline.util.stem_names import is_click_name

    return is_click_name(p)


def _is_drum_name(p: Path) -> bool:
    from backline.util.stem_names import name_tokens

    return bool(name_tokens(p) & _DRUM_NAMES)


def first_stem(src: Path, *, music: bool = False) -> Path:
    """The file itself, or a folder's first stem (with ``music``, the first that is not a
    click or cue track, when there is one)."""
    from backline.audio.shift import is_click_or_cue, stem_files

    if src.is_file():
        return src
    stems = stem_files(src)
    if not stems:
        raise AudioInputError(f"{src}: no audio files")
    tonal = [p for p in stems if not is_click_or_cue(p)] if music else []
    return (tonal or stems)[0]


def mixdown(folder: Path, dst: Path) -> Path:
    """All stems of ``folder`` summed to mono (at the first stem's rate) into ``dst``,
    streamed block by block (memory stays bounded for an hour of stems): one pass for the
    peak, one to write, scaled under full scale when the sum goes over it."""
    from backline.audio.io import iter_blocks, open_writer, probe
    from backline.audio.shift import stem_files

    stems = stem_files(folder)
    sr = probe(stems[0]).sample_rate
    same = [p for p in stems if probe(p).sample_rate == sr]

    def mixed() -> Iterator[np.ndarray]:
        for blocks in itertools.zip_longest(*(iter_blocks(p) for p in same)):
            parts = [b.mean(axis=0) for b in blocks if b is not None]
            mix = np.zeros(max(x.size for x in parts), np.float32)
            for x in parts:
                mix[: x.size] += x
            yield mix

    peak = max((float(np.max(np.abs(m))) for m in mixed() if m.size), default=0.0)
    with open_writer(dst, sr, 1, "float") as write:
        for mix in mixed():
            if peak > 1.0:
                mix /= peak
            write(mix[None])
    return dst


class SourceMeasures:
    """The source's tempo and concert pitch, from one feature extraction per stem file
    (``--a4`` with ``--bpm`` on one file reads it once)."""

    def __init__(self, src: Path) -> None:
        self.src = src
        self._features: dict[Path, Features] = {}

    def _of(self, path: Path, option: str, instead: str) -> Features:
        if path not in self._features:
            try:  # librosa is imported on first use
                from backline.audio.analyze.features import extract_features

                self._features[path] = extract_features(path)
            except ImportError:
                raise AudioInputError(
                    f"{option} needs the analysis extra (pip install 'backline[analysis]'); use {instead}"
                ) from None
        return self._features[path]

    def tempo(self) -> tuple[float, str]:
        """The source tempo and where it was read (a click stem, else drums, else a mix)."""
        from backline.audio.analyze import estimate_tempo

        path, words = tempo_source(self.src)
        if path is None:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                mix = mixdown(self.src, Path(tmp) / "mix.wav")
                feat = self._of(mix, "--bpm", "--tempo RATIO")
                return float(estimate_tempo(feat, name=words)), words
        feat = self._of(path, "--bpm", "--tempo RATIO")
        return float(estimate_tempo(feat, name=str(path))), words

    def a4(self) -> float:
        feat = self._of(first_stem(self.src, music=True), "--a4", "--semitones")
        from backline.audio.analyze import measure_a4

        return float(measure_a4(feat))
