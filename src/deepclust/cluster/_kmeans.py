"""k-means backends: scikit-learn, and faiss for large n (much faster, multi-core, GPU where present)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans

FAISS_MIN_SAMPLES = 200_000


class FaissKMeans(ClusterMixin, BaseEstimator):
    """k-means with faiss (Johnson et al. 2019): ``n_init`` restarts, best inertia kept, seeded."""

    def __init__(self, n_clusters=8, *, n_init=10, max_iter=100, random_state=0):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y=None):
        import faiss

        X = np.ascontiguousarray(X, dtype=np.float32)
        km = faiss.Kmeans(X.shape[1], self.n_clusters, niter=self.max_iter, nredo=self.n_init,
                          seed=int(self.random_state or 0), verbose=False, max_points_per_centroid=100_000)
        km.train(X)
        self.cluster_centers_ = km.centroids.copy()
        self._index = km.index
        self.labels_ = self.predict(X)
        return self

    def predict(self, X):
        _, labels = self._index.search(np.ascontiguousarray(X, dtype=np.float32), 1)
        return labels[:, 0].astype(np.int64)


def make_kmeans(n_clusters: int, n_samples: int, random_state: int, n_init: int = 10):
    """scikit-learn's KMeans, or :class:`FaissKMeans` for ``n_samples >= FAISS_MIN_SAMPLES`` when faiss is there."""
    if n_samples >= FAISS_MIN_SAMPLES:
        try:
            import faiss  # noqa: F401

            return FaissKMeans(n_clusters, n_init=n_init, random_state=random_state)
        except ImportError:
            pass
    return KMeans(n_clusters, n_init=n_init, random_state=random_state)
