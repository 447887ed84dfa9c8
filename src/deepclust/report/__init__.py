"""Pictures and pages of a clustering: cluster montages, the k-selection curve, training curves, the 2-D map, and
the run's ``report.html``."""

from ._browse import HOVER_FILE, N_HOVER, display_name, members_sheets, read_images, write_hover, write_member_sheets
from ._compare import write_compare_page
from ._html import REPORT_FILE, RUN_OWN_LABELS, report_context, write_report
from ._map import MAPS, map_2d, plot_cluster_map, plot_thumbnail_map
from ._method_figures import save_picture
from ._montage import atypical_members, make_grid, save_png, typical_members
from ._plots import plot_cluster_tree, plot_k_selection, plot_training_curves, save_figure

__all__ = ["HOVER_FILE", "MAPS", "N_HOVER", "REPORT_FILE", "RUN_OWN_LABELS", "atypical_members", "display_name",
           "make_grid", "map_2d", "members_sheets", "plot_cluster_map", "plot_cluster_tree", "plot_k_selection",
           "plot_thumbnail_map", "plot_training_curves", "read_images", "report_context", "save_figure",
           "save_picture", "save_png", "typical_members", "write_compare_page", "write_hover", "write_member_sheets",
           "write_report"]
