"""Finding, validating and choosing SoundFonts, part by part.

Default sounds (all from Debian packages, nothing is ever downloaded):

- melodic parts: MuseScore General (``musescore-general-soundfont``, sf3), falling back
  to FluidR3_GM (``fluid-soundfont-gm``), then any ``.sf2``/``.sf3`` under
  ``/usr/share/sounds``, then TimGM6mb shipped inside the pretty_midi wheel;
- drums: the AVL Drumkits (``avldrums.lv2-soundfont``), a multi-velocity acoustic kit.
  Its single preset maps kit pieces to keys 36-61, close to but not General MIDI: the
  notes are remapped through :data:`AVL_GM_MAP`; GM drum notes it lacks (congas,
  timbales, ...) are played by the GM fallback font's standard kit on the same stem.

``$BACKLINE_SOUNDFONT`` (a file) replaces the defaults for every part; a per-song
or per-part SoundFont and a per-part GM program can be given as overrides.
"""

from __future__ import annotations

import importlib.util
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from backline.arrange.events import Part
from backline.errors import SoundFontError

__all__ = [
    "AVL_GM_MAP",
    "Preset",
    "PartSound",
    "SOUND_DIRS",
    "validate_soundfont",
    "read_presets",
    "find_soundfonts",
    "gm_soundfont",
    "drum_soundfont",
    "choose_sounds",
]

SOUND_DIRS: tuple[Path, ...] = (Path("/usr/share/sounds/sf3"), Path("/usr/share/sounds/sf2"))

_MELODIC_PREFERRED = (
    "MuseScore_General.sf3",
    "MuseScore_General_Full.sf3",
    "MuseScore_General_Lite.sf3",
    "MuseScore_General.sf2",
    "FluidR3_GM.sf2",
)
_DRUM_PREFERRED = ("Black_Pearl_4_LV2.sf2", "Red_Zeppelin_4_LV2.sf2")

# AVL Drumkits (Black Pearl / Red Zeppelin 4pc): key -> piece, read from the sample names.
# 36 kick, 37 side stick, 38 snare, 39 clap, 40 snare edge, 41 floor tom, 42 hat closed,
# 43 floor tom edge, 44 hat pedal, 45 rack tom, 46 hat semi-open, 47 rack tom edge,
# 48 hat swish, 49 crash, 50 crash choke, 51 ride, 52 ride choke, 53 ride bell,
# 54 tambourine, 55 splash, 56 cowbell, 57 crash 2, 58 crash 2 choke, 59 ride shank,
# 60 china, 61 maraca.
AVL_GM_MAP: Mapping[int, int] = {
    35: 36,  # acoustic bass drum -> kick
    36: 36,  # bass drum 1
    37: 37,  # side stick
    38: 38,  # acoustic snare
    39: 39,  # hand clap
    40: 40,  # electric snare -> snare edge
    41: 41,  # low floor tom
    42: 42,  # closed hi-hat
    43: 41,  # high floor tom -> floor tom
    44: 44,  # pedal hi-hat
    45: 45,  # low tom -> rack tom
    46: 46,  # open hi-hat -> semi-open
    47: 45,  # low-mid tom -> rack tom
    48: 47,  # hi-mid tom -> rack tom edge (brighter)
    49: 49,  # crash 1
    50: 47,  # high tom -> rack tom edge
    51: 51,  # ride 1
    52: 60,  # chinese cymbal -> china
    53: 53,  # ride bell
    54: 54,  # tambourine
    55: 55,  # splash
    56: 56,  # cowbell
    57: 57,  # crash 2
    59: 59,  # ride 2 -> ride shank
    70: 61,  # maracas
}

_SFBK_MIN_SIZE = 64


@dataclass(frozen=True, slots=True)
class Preset:
    """One preset of a SoundFont."""

    bank: int
    program: int
    name: str


@dataclass(frozen=True)
class PartSound:
    """The sound chosen for one part: a font, a preset, and for drums a note map.

    ``note_map`` (drums only) maps GM drum notes to the font's keys; notes not in the
    map are played by ``extra_font`` (the GM kit, bank 128) when it is set.
    """

    font: Path
    bank: int
    program: int
    is_drum: bool = False
    note_map: Mapping[int, int] | None = None
    extra_font: Path | None = None
    description: str = ""


def validate_soundfont(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is a readable SoundFont (RIFF ``sfbk``) and return it.

    Raises :class:`~backline.errors.SoundFontError` naming the file and the problem.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise SoundFontError(f"{p}: SoundFont not found")
    if not p.is_file():
        raise SoundFontError(f"{p}: not a file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise SoundFontError(f"{p}: cannot read SoundFont: {exc.strerror or exc}") from exc
    size = p.stat().st_size
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise SoundFontError(f"{p}: not a SoundFont (expected a RIFF 'sfbk' header, .sf2/.sf3)")
    declared = struct.unpack("<I", head[4:8])[0] + 8
    if size < _SFBK_MIN_SIZE or declared > size:
        raise SoundFontError(f"{p}: corrupt SoundFont (truncated: {size} of {declared} bytes)")
    return p


@lru_cache(maxsize=32)
def _read_presets_cached(path: str, mtime: float) -> tuple[Preset, ...]:
    p = Path(path)
    with open(p, "rb") as fh:
        fh.seek(12)
        while True:
            hdr = fh.read(8)
            if len(hdr) < 8:
                break
            cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"LIST":
                kind = fh.read(4)
                if kind == b"pdta":
                    end = fh.tell() + size - 4
                    while fh.tell() < end:
                        sub = fh.read(8)
                        if len(sub) < 8:
                            break
                        sid, ssize = sub[:4], struct.unpack("<I", sub[4:])[0]
                        if sid == b"phdr":
                            data = fh.read(ssize)
                            out = []
                            for i in range(len(data) // 38 - 1):  # last record is EOP
                                name, prog, bank = struct.unpack("<20sHH", data[i * 38 : i * 38 + 24])
                                out.append(Preset(bank, prog, name.split(b"\0")[0].decode("latin-1")))
                            return tuple(out)
                        fh.seek(ssize + (ssize & 1), 1)
                    break
                fh.seek(size - 4 + (size & 1), 1)
            else:
                fh.seek(size + (size & 1), 1)
    raise SoundFontError(f"{p}: corrupt SoundFont (no preset headers)")


def read_presets(path: str | os.PathLike[str]) -> tuple[Preset, ...]:
    """The presets of a SoundFont (validated first)."""
    p = validate_soundfont(path).resolve()
    return _read_presets_cached(str(p), p.stat().st_mtime)


def _pretty_midi_font() -> Path | None:
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / "TimGM6mb.sf2"
        if cand.is_file():
            return cand
    return None


def find_soundfonts(dirs: Sequence[Path] = SOUND_DIRS) -> list[Path]:
    """Every installed ``.sf2``/``.sf3`` (symlinks resolved, duplicates dropped)."""
    seen: dict[Path, None] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.suffix.lower() in (".sf2", ".sf3") and f.is_file():
                seen.setdefault(f.resolve(), None)
    tim = _pretty_midi_font()
    if tim is not None:
        seen.setdefault(tim, None)
    return list(seen)


def _is_gm(path: Path) -> bool:
    try:
        presets = read_presets(path)
    except SoundFontError:
        return False
    melodic = {p.program for p in presets if p.bank == 0}
    return len(melodic) >= 100 and any(p.bank == 128 for p in presets)


def gm_soundfont(dirs: Sequence[Path] = SOUND_DIRS, *, prefer_sf2: bool = False) -> Path:
    """The General MIDI SoundFont for melodic parts (see the module docstring for the order)."""
    env = os.environ.get("BACKLINE_SOUNDFONT")
    if env:
        return validate_soundfont(env)
    names = [n for n in _MELODIC_PREFERRED if not (prefer_sf2 and n.endswith(".sf3"))]
    for d in dirs:
        for name in names:
            cand = d / name
            if cand.is_file():
                return validate_soundfont(cand).resolve()
    for cand in find_soundfonts(dirs):
        if _is_gm(cand):
            return cand
    raise SoundFontError(
        "no General MIDI SoundFont found: install one with "
        "`apt install musescore-general-soundfont fluid-soundfont-gm`, "
        "or set BACKLINE_SOUNDFONT=/path/to/font.sf2"
    )


def drum_soundfont(dirs: Sequence[Path] = SOUND_DIRS) -> Path | None:
    """The dedicated acoustic drum-kit SoundFont (AVL Drumkits), or None if not installed."""
    if os.environ.get("BACKLINE_SOUNDFONT"):
        return None
    for d in dirs:
        for name in _DRUM_PREFERRED:
            cand = d / name
            if cand.is_file():
                try:
                    return validate_soundfont(cand).resolve()
                except SoundFontError:
                    continue
    return None


def _is_avl(path: Path) -> bool:
    presets = read_presets(path)
    return len(presets) == 1 and path.name.endswith("_LV2.sf2")


def _sound_in(font: Path, bank: int, program: int, is_drum: bool, what: str) -> PartSound:
    """The preset (bank, program) of ``font``; if absent, the font's first preset, said so."""
    presets = read_presets(font)
    if any(p.bank == bank and p.program == program for p in presets):
        name = next(p.name for p in presets if p.bank == bank and p.program == program)
        return PartSound(font, bank, program, is_drum, description=f"{font.name} {bank}:{program} {name}")
    if not presets:
        raise SoundFontError(f"{font}: SoundFont has no presets")
    kits = [p for p in presets if p.bank == 128]
    first = presets[0]
    if is_drum and kits:
        first = next((p for p in kits if p.program == 0), kits[0])
    return PartSound(
        font,
        first.bank,
        first.program,
        is_drum,
        description=f"{font.name} {first.bank}:{first.program} {first.name} "
        f"({what}: preset {bank}:{program} not in this font, its first preset used)",
    )


def choose_sounds(
    parts: Sequence[Part],
    *,
    song_font: str | os.PathLike[str] | None = None,
    part_fonts: Mapping[str, str | os.PathLike[str]] | None = None,
    programs: Mapping[str, int] | None = None,
    realistic: bool = True,
    prefer_sf2: bool = False,
    dirs: Sequence[Path] = SOUND_DIRS,
) -> dict[str, PartSound]:
    """Choose the sound of every part.

    Priority: ``part_fonts[name]`` > ``song_font`` > the defaults (AVL kit for drums
    when ``realistic``, the GM font for the rest). ``programs[name]`` replaces the
    part's GM program. Unknown part names in the overrides raise SoundFontError.
    ``prefer_sf2`` skips ``.sf3`` defaults (TinySoundFont decodes sf3 slowly).
    """
    part_fonts = dict(part_fonts or {})
    programs = dict(programs or {})
    names = {p.name for p in parts}
    for label, mapping in (("SoundFont", part_fonts), ("program", programs)):
        unknown = sorted(set(mapping) - names)
        if unknown:
            raise SoundFontError(
                f"{label} override for unknown part(s) {', '.join(unknown)}; parts are {', '.join(sorted(names))}"
            )
    for name, prog in programs.items():
        if not 0 <= int(prog) <= 127:
            raise SoundFontError(f"program for part {name!r} must be 0-127, not {prog}")
    gm: Path | None = None

    def gm_font() -> Path:
        nonlocal gm
        if gm is None:
            gm = (
                validate_soundfont(song_font).resolve()
                if song_font is not None
                else gm_soundfont(dirs, prefer_sf2=prefer_sf2)
            )
        return gm

    drums_font = drum_soundfont(dirs) if realistic and song_font is None else None
    out: dict[str, PartSound] = {}
    for part in parts:
        program = int(programs.get(part.name, part.program))
        if part.name in part_fonts:
            font = validate_soundfont(part_fonts[part.name]).resolve()
            if part.is_drum and _is_avl(font):
                out[part.name] = PartSound(
                    font, 0, 0, True, AVL_GM_MAP, None, description=f"{font.name} (AVL kit, GM-mapped)"
                )
            else:
                bank = 128 if part.is_drum else part.bank
                out[part.name] = _sound_in(font, bank, program, part.is_drum, f"part {part.name}")
        elif part.is_drum and drums_font is not None:
            extra = gm_font()
            out[part.name] = PartSound(
                drums_font,
                0,
                0,
                True,
                AVL_GM_MAP,
                extra,
                description=f"{drums_font.name} (AVL acoustic kit, GM-mapped; other notes {extra.name})",
            )
        else:
            bank = 128 if part.is_drum else part.bank
            out[part.name] = _sound_in(gm_font(), bank, program, part.is_drum, f"part {part.name}")
    return out
