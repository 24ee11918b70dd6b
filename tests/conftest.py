"""Shared fixtures: where the shared corpora live, a seeded rng."""

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


@pytest.fixture
def corpora() -> Path:
    return corpora_path()


@pytest.fixture
def rng():  # type: ignore[no-untyped-def]
    import numpy as np

    return np.random.default_rng(12345)
