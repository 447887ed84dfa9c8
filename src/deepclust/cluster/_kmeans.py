"""k-means backends: scikit-learn, and faiss for large n (much faster, multi-core, GPU where present)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

FAISS_MIN_SAMPLES = 200_000


class FaissKMeans(ClusterMixin, BaseEstimator):
    """k-means with faiss (Johnson et al. 2019): ``n_init`` restarts, best inertia kept, seeded.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    n_init : int, default=10
        Restarts; the one of lowest inertia is kept.
    max_iter : int, default=100
        Lloyd iterations per restart.
    random_state : int, RandomState or None, default=0
        Same value, same labels.
    max_points_per_centroid : int or None, default=None
        Train on a random sample of at most this many points per centre (every point is assigned at the end).
        ``None``: 256 per centre (faiss's own default; at k = 1,000 a million points train on 256,000) but never fewer
        than 100,000 points in all, so that a small k still trains on many.
    """

    def __init__(self, n_clusters: int = 8, *, n_init: int = 10, max_iter: int = 100, random_state: int | None = 0,
                 max_points_per_centroid: int | None = None):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.max_points_per_centroid = max_points_per_centroid

    def fit(self, X, y=None):
        import faiss

        X = validate_data(self, X, dtype=np.float32, order="C", ensure_min_samples=2)
        if not 1 <= int(self.n_clusters) <= len(X):
            raise ValueError(f"n_clusters={self.n_clusters} must be between 1 and the number of samples ({len(X)})")
        seed = self.random_state  # an int is faiss's seed itself; None or a RandomState draws one
        if not isinstance(seed, numbers.Integral):
            seed = check_random_state(seed).randint(np.iinfo(np.int32).max)
        k = int(self.n_clusters)
        per_centre = (int(self.max_points_per_centroid) if self.max_points_per_centroid is not None
                      else max(256, -(-100_000 // k)))
        km = faiss.Kmeans(X.shape[1], k, niter=int(self.max_iter), nredo=int(self.n_init), seed=int(seed),
                          verbose=False, max_points_per_centroid=per_centre, min_points_per_centroid=1)
        km.train(X)
        self.cluster_centers_ = km.centroids.copy()
        self.n_iter_ = int(self.max_iter)  # faiss runs every iteration of every restart
        self.index_ = km.index
        self.labels_ = self._assign(X)
        return self

    def _assign(self, X):
        _, labels = self.index_.search(np.ascontiguousarray(X, dtype=np.float32), 1)
        return labels[:, 0].astype(np.int64)

    def predict(self, X):
        """The nearest centre of each sample."""
        check_is_fitted(self, "index_")
        return self._assign(validate_data(self, X, dtype=np.float32, reset=False))

    def __getstate__(self):
        """faiss indexes do not pickle: keep the centres and rebuild the index on load."""
        state = dict(self.__dict__)
        state.pop("index_", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "cluster_centers_" in state:
            import faiss

            self.index_ = faiss.IndexFlatL2(self.cluster_centers_.shape[1])
            self.index_.add(np.ascontiguousarray(self.cluster_centers_, dtype=np.float32))


def make_kmeans(n_clusters: int, n_samples: int, random_state: int, n_init: int = 10):
    """scikit-learn's KMeans, or :class:`FaissKMeans` for ``n_samples >= FAISS_MIN_SAMPLES`` when faiss is there."""
    if n_samples >= FAISS_MIN_SAMPLES:
        try:
            import faiss  # noqa: F401

            return FaissKMeans(n_clusters, n_init=n_init, random_state=random_state)
        except ImportError:
            pass
    return KMeans(n_clusters, n_init=n_init, random_state=random_state)
