"""Choose the number of clusters without labels: the silhouette curve over a range of k, on a sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import silhouette_score
from sklearn.utils import check_random_state


@dataclass
class KSelection:
    """The chosen ``k`` and the curve it was chosen from (``scores[i]`` belongs to ``ks[i]``)."""

    k: int
    ks: list[int]
    scores: list[float]
    criterion: str = "silhouette"
    sample_size: int = 0

    def to_dict(self) -> dict:
        return {"k": self.k, "criterion": self.criterion, "sample_size": self.sample_size,
                "curve": {int(k): float(s) for k, s in zip(self.ks, self.scores)}}


def select_n_clusters(Z, make_clusterer, *, k_min: int = 2, k_max: int = 20, sample_size: int = 5000,
                      random_state=0) -> KSelection:
    """Fit ``make_clusterer(k)`` for every k in ``[k_min, k_max]`` on a sample of ``Z``; keep the k of the highest
    mean silhouette (Rousseeuw 1987). The sample keeps this O(sample²) whatever the data's size."""
    Z = np.asarray(Z)
    rs = check_random_state(random_state)
    idx = rs.choice(len(Z), sample_size, replace=False) if len(Z) > sample_size else np.arange(len(Z))
    S = Z[idx]
    k_max = min(k_max, len(S) - 1)
    if k_max < k_min:
        raise ValueError(f"too few images ({len(Z)}) to choose a number of clusters between {k_min} and {k_max}")
    ks, scores = [], []
    for k in range(k_min, k_max + 1):
        labels = make_clusterer(k).fit_predict(S)
        ks.append(k)
        scores.append(float(silhouette_score(S, labels)) if len(np.unique(labels)) > 1 else -1.0)
    best = ks[int(np.argmax(scores))]
    return KSelection(best, ks, scores, sample_size=len(S))
