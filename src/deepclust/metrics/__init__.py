"""Scores for clusterings: external (ACC, NMI, ARI, purity) when labels exist, internal always."""

from __future__ import annotations

import numpy as np

from ._external import ari_score, clustering_accuracy_score, nmi_score, purity_score
from ._internal import internal_scores


def external_scores(labels_true, labels_pred) -> dict[str, float]:
    """ACC, NMI, ARI and purity in one dict."""
    return {"acc": clustering_accuracy_score(labels_true, labels_pred), "nmi": nmi_score(labels_true, labels_pred),
            "ari": ari_score(labels_true, labels_pred), "purity": purity_score(labels_true, labels_pred)}


def evaluate_clustering(labels_pred, labels_true=None, X=None, random_state=0) -> dict[str, float]:
    """External scores when ``labels_true`` is given, internal scores when features ``X`` are given."""
    out: dict[str, float] = {"n_clusters": int(len(np.unique(labels_pred)))}
    if labels_true is not None:
        out.update(external_scores(labels_true, labels_pred))
    if X is not None:
        out.update(internal_scores(X, labels_pred, random_state=random_state))
    return out


__all__ = ["ari_score", "clustering_accuracy_score", "evaluate_clustering", "external_scores", "internal_scores",
           "nmi_score", "purity_score"]
