"""Internal scores: cluster quality without labels, computed on the features (sampled for large n)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.utils import check_random_state


def internal_scores(X, labels, *, sample_size: int = 10_000, random_state=0) -> dict[str, float]:
    """Silhouette (higher is better, on a sample of ``sample_size``), Davies–Bouldin (lower), Calinski–Harabasz
    (higher). Scores are NaN when there is only one cluster or every sample is its own cluster."""
    X, labels = np.asarray(X), np.asarray(labels)
    n_labels = len(np.unique(labels))
    if not 1 < n_labels < len(labels):
        return {"silhouette": float("nan"), "davies_bouldin": float("nan"), "calinski_harabasz": float("nan")}
    rs = check_random_state(random_state)
    idx = rs.choice(len(X), sample_size, replace=False) if len(X) > sample_size else np.arange(len(X))
    sil = (silhouette_score(X[idx], labels[idx]) if len(np.unique(labels[idx])) > 1 else float("nan"))
    return {"silhouette": float(sil), "davies_bouldin": float(davies_bouldin_score(X, labels)),
            "calinski_harabasz": float(calinski_harabasz_score(X, labels))}
