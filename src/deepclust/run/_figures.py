"""The figures of a run folder, one registry: each :class:`Figure` is drawn by the writer, listed in run.json
(:class:`~deepclust.run.FigureRecord`) and shown by report.html, which loops over the list, so a new figure is one
entry here. A method's own figures (DTC's attention overlays) join the same list through the hook it declares
(``figures_``). The map (interactive, with its thumbnails) and the per-cluster montages have sections of their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._record import FigureRecord, RunRecord

#: The tree of the clusters is drawn up to this many clusters (run.json holds it always).
MAX_TREE_LEAVES = 60


@dataclass(frozen=True)
class Figure:
    """A figure of the run folder: ``make(run, path)`` draws it from the :class:`~deepclust.run.ClusterRun` into
    ``path`` and returns False where it does not apply (no k was chosen, no network was trained);
    ``caption(record)`` says what the page shows under ``title``; ``place``: ``"summary"`` (beside the scores) or
    ``"figures"`` (a section of its own)."""

    name: str
    file: str
    title: str
    make: Callable[[object, Path], bool]
    caption: Callable[[RunRecord], str]
    place: str = "figures"

    def record(self, record: RunRecord) -> FigureRecord:
        return FigureRecord(self.name, self.file, self.title, self.caption(record), self.place)


def _k_selection(run, path: Path) -> bool:
    from ..report import plot_k_selection, save_figure

    sel = run.k_selection
    if not sel:
        return False
    others = {name: list(c.values()) for name, c in sel.get("curves", {}).items()
              if name not in (sel["criterion"], "eigengap")}  # the eigengaps are on another scale
    save_figure(plot_k_selection(list(sel["curve"]), list(sel["curve"].values()), sel["k"],
                                 criterion=sel["criterion"], threshold=sel.get("threshold"), others=others), path)
    return True


def _k_selection_caption(record: RunRecord) -> str:
    sel = record.k_selection or {}
    runner_up = f" (runner-up {sel['runner_up']})" if sel.get("runner_up") else ""
    votes = ", ".join(f"{name} {k}" for name, k in (sel.get("votes") or {}).items())
    return f"k = {sel.get('k')} chosen by {sel.get('criterion')}{runner_up}" + (f"; votes: {votes}." if votes else ".")


def _training(run, path: Path) -> bool:
    from ..report import plot_training_curves, save_figure

    if not run.history:
        return False
    save_figure(plot_training_curves(run.history["clustering"], run.history["pretraining"])[0], path)
    return True


def _cluster_tree(run, path: Path) -> bool:
    from ..report import plot_cluster_tree, save_figure

    tree = run.tree
    if tree is None or len(tree.clusters) > MAX_TREE_LEAVES:
        return False
    sizes, names = run.cluster_sizes(), run.cluster_names
    leaves = [f"{c}{': ' + names[c][0]['name'] if names and names.get(c) else ''} ({sizes[c]})"
              for c in tree.clusters]  # the tree leaves out the images in no cluster (-1)
    save_figure(plot_cluster_tree(tree.linkage, leaves, [tree.groups[c] for c in tree.clusters]), path)
    return True


def _cluster_tree_caption(record: RunRecord) -> str:
    tree = record.cluster_tree or {}
    groups: dict[int, list[str]] = {}
    for cluster, group in (tree.get("super_clusters") or {}).items():
        groups.setdefault(int(group), []).append(cluster)
    listed = "; ".join(f"{g}: {', '.join(members)}" for g, members in sorted(groups.items()))
    return (f"{tree.get('how', '')}: clusters that join early are alike. At the coarse level, {len(groups)} "
            f"super-clusters (colours): {listed}.")


#: Names a method's own figure may not take: the registry's figures' and the page's sections' (ids on the page).
_PAGE_SECTIONS = frozenset({"summary", "map", "clusters", "outliers", "duplicates", "skipped", "k-caveat"})

#: The run folder's figures, in the order the page shows them.
FIGURES_REGISTRY: tuple[Figure, ...] = (
    Figure("k_selection", "figures/k_selection.png", "Choice of k", _k_selection, _k_selection_caption, "summary"),
    Figure("training", "figures/training.png", "Training", _training, lambda record: ""),
    Figure("cluster_tree", "figures/cluster_tree.png", "Clusters grouped", _cluster_tree, _cluster_tree_caption),
)


RESERVED_NAMES = _PAGE_SECTIONS | {name for f in FIGURES_REGISTRY for name in (f.name, f.name.replace("_", "-"))}


def figure_file(name: str) -> str:
    """The file of the registry's figure ``name``, relative to the run folder."""
    return next(f.file for f in FIGURES_REGISTRY if f.name == name)


def make_figures(run, record: RunRecord, folder: Path) -> list[FigureRecord]:
    """Draw every figure of the registry that applies to ``run`` into the run folder ``folder``, then the method's
    own (its ``figures_`` hook: NAME → a picture, or (picture, caption)); returns what the page shows."""
    from ..report import save_picture

    made = []
    for figure in FIGURES_REGISTRY:
        if figure.make(run, folder / figure.file):
            made.append(figure.record(record))
    hook = getattr(run.estimator, "figures_", None)
    for name, picture in (hook() if callable(hook) else {}).items():
        if name in RESERVED_NAMES:
            raise ValueError(f"a method figure may not be called {name!r}: the run's own figures and the page's "
                             f"sections use {', '.join(sorted(RESERVED_NAMES))}")
        captioned = isinstance(picture, tuple) and len(picture) == 2 and isinstance(picture[1], str)
        picture, caption = picture if captioned else (picture, "")
        method_figure = method_figure_record(name, caption)
        save_picture(picture, folder / method_figure.file)
        made.append(method_figure)
    return made


def method_figure_record(name: str, caption: str | None) -> FigureRecord:
    """A method's own figure ``name``: ``figures/NAME.png`` under its name as a title."""
    return FigureRecord(name, f"figures/{name}.png", name.replace("_", " ").capitalize(), caption or "")


#: Captions of method figures in run folders written before the method gave its captions itself.
_OLD_CAPTIONS = {"attention": "Where the network trained on the known classes looks: each image with its Grad-CAM map "
                              "and the mask's outline, then the masked image that was embedded and clustered."}


def figures_in_folder(record: RunRecord, method_files: list[str] | None, folder: Path) -> tuple[FigureRecord, ...]:
    """The figures of a run folder written before run.json listed them (schema version 1): those of the registry
    whose file is there, and the method's own (``method_files``: run.json's ``method_figures``; older still: an
    attention overlay)."""
    found = [f.record(record) for f in FIGURES_REGISTRY if (folder / f.file).is_file()]
    if method_files is None:
        method_files = [f for f in ("figures/attention.png",) if (folder / f).is_file()]
    return tuple(found + [method_figure_record(Path(f).stem, _OLD_CAPTIONS.get(Path(f).stem)) for f in method_files])
