"""Shared fixtures: where the shared corpora live, a seeded rng."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora import corpora_path


@pytest.fixture
def corpora() -> Path:
    return corpora_path()


@pytest.fixture
def rng():  # type: ignore[no-untyped-def]
    import numpy as np

    return np.random.default_rng(12345)
