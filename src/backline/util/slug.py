"""File-name slugs: one alphabet for every name backline derives from user text.

A slug holds ASCII letters and digits joined by one separator character; accents are
folded first (``"María"`` -> ``"Maria"``) and every other run of characters becomes one
separator, so a slug is safe on every file system and in every shell.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["slug", "unique_slugs"]

_OTHER = re.compile(r"[^A-Za-z0-9]+")


def slug(
    text: str,
    *,
    sep: str = "_",
    lower: bool = False,
    max_len: int | None = None,
    fallback: str = "untitled",
) -> str:
    """``text`` as a file-name slug: ASCII letters and digits, each run of anything else
    one ``sep`` (``"_"`` or ``"-"``), no ``sep`` at either end.

    ``lower`` lower-cases it, ``max_len`` cuts it (never ending on ``sep``), and
    ``fallback`` is returned when nothing is left (``"?!"``).

    >>> slug("Keys 1"), slug("Bella María", sep="-", lower=True), slug("--")
    ('Keys_1', 'bella-maria', 'untitled')
    """
    if len(sep) != 1 or sep.isalnum():
        raise ValueError(f"the separator must be one character that is not a letter or digit, not {sep!r}")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = _OTHER.sub(sep, folded).strip(sep)
    if lower:
        s = s.lower()
    if max_len is not None:
        s = s[:max_len].rstrip(sep)
    return s or fallback


def unique_slugs(
    names: Iterable[str],
    *,
    reserved: Iterable[str] = (),
    sep: str = "_",
    lower: bool = False,
    fallback: str = "untitled",
) -> dict[str, str]:
    """A distinct slug for each of ``names`` (in order), also distinct from ``reserved``,
    compared case-insensitively (macOS and Windows file systems do not tell ``Bass`` from
    ``bass``). A name whose slug is taken gets ``sep`` and a number: ``"Keys 1"`` and
    ``"Keys_1"`` become ``Keys_1`` and ``Keys_1_2``.

    >>> unique_slugs(["Keys 1", "Keys_1", "click"], reserved=["click"])
    {'Keys 1': 'Keys_1', 'Keys_1': 'Keys_1_2', 'click': 'click_2'}
    """
    taken = {r.casefold() for r in reserved}
    out: dict[str, str] = {}
    for name in names:
        if name in out:
            continue
        base = slug(name, sep=sep, lower=lower, fallback=fallback)
        candidate, k = base, 1
        while candidate.casefold() in taken:
            k += 1
            candidate = f"{base}{sep}{k}"
        taken.add(candidate.casefold())
        out[name] = candidate
    return out
