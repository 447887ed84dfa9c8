"""The 2-D map of a run: every image placed by its clustering embedding (UMAP, or t-SNE as in our sources)."""

from __future__ import annotations

import numpy as np

MAPS = ("umap", "tsne")
#: Above this many images t-SNE (Barnes–Hut, scikit-learn) takes many minutes on a laptop CPU; UMAP does not.
TSNE_MAX_IMAGES = 20_000
#: Below this many images a neighbour-graph map says little: PCA is used instead (and said so).
MAP_MIN_IMAGES = 50


def map_2d(embedding, method: str = "umap", random_state=0) -> tuple[np.ndarray, str]:
    """``(N, 2)`` coordinates of the rows of ``embedding`` and how they were made.

    ``umap`` (McInnes et al. 2018; ``min_dist=0.1`` so that clusters keep some inner structure) or ``tsne``
    (van der Maaten & Hinton 2008, PCA initialisation). A 2-D embedding is used as it is; fewer than
    :data:`MAP_MIN_IMAGES` images get PCA.
    """
    Z = np.asarray(embedding, dtype=np.float32)
    if method not in MAPS:
        raise ValueError(f"unknown map {method!r}: use {' or '.join(MAPS)}")
    if Z.shape[1] <= 2:
        xy = Z if Z.shape[1] == 2 else np.c_[Z, np.zeros(len(Z), np.float32)]
        return xy.astype(np.float32), "the clustering space itself (already 2-D or less)"
    if len(Z) < MAP_MIN_IMAGES:
        from sklearn.decomposition import PCA

        return PCA(2, random_state=random_state).fit_transform(Z).astype(np.float32), \
            f"PCA (fewer than {MAP_MIN_IMAGES} images)"
    if method == "tsne":
        if len(Z) > TSNE_MAX_IMAGES:
            raise ValueError(f"a t-SNE map of {len(Z)} images takes too long on a CPU (limit {TSNE_MAX_IMAGES}); "
                             f"use the umap map")
        from sklearn.manifold import TSNE

        xy = TSNE(2, init="pca", random_state=random_state, perplexity=min(30.0, (len(Z) - 1) / 3)).fit_transform(Z)
        return xy.astype(np.float32), "t-SNE of the clustering space (perplexity 30, PCA start)"
    from .._umap import UMAPReducer

    xy = UMAPReducer(n_components=2, n_neighbors=15, min_dist=0.1, random_state=random_state).fit_transform(Z)
    return np.asarray(xy, dtype=np.float32), "UMAP of the clustering space (15 neighbours, min_dist 0.1)"


def plot_cluster_map(xy, labels, *, title: str = "", ax=None):
    """All images as dots at their 2-D position, coloured by cluster, each cluster's id at its median; images in no
    cluster (-1: a density method's noise) as small light-grey dots underneath, unlabelled. Returns Axes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7))
    from ..methods import NO_CLUSTER

    labels = np.asarray(labels)
    ids = np.unique(labels[labels != NO_CLUSTER])
    cmap = plt.get_cmap("tab20" if len(ids) > 10 else "tab10")
    size = max(1.5, min(12.0, 20000 / max(len(xy), 1)))
    nowhere = xy[labels == NO_CLUSTER]
    if len(nowhere):
        ax.scatter(nowhere[:, 0], nowhere[:, 1], s=size / 2, color="#cccccc", linewidths=0, zorder=0)
    for n, c in enumerate(ids):
        pts = xy[labels == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=size, color=cmap(n % cmap.N), linewidths=0, alpha=0.8)
        mx, my = np.median(pts, axis=0)
        ax.text(mx, my, str(c), fontsize=10, weight="bold", ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.7, "lw": 0})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    ax.figure.tight_layout()
    return ax


def plot_thumbnail_map(xy, images, *, zoom: float = 0.5, ax=None):
    """Thumbnails drawn at their 2-D positions (``images[i]`` at ``xy[i]``; pass a sample for large runs)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 9))
    for (x, y), img in zip(xy, images):
        img = np.asarray(img)
        box = OffsetImage(img, zoom=zoom, cmap="gray" if img.ndim == 2 else None)
        ax.add_artist(AnnotationBbox(box, (x, y), frameon=False))
    pad = 0.05 * (np.ptp(xy, axis=0) + 1e-6)
    ax.set_xlim(xy[:, 0].min() - pad[0], xy[:, 0].max() + pad[0])
    ax.set_ylim(xy[:, 1].min() - pad[1], xy[:, 1].max() + pad[1])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.figure.tight_layout()
    return ax
