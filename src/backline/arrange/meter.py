"""How a bar is grouped into counted pulses: one table for the band and the click.

Simple meters (x/1, x/2, x/4) count every beat of the denominator. Compound meters (6/8,
9/8, 12/8, 6/16...) count dotted pulses (groups of 3). Other x/8 and x/16 meters are
grouped in 2s with one 3: 5/8 = 3+2 (as in the 5/4 of "Take Five", and as the ``odd-5``
grid plays when scaled to eighths), 7/8 = 2+2+3, 11/8 = 2+2+2+2+3. The roles' beat grid
(:func:`backline.arrange.roles._common.bar_grid`) and the click
(:func:`backline.render.click.pulse_groups`) both read :func:`pulse_groups`, so the
click's accents fall where the band's do.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["pulse_groups"]


@lru_cache(maxsize=256)
def pulse_groups(numerator: int, denominator: int) -> tuple[int, ...]:
    """The bar's pulses as group lengths in denominator units (5/8 -> (3, 2);
    7/8 -> (2, 2, 3); 6/8 -> (3, 3); 4/4 -> (1, 1, 1, 1))."""
    if denominator < 8:
        return (1,) * numerator
    if numerator % 3 == 0 and numerator > 3:
        return (3,) * (numerator // 3)
    if numerator <= 3:
        return (numerator,)
    if numerator == 5:
        return (3, 2)
    if numerator % 2 == 0:
        return (2,) * (numerator // 2)
    return (2,) * ((numerator - 3) // 2) + (3,)
