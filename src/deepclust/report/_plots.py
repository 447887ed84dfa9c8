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
