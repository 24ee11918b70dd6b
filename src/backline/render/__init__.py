"""Audio rendering: SoundFonts, synthesis, mixer, master, export, click, cues, the pipeline.

Modules are imported lazily by their users; importing :mod:`backline.render` itself
loads nothing heavy.
"""

from __future__ import annotations

__all__: list[str] = []
