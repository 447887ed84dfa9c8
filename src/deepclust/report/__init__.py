"""Pictures and figures of a clustering: montages of clusters, the k-selection curve."""

from ._montage import make_grid, save_png, typical_members
from ._plots import plot_k_selection, plot_training_curves, save_figure

__all__ = ["make_grid", "plot_k_selection", "plot_training_curves", "save_figure", "save_png", "typical_members"]
