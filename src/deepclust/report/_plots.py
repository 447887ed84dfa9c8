"""Figures written into a run folder."""

from __future__ import annotations

import numpy as np


def plot_k_selection(ks, scores, chosen: int, *, criterion: str = "prediction strength", threshold=None,
                     others: dict | None = None, ax=None):
    """The curve that chose k (with its threshold), other criteria's curves for comparison, the chosen k marked.
    Returns the Axes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(ks, scores, marker="o", label=criterion)
    for name, values in (others or {}).items():
        ax.plot(ks, values, marker=".", linestyle=":", label=name)
    if threshold is not None:
        ax.axhline(threshold, color="gray", linewidth=0.8, label=f"threshold {threshold}")
    ax.axvline(chosen, color="tab:red", linestyle="--", label=f"chosen k = {chosen}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("score (on a sample)")
    ax.legend(fontsize="small", loc="best", framealpha=0.8)
    ax.figure.tight_layout()
    return ax


def plot_cluster_tree(linkage, leaf_labels: list[str], groups: list[int] | None = None, *, ax=None):
    """The dendrogram of the clusters (one leaf per cluster, labelled), leaves coloured by super-cluster when
    ``groups`` (one per leaf, in the linkage's order) is given. Returns the Axes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from scipy.cluster.hierarchy import dendrogram

    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.5, 0.32 * len(leaf_labels) + 1)))
    dendrogram(linkage, labels=leaf_labels, orientation="right", ax=ax, color_threshold=0,
               above_threshold_color="gray")
    if groups is not None:
        colours = plt.get_cmap("tab10")
        by_label = dict(zip(leaf_labels, groups))
        for tick in ax.get_yticklabels():
            tick.set_color(colours(by_label[tick.get_text()] % 10))
    ax.set_xlabel("Ward distance between cluster centres")
    ax.figure.tight_layout()
    return ax


def save_figure(ax, path) -> None:
    import matplotlib.pyplot as plt

    from .._atomic import atomic_path

    with atomic_path(path) as tmp:
        ax.figure.savefig(tmp, format="png", dpi=100)
    plt.close(ax.figure)


#: Legend entries of the score curves that are not a plain ACC/NMI against the labels.
CURVE_LABELS = {"nmi_previous": "NMI to the previous epoch's pseudo-labels", "nmi_pseudo": "NMI of pseudo-labels"}


def plot_training_curves(history: dict, pretrain_losses=None, *, axes=None):
    """Loss parts per refresh (and ACC/NMI when labels were known), with the pretraining loss beside it when the
    method pretrained; legends sit outside the curves. Returns the list of Axes (one or two)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if axes is None:
        if pretrain_losses:
            _, axes = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1, 1.6]})
        else:
            _, ax_only = plt.subplots(figsize=(8, 4))
            axes = [ax_only]
    axes = list(np.atleast_1d(axes))
    ax = axes[-1]
    if pretrain_losses and len(axes) > 1:
        ax_pre = axes[0]
        ax_pre.plot(range(1, len(pretrain_losses) + 1), pretrain_losses)
        ax_pre.set_yscale("log")
        ax_pre.set_xlabel("pretraining epoch")
        ax_pre.set_ylabel("reconstruction MSE")
    step = next(iter(history))  # a History's x-axis comes first: epoch, period or iteration
    it = history[step]
    handles = []
    for key in [k for k in history if k.startswith("loss")]:
        handles += ax.plot(it, history[key], label=key)
    ax.set_xlabel(step)
    ax.set_ylabel("loss")
    if step != "iteration":
        ax.xaxis.get_major_locator().set_params(integer=True)
    scores = [k for k in ("acc", "nmi") if k in history] + [k for k in history if k.startswith("nmi_")]
    if scores:
        twin = ax.twinx()
        styles = {"acc": ("--", "black"), "nmi": (":", "black"), "nmi_previous": ("-.", "tab:green"),
                  "nmi_pseudo": ("-.", "tab:orange")}
        for key in scores:
            style, color = styles.get(key, ("-.", "tab:purple"))
            x, v = np.asarray(it, dtype=float), np.asarray(history[key], dtype=float)
            kept = np.isfinite(v)  # rows not scored (SCAN scores ~50 of its epochs) are NaN: join the scored ones
            handles += twin.plot(x[kept], v[kept], style, color=color, label=CURVE_LABELS.get(key, key.upper()))
        twin.set_ylabel("ACC / NMI")
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.12, 1.0), fontsize="small", frameon=False)
    ax.figure.tight_layout()
    return axes
