"""backline: make, shape and play backing tracks.

The pipeline: ``formats`` -> ``model`` -> ``arrange`` -> ``render``; ``audio`` works on
audio the user already has, ``live`` plays a setlist on stage.
"""

from __future__ import annotations

__version__ = "0.1.0"

from backline.errors import BacklineError

__all__ = ["BacklineError", "__version__"]
