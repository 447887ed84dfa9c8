"""Figures written into a run folder."""

from __future__ import annotations


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


def save_figure(ax, path) -> None:
    import matplotlib.pyplot as plt

    from .._atomic import atomic_path

    with atomic_path(path) as tmp:
        ax.figure.savefig(tmp, format="png", dpi=100)
    plt.close(ax.figure)


def plot_training_curves(history: dict, pretrain_losses=None, *, axes=None):
    """Loss parts per refresh (and ACC/NMI when labels were known), with the pretraining loss beside.
    Returns the array of two Axes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    ax_pre, ax = axes
    if pretrain_losses:
        ax_pre.plot(range(1, len(pretrain_losses) + 1), pretrain_losses)
        ax_pre.set_yscale("log")
    ax_pre.set_xlabel("pretraining epoch")
    ax_pre.set_ylabel("reconstruction MSE")
    it = history["iteration"]
    for key in [k for k in history if k.startswith("loss")]:
        ax.plot(it, history[key], label=key)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    if any(k in history for k in ("acc", "nmi")):
        twin = ax.twinx()
        for key, style in (("acc", "--"), ("nmi", ":")):
            if key in history:
                twin.plot(it, history[key], style, color="black", label=key.upper())
        twin.set_ylabel("ACC / NMI")
        twin.legend(loc="lower right")
    ax.legend(loc="upper left")
    ax.figure.tight_layout()
    return axes
