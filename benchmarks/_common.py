"""Helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("BACKLINE_CORPORA", ROOT.parent / "shared" / "corpora"))


def pin_one_core() -> None:
    """Run on one core, as the targets in the issues are stated for one core."""
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def require_corpora() -> Path:
    if not CORPORA.exists():
        sys.exit(f"shared corpora not found at {CORPORA} (set BACKLINE_CORPORA)")
    return CORPORA


def md_table(headers: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
