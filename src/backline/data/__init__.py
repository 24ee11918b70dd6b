"""Data shipped with backline: the built-in demo song."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["demo_chart_path"]


def demo_chart_path() -> Path:
    """Path of the built-in demo song, ``demo.chart`` (an original medium-swing tune)."""
    return Path(str(files("backline.data").joinpath("demo.chart")))
