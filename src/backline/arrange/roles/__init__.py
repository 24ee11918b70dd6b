"""Accompaniment roles, one class per role, looked up by name from style data."""

from __future__ import annotations

import importlib

from backline.arrange.roles.base import BarContext, ChordSpan, PartSpec, Role, part_rng
from backline.errors import StyleError

__all__ = ["ROLE_CLASSES", "BarContext", "ChordSpan", "PartSpec", "Role", "get_role", "part_rng"]

#: role name -> "module:Class". Styles name roles by these keys.
ROLE_CLASSES: dict[str, str] = {
    "drums": "backline.arrange.roles.drums:Drums",
    "bass": "backline.arrange.roles.bass:Bass",
    "walking": "backline.arrange.roles.walking:WalkingBass",
    "comping": "backline.arrange.roles.comping:Comping",
    "guitar": "backline.arrange.roles.guitar:Guitar",
    "pad": "backline.arrange.roles.pad:Pad",
    "hits": "backline.arrange.roles.hits:HornHits",
}


def get_role(name: str) -> Role:
    """Instantiate the role called ``name``."""
    target = ROLE_CLASSES.get(name)
    if target is None:
        raise StyleError(f"unknown role {name!r}; known roles: {', '.join(sorted(ROLE_CLASSES))}")
    mod, cls = target.split(":")
    role: Role = getattr(importlib.import_module(mod), cls)()
    return role
