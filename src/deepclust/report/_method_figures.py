"""A method's own figures in the run folder (DTC: attention overlays), from a hook the method declares; the writing
is done here, so a method only makes pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Images per row when a method gives a figure as a list of images.
GRID_COLUMNS = 8


def write_method_figures(estimator, figures: str | Path) -> list[str]:
    """Write the fitted ``estimator``'s own figures into the run folder's ``figures`` folder; returns their names
    relative to the run folder (``figures/NAME.png``).

    The hook: a method ``figures_(self) -> dict[str, picture]``, each picture a uint8 image ``(H, W[, 3])``, a list
    of uint8 images (laid out as a grid of :data:`GRID_COLUMNS`), or a matplotlib Figure or Axes; each is saved as
    ``figures/NAME.png`` and shown in report.html under NAME. A method without it has no figures of its own.
    """
    figures = Path(figures)
    hook = getattr(estimator, "figures_", None)
    names = []
    for name, picture in (hook() if callable(hook) else {}).items():
        save_picture(picture, figures / f"{name}.png")
        names.append(f"{figures.name}/{name}.png")
    return names


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
