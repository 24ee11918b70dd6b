"""The arranger: a chart plus a style in, an :class:`~backline.arrange.events.Arrangement` out."""
