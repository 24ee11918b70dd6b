"""Reading style files (TOML) into :class:`~backline.arrange.styles.model.Style` objects.

A style may ``extends = "other-style"``: its tables are merged over the other style's
(tables key by key, ``parts`` by part name, other values replaced). Every mistake in
a file raises :class:`~backline.errors.StyleError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backline.arrange.roles.base import PartSpec
from backline.arrange.styles.model import (
    DRUM_VOICES,
    ENDING_KINDS,
    FEELS,
    IGNORED_CHARS,
    INTRO_KINDS,
    KITS,
    DrumGrid,
    EndingSpec,
    Humanise,
    IntroSpec,
    Style,
    normalise_style_name,
    step_velocity,
)
from backline.errors import StyleError
from backline.model.song import TimeSignature

__all__ = ["read_style_dicts", "resolve_styles", "style_from_dict", "load_style_file", "parse_meter"]

DRUM_CHANNEL = 9
_GRID_REQUIRED = ("A",)


def parse_meter(text: object, where: str) -> TimeSignature:
    """``"7/8"`` -> TimeSignature(7, 8); StyleError naming ``where`` otherwise."""
    try:
        num, den = str(text).split("/")
        return TimeSignature(int(num), int(den))
    except (ValueError, TypeError):
        raise StyleError(f'{where}: not a time signature: {text!r} (write e.g. "4/4")') from None


def read_style_dicts(folder: Path) -> dict[str, tuple[dict[str, Any], str]]:
    """Every ``*.toml`` of ``folder`` as ``name -> (raw table, source path)``, the name as
    :func:`normalise_style_name` gives it. Two files whose names normalise to the same
    name (``My Groove`` and ``my-groove``) are a :class:`StyleError` naming both."""
    out: dict[str, tuple[dict[str, Any], str]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.toml")):
        raw = _read_toml(path)
        name = _style_name(raw, path)
        if name in out:
            raise StyleError(
                f"{path}: style name {name!r} is already taken by {out[name][1]} (names are "
                "compared ignoring case, spaces, '_' and '-'); rename one of them"
            )
        out[name] = (raw, str(path))
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StyleError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StyleError(f"{path}: cannot read: {exc}") from None


def _style_name(raw: Mapping[str, Any], path: Path) -> str:
    """The normalised name of a style file: its ``name``, else the file name."""
    name = raw.get("name", path.stem)
    key = normalise_style_name(name) if isinstance(name, str) else ""
    if not key:
        raise StyleError(f"{path}: 'name' must be a non-empty string")
    return key


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(base)
    for k, v in over.items():
        if k == "parts" and isinstance(v, list) and isinstance(out.get(k), list):
            parts = {p.get("name"): dict(p) for p in out[k] if isinstance(p, dict)}
            order = [p.get("name") for p in out[k] if isinstance(p, dict)]
            for p in v:
                if not isinstance(p, dict):
                    continue
                n = p.get("name")
                if p.get("remove"):
                    parts.pop(n, None)
                    order = [o for o in order if o != n]
                elif n in parts:
                    parts[n] = _merge(parts[n], p)
                else:
                    parts[n] = dict(p)
                    order.append(n)
            out[k] = [parts[n] for n in order]
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def resolve_styles(raws: Mapping[str, tuple[dict[str, Any], str]]) -> list[Style]:
    """Resolve ``extends`` between raw style tables and build every style."""
    resolved: dict[str, dict[str, Any]] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> dict[str, Any]:
        if name in resolved:
            return resolved[name]
        raw, source = raws[name]
        parent = raw.get("extends")
        if parent is None:
            merged = dict(raw)
        else:
            pname = normalise_style_name(str(parent))
            if pname in chain or pname == name:
                raise StyleError(f"{source}: 'extends' makes a loop: {' -> '.join((*chain, name, pname))}")
            if pname not in raws:
                raise StyleError(f"{source}: extends unknown style {parent!r}")
            merged = _merge(resolve(pname, (*chain, name)), {k: v for k, v in raw.items() if k != "extends"})
            for k in ("aliases", "title", "description"):
                if k not in raw:
                    merged.pop(k, None)
            # a file without 'name' is named after the file, never after the style it extends
            merged["name"] = raw.get("name", name)
        resolved[name] = merged
        return merged

    out: list[Style] = []
    for name in sorted(raws):
        out.append(style_from_dict(resolve(name, ()), raws[name][1]))
    return out


def load_style_file(path: str | Path) -> Style:
    """Load one style file on its own (no ``extends``)."""
    p = Path(path)
    raws = read_style_dicts_file(p)
    return resolve_styles(raws)[0]


def read_style_dicts_file(path: Path) -> dict[str, tuple[dict[str, Any], str]]:
    """One style file as ``{name: (raw table, source path)}`` (see :func:`read_style_dicts`)."""
    raw = _read_toml(path)
    return {_style_name(raw, path): (raw, str(path))}


# ------------------------------------------------------------------ building


def _num(raw: Mapping[str, Any], key: str, default: float, where: str, lo: float, hi: float) -> float:
    v = raw.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise StyleError(f"{where}: '{key}' must be a number, not {v!r}")
    if not lo <= float(v) <= hi:
        raise StyleError(f"{where}: '{key}' = {v} is outside {lo:g}..{hi:g}")
    return float(v)


def _grid(
    name: str, table: Mapping[str, Any], default_meter: TimeSignature, default_steps: int, where: str
) -> DrumGrid:
    meter = parse_meter(table["meter"], f"{where}.meter") if "meter" in table else default_meter
    steps = int(_num(table, "steps", default_steps, where, 1, 12))
    bar_steps_f = meter.bar_beats * steps
    if bar_steps_f.denominator != 1:
        raise StyleError(f"{where}: {steps} steps per beat do not divide a bar of {meter}")
    bar_steps = int(bar_steps_f)
    voices: list[tuple[str, str]] = []
    length = None
    for voice, pattern in table.items():
        if voice in ("meter", "steps"):
            continue
        if voice not in DRUM_VOICES:
            known = ", ".join(sorted(DRUM_VOICES))
            raise StyleError(f"{where}: unknown drum voice {voice!r} (known: {known})")
        if not isinstance(pattern, str):
            raise StyleError(f'{where}.{voice}: a grid must be a string of steps like "x.x."')
        cleaned = "".join(ch for ch in pattern if ch not in IGNORED_CHARS)
        for col, ch in enumerate(cleaned, 1):
            try:
                step_velocity(ch)
            except KeyError:
                raise StyleError(
                    f"{where}.{voice}: step {col} is {ch!r}; use X (accent), x, o (ghost), 1-9 or . (rest)"
                ) from None
        if len(cleaned) == 0 or len(cleaned) % bar_steps:
            raise StyleError(
                f"{where}.{voice}: {len(cleaned)} steps, but a {meter} bar at {steps} steps per beat "
                f"has {bar_steps} (a grid may span several whole bars)"
            )
        length = max(length or 0, len(cleaned))
        voices.append((voice, cleaned))
    if not voices or length is None:
        raise StyleError(f"{where}: the grid has no voices")
    bars = length // bar_steps
    # shorter voices repeat to the longest (a one-bar hat over a two-bar kick figure)
    voices = [(v, p * (length // len(p))) for v, p in voices]
    return DrumGrid(meter, steps, tuple(voices), bars)


def _params(v: object, where: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise StyleError(f"{where}: must be a table")
    return dict(v)


def _choices(role: str, key: str) -> tuple[str, ...] | None:
    """The names a role's ``pattern`` or ``voicing`` param takes (None: not checked)."""
    import importlib

    if key == "voicing":
        if role not in ("comping", "pad"):
            return None
        from backline.arrange.voicing import _CENTER

        return tuple(_CENTER)
    if role not in ("bass", "walking", "comping", "guitar", "pad"):
        return None
    module = importlib.import_module(f"backline.arrange.roles.{role}")
    return tuple(module.PATTERNS)


#: params that must be numbers within a range, per role ("*": every role)
_PARAM_NUMBERS: dict[str, dict[str, tuple[float, float]]] = {
    "*": {"density": (0.0, 1.0)},
    "walking": {"chromatic": (0.0, 1.0)},
    "hits": {"length": (0.0, 16.0)},
}
#: params that must be true or false, per role
_PARAM_BOOLS: dict[str, tuple[str, ...]] = {
    "drums": ("crash", "clave", "meter_strict"),
    "hits": ("downbeats",),
}


def _check_params(role: str, params: Mapping[str, Any], where: str) -> None:
    """Refuse (:class:`StyleError`, naming ``where`` and the key) a param of the wrong
    type or range, and an unknown ``pattern`` or ``voicing`` (listing the known ones).
    Roles other than the built-in ones (a learned ``pattern`` part) keep their own params."""
    from backline.arrange.roles import ROLE_CLASSES

    if role not in ROLE_CLASSES:
        return
    numbers = {**_PARAM_NUMBERS["*"], **_PARAM_NUMBERS.get(role, {})}
    for key, value in params.items():
        if key in numbers:
            lo, hi = numbers[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise StyleError(f"{where}.{key} must be a number from {lo:g} to {hi:g}, not {value!r}")
            if not lo <= float(value) <= hi:
                raise StyleError(f"{where}.{key} must be from {lo:g} to {hi:g}, not {value:g}")
        elif key in _PARAM_BOOLS.get(role, ()):
            if not isinstance(value, bool):
                raise StyleError(f"{where}.{key} must be true or false, not {value!r}")
        elif key in ("pattern", "voicing"):
            known = _choices(role, key)
            if known is None:
                continue
            if not isinstance(value, str) or value not in known:
                raise StyleError(
                    f"{where}.{key}: unknown {key} {value!r} for a {role} part; choose one of "
                    f"{', '.join(known)}"
                )


def style_from_dict(raw: Mapping[str, Any], source: str) -> Style:
    """Build and validate a :class:`Style` from a parsed TOML table."""
    w = source
    name = normalise_style_name(str(raw.get("name", Path(source).stem)))
    if not name:
        raise StyleError(f"{w}: 'name' must be a non-empty string")
    meters_raw = raw.get("meters", ["4/4"])
    if isinstance(meters_raw, str):
        meters_raw = [meters_raw]
    if not isinstance(meters_raw, list) or not meters_raw:
        raise StyleError(f'{w}: \'meters\' must be a list like ["4/4", "3/4"]')
    meters = tuple(parse_meter(m, f"{w}: meters") for m in meters_raw)
    tempo = raw.get("tempo", [60, 220])
    if not (isinstance(tempo, list) and len(tempo) == 2 and all(isinstance(t, int | float) for t in tempo)):
        raise StyleError(f"{w}: 'tempo' must be [low, high] in BPM")
    lo, hi = float(tempo[0]), float(tempo[1])
    if not 10 <= lo <= hi <= 400:
        raise StyleError(f"{w}: 'tempo' range {lo:g}..{hi:g} is not 10 <= low <= high <= 400")
    default_tempo = _num(raw, "default_tempo", round((lo + hi) / 2), w, lo, hi)
    feel = str(raw.get("feel", "straight"))
    if feel not in FEELS:
        raise StyleError(f"{w}: 'feel' is {feel!r}; choose one of {', '.join(FEELS)}")
    swing = None if "swing" not in raw else _num(raw, "swing", 2.0, w, 1.0, 4.0)
    inten_raw = _params(raw.get("intensity"), f"{w}: intensity")
    intensity = {"A": 45, "B": 70}
    for k, _v in inten_raw.items():
        intensity[k] = int(_num(inten_raw, k, 50, f"{w}: intensity", 0, 100))
    intro_raw = _params(raw.get("intro"), f"{w}: intro")
    intro = IntroSpec(
        str(intro_raw.get("kind", "drums")), int(_num(intro_raw, "bars", 1, f"{w}: intro", 0, 16))
    )
    if intro.kind not in INTRO_KINDS:
        raise StyleError(f"{w}: intro kind {intro.kind!r}; choose one of {', '.join(INTRO_KINDS)}")
    end_raw = _params(raw.get("ending"), f"{w}: ending")
    ending = EndingSpec(
        str(end_raw.get("kind", "hold")), int(_num(end_raw, "bars", 4, f"{w}: ending", 0, 16))
    )
    if ending.kind not in ENDING_KINDS:
        raise StyleError(f"{w}: ending kind {ending.kind!r}; choose one of {', '.join(ENDING_KINDS)}")
    hum_raw = _params(raw.get("humanise"), f"{w}: humanise")
    push = _params(hum_raw.get("push_ms"), f"{w}: humanise.push_ms")
    humanise = Humanise(
        _num(hum_raw, "timing_ms", 6.0, f"{w}: humanise", 0, 60),
        _num(hum_raw, "velocity", 5.0, f"{w}: humanise", 0, 40),
        {str(k): _num(push, k, 0, f"{w}: humanise.push_ms", -60, 60) for k in push},
    )
    # drum grids
    drums_raw = _params(raw.get("drums"), f"{w}: drums")
    default_steps = int(_num(drums_raw, "steps", 2, f"{w}: drums", 1, 12))
    kit = str(drums_raw.get("kit", "standard"))
    grids: dict[str, DrumGrid] = {}
    for gname, table in drums_raw.items():
        if gname in ("steps", "kit"):
            continue
        if not isinstance(table, dict):
            raise StyleError(f"{w}: drums.{gname} must be a table of voice grids")
        base = gname.split(":")[0]
        if base not in ("A", "B", "fill", "fill_B", "intro", "ending"):
            raise StyleError(
                f"{w}: drums.{gname}: grid names are A, B, fill, fill_B, intro, ending (optionally 'A:3/4')"
            )
        meter = parse_meter(gname.split(":", 1)[1], f"{w}: drums.{gname}") if ":" in gname else meters[0]
        grids[gname] = _grid(gname, table, meter, default_steps, f"{w}: drums.{gname}")
    # parts
    parts_raw = raw.get("parts", [])
    if not isinstance(parts_raw, list) or not parts_raw:
        raise StyleError(f"{w}: a style needs at least one [[parts]] table")
    parts: list[PartSpec] = []
    channel = 0
    seen: set[str] = set()
    for i, p in enumerate(parts_raw, 1):
        pw = f"{w}: parts[{i}]"
        if not isinstance(p, dict) or "role" not in p:
            raise StyleError(f"{pw}: each part needs a 'role'")
        role = str(p["role"])
        pname = str(p.get("name", role))
        pw = f"{w}: part {pname!r}"
        if pname in seen:
            raise StyleError(f"{pw}: two parts with the same name")
        seen.add(pname)
        rng = p.get("range", [27, 87] if role == "drums" else [0, 127])
        if not (isinstance(rng, list) and len(rng) == 2 and 0 <= int(rng[0]) <= int(rng[1]) <= 127):
            raise StyleError(f"{pw}: 'range' must be [low, high] MIDI notes within 0..127")
        params = _params(p.get("params"), f"{pw}: params")
        variations = {
            str(k): _params(v, f"{pw}: variations.{k}") for k, v in _params(p.get("variations"), pw).items()
        }
        _check_params(role, params, f"{pw}: params")
        for k, v in variations.items():
            _check_params(role, v, f"{pw}: variations.{k}")
        gain = _num(p, "gain_db", 0.0, pw, -60, 12)
        pan = _num(p, "pan", 0.0, pw, -1, 1)
        reverb = _num(p, "reverb", 0.0, pw, 0, 1) if "reverb" in p else None  # None: the role's default
        if role == "drums":
            pkit = str(p.get("kit", kit))
            if pkit not in KITS:
                raise StyleError(f"{pw}: kit {pkit!r}; choose one of {', '.join(KITS)}")
            missing = [g for g in _GRID_REQUIRED if g not in grids]
            if missing:
                raise StyleError(f"{w}: a drums part needs [drums.{missing[0]}] grids")
            params = {
                **params,
                "kit": pkit,
                "grids": grids,
                "meter_strict": bool(raw.get("meter_strict", False)),
            }
            spec = PartSpec(pname, role, KITS[pkit], DRUM_CHANNEL, True, int(rng[0]), int(rng[1]),
                            params, variations, gain, pan, reverb)  # fmt: skip
        else:
            program = int(_num(p, "program", 0, pw, 0, 127))
            if channel == DRUM_CHANNEL:
                channel += 1
            if channel > 15:
                raise StyleError(f"{w}: too many pitched parts (15 MIDI channels at most)")
            ch = int(_num(p, "channel", channel, pw, 0, 15))
            channel += 1
            spec = PartSpec(pname, role, program, ch, False, int(rng[0]), int(rng[1]),
                            params, variations, gain, pan, reverb)  # fmt: skip
        parts.append(spec)
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list):
        raise StyleError(f"{w}: 'aliases' must be a list of strings")
    return Style(
        name=name,
        title=str(raw.get("title", name.replace("-", " ").title())),
        family=str(raw.get("family", "other")),
        parts=tuple(parts),
        meters=meters,
        tempo_range=(lo, hi),
        default_tempo=default_tempo,
        feel=feel,
        swing=swing,
        intensity=intensity,
        intro=intro,
        ending=ending,
        humanise=humanise,
        drums=grids,
        aliases=tuple(normalise_style_name(str(a)) for a in aliases),
        description=str(raw.get("description", "")),
        meter_strict=bool(raw.get("meter_strict", False)),
        source=source,
        loudness_db=_num(raw, "loudness_db", 0.0, w, -12, 0),
    )
