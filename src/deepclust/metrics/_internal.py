"""Internal scores: cluster quality without labels, computed on the features (sampled for large n), and why a score
is undefined when it is.

The scores compare the spread within clusters to the distances between them, so they only mean something in a space
where the images still differ. A method's space can be degenerate: cluster probabilities that are one-hot, or an
embedding where every image of a cluster lies on one point (consensus's spectral embedding of the co-association
matrix when its members agree). There silhouette is 1, Davies–Bouldin 0 and Calinski–Harabasz 1 by scikit-learn's
convention for zero spread: perfect-looking numbers that say nothing. :func:`undefined_reason` recognises such a
space and the scores are NaN (null in run.json) with the reason.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.utils import check_random_state

INTERNAL_SCORES = ("silhouette", "davies_bouldin", "calinski_harabasz")

#: A space with fewer distinct points than this many per cluster (or than samples, when fewer) is degenerate.
MIN_DISTINCT_PER_CLUSTER = 2

#: Within-cluster spread below this share of the total spread counts as none (float noise of identical points).
ZERO_SPREAD = 1e-9

#: Points closer than this share of the space's spread count as one when counting distinct points.
SAME_POINT = 1e-6


def undefined_reason(X, labels) -> str | None:
    """Why internal scores of ``labels`` in the space ``X`` (n, d) would mean nothing, or None when they are defined.

    Undefined: one cluster; every sample its own cluster; fewer distinct points than
    ``min(n, MIN_DISTINCT_PER_CLUSTER * k)`` (clusters collapsed to a few points each); no within-cluster spread.
    """
    X, labels = np.asarray(X), np.asarray(labels)
    X = X.reshape(len(X), -1)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    n, k = len(labels), len(np.unique(labels))
    if k < 2:
        return f"undefined for {k} cluster: internal scores compare clusters"
    if k >= n:
        return "undefined when every image is its own cluster"
    centred = X - X.mean(0)  # in X's dtype, sums in float64: one copy of a possibly wide space
    total = _sum_of_squares(centred)
    distinct = _distinct_points(centred, np.sqrt(total / n))
    if distinct < min(n, MIN_DISTINCT_PER_CLUSTER * k):
        return (f"undefined in this method's space: its {n} points lie on only {distinct} distinct positions for "
                f"{k} clusters, so the scores would measure that collapse, not the clusters")
    _, codes = np.unique(labels, return_inverse=True)
    members = sparse.csr_matrix((np.ones(n, X.dtype), (codes, np.arange(n))), shape=(k, n))
    means = np.asarray(members @ centred, dtype=np.float64) / np.bincount(codes)[:, None]
    within = _sum_of_squares(centred - means[codes].astype(X.dtype))
    if within <= ZERO_SPREAD * total:
        return ("undefined in this method's space: every cluster's images lie on one point (no spread within the "
                "clusters), so the scores would measure that collapse, not the clusters")
    return None


def _sum_of_squares(A: np.ndarray) -> float:
    return float(np.einsum("ij,ij->", A, A, dtype=np.float64))


def _distinct_points(centred: np.ndarray, scale: float) -> int:
    """How many distinct rows ``centred`` has, rows closer than ``SAME_POINT * scale`` counted as one; from a fixed
    random projection (O(n d), no sort of whole rows)."""
    if scale <= 0:
        return 1
    direction = np.random.RandomState(0).standard_normal(centred.shape[1])
    projected = centred @ (direction / np.linalg.norm(direction)) / scale
    return len(np.unique(np.round(projected / SAME_POINT)))


def internal_scores(X, labels, *, sample_size: int = 10_000, random_state=0) -> dict[str, float]:
    """Silhouette (higher is better, on a sample of ``sample_size``), Davies–Bouldin (lower), Calinski–Harabasz
    (higher). Scores are NaN where they mean nothing: one cluster, every sample its own cluster, or a degenerate
    space (see :func:`undefined_reason`; :func:`~deepclust.metrics.score_clustering` says why)."""
    return _internal(X, labels, sample_size=sample_size, random_state=random_state)[0]


def _internal(X, labels, *, sample_size: int = 10_000, random_state=0) -> tuple[dict[str, float], dict[str, str]]:
    """The internal scores and the reason for each undefined one."""
    X, labels = np.asarray(X), np.asarray(labels)
    why = undefined_reason(X, labels)
    if why is not None:
        return dict.fromkeys(INTERNAL_SCORES, float("nan")), dict.fromkeys(INTERNAL_SCORES, why)
    rs = check_random_state(random_state)
    idx = rs.choice(len(X), sample_size, replace=False) if len(X) > sample_size else np.arange(len(X))
    scores = {"silhouette": float("nan"), "davies_bouldin": float(davies_bouldin_score(X, labels)),
              "calinski_harabasz": float(calinski_harabasz_score(X, labels))}
    undefined = {}
    if len(np.unique(labels[idx])) > 1:
        scores["silhouette"] = float(silhouette_score(X[idx], labels[idx]))
    else:
        undefined["silhouette"] = (f"undefined for this clustering: its sample of {len(idx)} images for the "
                                   f"silhouette holds only one cluster")
    return scores, undefined
