"""External scores: how well clusters match known classes (labels may be any hashable values)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


def _check(labels_true, labels_pred):
    labels_true, labels_pred = np.asarray(labels_true), np.asarray(labels_pred)
    if labels_true.shape != labels_pred.shape or labels_true.ndim != 1:
        raise ValueError(f"labels must be 1-D and of equal length, got {labels_true.shape} and {labels_pred.shape}")
    if len(labels_true) == 0:
        raise ValueError("labels are empty")
    return labels_true, labels_pred


def clustering_accuracy_score(labels_true, labels_pred) -> float:
    """ACC: the fraction of samples right under the best one-to-one map of clusters to classes (Hungarian).

    With more clusters than classes, the extra clusters count as wrong (as in DEC, Xie et al. 2016).
    """
    labels_true, labels_pred = _check(labels_true, labels_pred)
    c = contingency_matrix(labels_true, labels_pred)
    rows, cols = linear_sum_assignment(-c)
    return float(c[rows, cols].sum() / len(labels_true))


def purity_score(labels_true, labels_pred) -> float:
    """Purity: each cluster counts its most frequent class (many clusters may share a class)."""
    labels_true, labels_pred = _check(labels_true, labels_pred)
    c = contingency_matrix(labels_true, labels_pred)
    return float(c.max(axis=0).sum() / len(labels_true))


def nmi_score(labels_true, labels_pred) -> float:
    """Normalised mutual information (arithmetic mean normalisation, as scikit-learn)."""
    return float(normalized_mutual_info_score(*_check(labels_true, labels_pred)))


def ari_score(labels_true, labels_pred) -> float:
    """Adjusted Rand index."""
    return float(adjusted_rand_score(*_check(labels_true, labels_pred)))
