"""Shared fixtures: where the shared corpora live, a seeded rng, the hypothesis profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from corpora import corpora_path

# CI runs the property and fuzz tests with a fixed seed so that a submission's result does
# not depend on luck; locally they explore new examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def corpora() -> Path:
    return corpora_path()


@pytest.fixture
def rng():  # type: ignore[no-untyped-def]
    import numpy as np

    return np.random.default_rng(12345)
