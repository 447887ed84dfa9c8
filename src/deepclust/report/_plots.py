"""Figures written into a run folder."""

from __future__ import annotations


def plot_k_selection(ks, scores, chosen: int, *, criterion: str = "silhouette", ax=None):
    """The score curve used to choose k, with the chosen k marked. Returns the Axes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(ks, scores, marker="o")
    ax.axvline(chosen, color="tab:red", linestyle="--", label=f"chosen k = {chosen}")
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel(f"{criterion} (sample)")
    ax.legend()
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
