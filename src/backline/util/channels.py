"""The one rule for the channel count of an audio array or file, shared by the writers of
``backline.audio`` (planar ``(channels, frames)``) and ``backline.render``
(interleaved ``(frames, channels)``): an array passed in the other order shows up as
thousands of channels, and is refused instead of written.
"""

from __future__ import annotations

__all__ = ["MAX_CHANNELS", "channel_problem"]

#: the most channels backline writes (a multichannel render: click, cues and every part)
MAX_CHANNELS = 64


def channel_problem(channels: int, frames: int | None = None) -> str | None:
    """Why ``channels`` (for ``frames`` frames, when known) is not a channel count
    backline writes, or ``None`` when it is: 1 to :data:`MAX_CHANNELS`, and, for more
    than one channel, fewer channels than frames (unless there are no frames): more
    channels than frames means the axes were swapped."""
    if channels < 1:
        return f"{channels} channels: at least 1 is needed"
    if channels > MAX_CHANNELS:
        return f"{channels} channels: at most {MAX_CHANNELS} can be written (are the axes swapped?)"
    if frames is not None and frames < 0:
        return f"{frames} frames: a length cannot be negative"
    if frames and channels > 1 and channels >= frames:
        return f"{channels} channels of {frames} frames: more channels than frames (are the axes swapped?)"
    return None
