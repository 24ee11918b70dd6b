"""Where the shared third-party corpora live (tests import ``corpora_path`` from here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("BACKLINE_CORPORA", ROOT.parent / "shared" / "corpora"))


def corpora_path(*parts: str) -> Path:
    """A path inside the shared corpora; skips the test when the corpora are absent."""
    p = CORPORA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared corpora not found at {p} (set BACKLINE_CORPORA)")
    return p
