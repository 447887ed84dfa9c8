"""k-means backends: scikit-learn, and faiss for large n (much faster, multi-core, GPU where present)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

FAISS_MIN_SAMPLES = 200_000
FAISS_MIN_CLUSTERS = 500
HIERARCHICAL_MIN_CLUSTERS = 5_000


class FaissKMeans(ClusterMixin, BaseEstimator):
    """k-means with faiss (Johnson et al. 2019): ``n_init`` restarts from k-means++ starts, the one of lowest inertia
    on all the points kept, seeded.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    n_init : int, default=10
        Restarts; the one of lowest inertia is kept.
    max_iter : int, default=100
        Lloyd iterations per restart.
    random_state : int, RandomState or None, default=None
        Same value, same labels (None: a new draw every fit, as scikit-learn).
    max_points_per_centroid : int or None, default=None
        Train on a random sample of at most this many points per centre (every point is assigned at the end).
        ``None``: 256 per centre (faiss's own default; at k = 1,000 a million points train on 256,000) but never fewer
        than 100,000 points in all, so that a small k still trains on many.
    """

    def __init__(self, n_clusters: int = 8, *, n_init: int = 10, max_iter: int = 100, random_state: int | None = None,
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
        rng = np.random.RandomState(int(seed))
        best: tuple[float, faiss.Kmeans] | None = None
        for _ in range(int(self.n_init)):
            restart_seed = int(rng.randint(np.iinfo(np.int32).max))
            km = faiss.Kmeans(X.shape[1], k, niter=int(self.max_iter), nredo=1, seed=restart_seed, verbose=False,
                              max_points_per_centroid=per_centre, min_points_per_centroid=1)
            km.train(X, init_centroids=_kmeans_plusplus(X, k, restart_seed))
            squared, _ = km.index.search(X, 1)
            if best is None or squared.sum() < best[0]:
                best = (float(squared.sum()), km)
        assert best is not None, "n_init must be 1 or more"
        self.inertia_, km = best
        assert km.centroids is not None  # set by train
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
            self.index_ = _flat_index(self.cluster_centers_)


def _kmeans_plusplus(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means++ starting centres (Arthur & Vassilvitskii 2007) drawn from a sample of ``max(10,000, 20·k)`` points:
    faiss itself starts from random points, which leaves well-separated clusters merged (measured: 200 blobs, ARI
    0.69 from random starts, 1.0 from k-means++)."""
    from sklearn.cluster import kmeans_plusplus

    rng = np.random.RandomState(seed)
    m = min(len(X), max(10_000, 20 * k))
    sample = X if m == len(X) else X[np.sort(rng.choice(len(X), m, replace=False))]
    centres, _ = kmeans_plusplus(sample, k, random_state=rng)
    return np.ascontiguousarray(centres, dtype=np.float32)


class HierarchicalKMeans(ClusterMixin, BaseEstimator):
    """Two-level k-means for k in the tens of thousands: ``n_coarse`` (default ⌈√k⌉) coarse clusters with faiss, then
    each coarse cluster split by its own k-means into a share of ``n_clusters`` proportional to its size (largest
    remainders, at least one, at most its number of points). An iteration costs about n·(√k + k/√k) distances
    instead of n·k; every point is assigned to its nearest final centre at the end, as flat k-means would.

    Parameters
    ----------
    n_clusters : int, default=10000
        Number of clusters.
    n_coarse : int or None, default=None
        Coarse clusters; None: ⌈√n_clusters⌉.
    max_iter : int, default=20
        Lloyd iterations of each k-means.
    random_state : int or None, default=None
        Same value, same labels.
    """

    def __init__(self, n_clusters: int = 10000, *, n_coarse: int | None = None, max_iter: int = 20,
                 random_state: int | None = None):
        self.n_clusters = n_clusters
        self.n_coarse = n_coarse
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float32, order="C", ensure_min_samples=2)
        k = int(self.n_clusters)
        if not 1 <= k <= len(X):
            raise ValueError(f"n_clusters={k} must be between 1 and the number of samples ({len(X)})")
        n_coarse = min(k, int(self.n_coarse) if self.n_coarse is not None else int(np.ceil(np.sqrt(k))))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        coarse = FaissKMeans(n_coarse, n_init=1, max_iter=self.max_iter, random_state=seed).fit(X).labels_
        sizes = np.bincount(coarse, minlength=n_coarse)
        shares = split_proportionally(k, sizes)
        centres = []
        for c in np.flatnonzero(shares):
            members = X[coarse == c]
            if shares[c] == 1:
                centres.append(members.mean(axis=0, keepdims=True))
                continue
            fine = FaissKMeans(int(shares[c]), n_init=1, max_iter=self.max_iter, random_state=seed + int(c) + 1)
            centres.append(fine.fit(members).cluster_centers_)
        self.cluster_centers_ = np.ascontiguousarray(np.concatenate(centres), np.float32)
        self.index_ = _flat_index(self.cluster_centers_)
        self.labels_ = self._assign(X)
        self.n_coarse_ = n_coarse
        return self

    _assign = FaissKMeans._assign
    predict = FaissKMeans.predict
    __getstate__ = FaissKMeans.__getstate__
    __setstate__ = FaissKMeans.__setstate__


def _flat_index(centres: np.ndarray):
    """A faiss index of the centres, for the nearest-centre assignment."""
    import faiss

    index = faiss.IndexFlatL2(centres.shape[1])
    index.add(np.ascontiguousarray(centres, dtype=np.float32))
    return index


def split_proportionally(total: int, sizes) -> np.ndarray:
    """``total`` split over groups in proportion to ``sizes`` (largest remainders): every non-empty group gets at
    least one and at most its size; the parts add up to ``total`` (``total`` ≤ the sum of sizes)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if total > sizes.sum():
        raise ValueError(f"cannot split {total} over groups of {int(sizes.sum())} members in all")
    exact = total * sizes / max(int(sizes.sum()), 1)
    parts = np.minimum(np.maximum(np.floor(exact).astype(np.int64), (sizes > 0).astype(np.int64)), sizes)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    while parts.sum() != total:
        step = 1 if parts.sum() < total else -1
        for g in order if step == 1 else order[::-1]:
            if parts.sum() == total:
                break
            if (step == 1 and parts[g] < sizes[g]) or (step == -1 and parts[g] > 1):
                parts[g] += step
    return parts


def make_kmeans(n_clusters: int, n_samples: int, random_state: int, n_init: int = 10):
    """scikit-learn's KMeans; :class:`FaissKMeans` for ``n_samples >= FAISS_MIN_SAMPLES`` or ``n_clusters >=
    FAISS_MIN_CLUSTERS`` when faiss is there, :class:`HierarchicalKMeans` from ``HIERARCHICAL_MIN_CLUSTERS``."""
    if n_clusters >= HIERARCHICAL_MIN_CLUSTERS:
        try:
            import faiss  # noqa: F401

            return HierarchicalKMeans(n_clusters, random_state=random_state)
        except ImportError:
            pass
    if n_samples >= FAISS_MIN_SAMPLES or n_clusters >= FAISS_MIN_CLUSTERS:
        try:
            import faiss  # noqa: F401

            return FaissKMeans(n_clusters, n_init=n_init, random_state=random_state)
        except ImportError:
            pass
    return KMeans(n_clusters, n_init=n_init, random_state=random_state)
