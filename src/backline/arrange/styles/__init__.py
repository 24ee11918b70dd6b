"""Styles as data: the style model, the TOML loader and the registry (see ``docs/styles.md``)."""

from backline.arrange.styles.loader import load_style_file, style_from_dict
from backline.arrange.styles.model import (
    DRUM_VOICES,
    KITS,
    DrumGrid,
    DrumHit,
    EndingSpec,
    Humanise,
    IntroSpec,
    Style,
    normalise_style_name,
)
from backline.arrange.styles.registry import BUILTIN_DIR, StyleRegistry, user_style_dirs

__all__ = [
    "BUILTIN_DIR",
    "DRUM_VOICES",
    "KITS",
    "DrumGrid",
    "DrumHit",
    "EndingSpec",
    "Humanise",
    "IntroSpec",
    "Style",
    "StyleRegistry",
    "load_style_file",
    "normalise_style_name",
    "style_from_dict",
    "user_style_dirs",
]
