"""Clusters grouped into super-clusters: users with many clusters ask which of them belong together. Ward's linkage
of the cluster centres in the clustering space gives the whole tree; a cut at about √k groups names the coarse level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..methods import NO_CLUSTER


@dataclass
class ClusterTree:
    """Ward's linkage of the centres of ``clusters`` (scipy's linkage matrix, rows in the order of ``clusters``) and
    the super-cluster of each cluster at the cut into ``n_groups``."""

    clusters: list[int]
    linkage: np.ndarray
    groups: dict[int, int]
    n_groups: int

    def to_dict(self) -> dict:
        """As run.json holds it."""
        return {"how": "Ward's linkage of the cluster centres in the clustering space", "clusters": self.clusters,
                "linkage": np.round(self.linkage, 6).tolist(), "n_groups": self.n_groups,
                "super_clusters": {str(c): g for c, g in self.groups.items()}}


def cluster_tree(embedding: np.ndarray, labels: np.ndarray, n_groups: int | None = None) -> ClusterTree | None:
    """The tree of the clusters of ``labels`` (their centres: the mean rows of ``embedding``); None below 3 clusters,
    where there is nothing to group. ``n_groups`` (default ⌈√k⌉, at least 2) sets the coarse level. Images in no
    cluster (label -1) are no cluster of the tree.

    >>> X = np.array([[0.0], [0.1], [1.0], [1.1], [9.0], [9.1]])
    >>> cluster_tree(X, np.array([0, 0, 1, 1, 2, 2]), n_groups=2).groups
    {0: 0, 1: 0, 2: 1}
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    clusters = [c for c in np.unique(labels).tolist() if c != NO_CLUSTER]
    if len(clusters) < 3:
        return None
    embedding, labels = np.asarray(embedding, dtype=np.float64), np.asarray(labels)
    centres = np.stack([embedding[labels == c].mean(axis=0) for c in clusters])
    Z = linkage(centres, method="ward")
    n_groups = int(n_groups or max(2, int(np.ceil(np.sqrt(len(clusters))))))
    cut = fcluster(Z, t=n_groups, criterion="maxclust")
    order = {g: i for i, g in enumerate(dict.fromkeys(cut.tolist()))}  # groups numbered by their first cluster
    return ClusterTree(clusters, Z, {int(c): order[int(g)] for c, g in zip(clusters, cut)}, len(order))
