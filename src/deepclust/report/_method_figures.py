"""Saving a method's own figures (DTC: attention overlays: see ``deepclust.run``'s figure registry), so that a method
only makes pictures: an image, a list of images laid out as a grid, or a matplotlib figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Images per row when a method gives a figure as a list of images.
GRID_COLUMNS = 8


def save_picture(picture, path: str | Path) -> None:
    """Save an image array, a list of images (a grid), or a matplotlib Figure/Axes as a PNG file."""
    from ._montage import make_grid, save_png
    from ._plots import save_figure

    if isinstance(picture, np.ndarray):
        save_png(path, picture)
    elif isinstance(picture, (list, tuple)):
        save_png(path, make_grid(list(picture), columns=GRID_COLUMNS))
    elif hasattr(picture, "savefig"):  # a Figure (save_figure takes anything that has one)
        save_figure(_Holder(picture), path)
    elif hasattr(picture, "figure"):  # Axes
        save_figure(picture, path)
    else:
        raise TypeError(f"a method figure must be an image array, a list of images or a matplotlib Figure/Axes, "
                        f"got {type(picture).__name__}")


class _Holder:
    """A Figure dressed as the Axes that :func:`~deepclust.report.save_figure` takes."""

    def __init__(self, figure):
        self.figure = figure
