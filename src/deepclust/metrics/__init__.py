"""Scores for clusterings: external (ACC, NMI, ARI, purity) when labels exist, internal always, each undefined one
with the reason it has no value."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._external import ari_score, clustering_accuracy_score, nmi_score, purity_score
from ._internal import INTERNAL_SCORES, _internal, internal_scores, undefined_reason


def external_scores(labels_true, labels_pred) -> dict[str, float]:
    """ACC, NMI, ARI and purity in one dict."""
    return {"acc": clustering_accuracy_score(labels_true, labels_pred), "nmi": nmi_score(labels_true, labels_pred),
            "ari": ari_score(labels_true, labels_pred), "purity": purity_score(labels_true, labels_pred)}


@dataclass
class ClusteringScores:
    """The scores of a clustering and why each undefined one has no value.

    Attributes
    ----------
    scores : ``n_clusters``, the external scores when labels were given, the internal ones when a space was given;
        an undefined score is NaN (written null in run.json).
    undefined : score name → one sentence saying why it is undefined, for every NaN in ``scores``.
    """

    scores: dict[str, float]
    undefined: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """``{"metrics": scores with NaN as None, "metrics_undefined": undefined}``, as run.json writes them."""
        return {"metrics": {k: None if isinstance(v, float) and not math.isfinite(v) else v
                            for k, v in self.scores.items()},
                "metrics_undefined": dict(self.undefined)}


def score_clustering(labels_pred, labels_true=None, X=None, *, sample_size: int = 10_000,
                     random_state=0) -> ClusteringScores:
    """External scores when ``labels_true`` is given, internal scores when the space ``X`` (n, d) is given (the
    silhouette on a sample of ``sample_size``), and the reason for every score that is undefined (see
    :func:`undefined_reason`).

    Examples
    --------
    >>> import numpy as np
    >>> from deepclust.metrics import score_clustering
    >>> X = np.repeat(np.eye(3), 10, axis=0)  # every cluster on one point: scores would look perfect
    >>> result = score_clustering(np.repeat([0, 1, 2], 10), X=X)
    >>> result.scores["silhouette"]
    nan
    >>> "collapse" in result.undefined["silhouette"]
    True
    """
    scores: dict[str, float] = {"n_clusters": int(len(np.unique(labels_pred)))}
    undefined: dict[str, str] = {}
    if labels_true is not None:
        scores.update(external_scores(labels_true, labels_pred))
    if X is not None:
        internal, undefined = _internal(X, labels_pred, sample_size=sample_size, random_state=random_state)
        scores.update(internal)
    for name, value in scores.items():
        if isinstance(value, float) and not math.isfinite(value):
            undefined.setdefault(name, "undefined for this clustering")
    return ClusteringScores(scores, undefined)


def evaluate_clustering(labels_pred, labels_true=None, X=None, random_state=0) -> dict[str, float]:
    """External scores when ``labels_true`` is given, internal scores when features ``X`` are given (the scores of
    :func:`score_clustering`, without the reasons)."""
    return score_clustering(labels_pred, labels_true, X, random_state=random_state).scores


__all__ = ["INTERNAL_SCORES", "ClusteringScores", "ari_score", "clustering_accuracy_score", "evaluate_clustering",
           "external_scores", "internal_scores", "nmi_score", "purity_score", "score_clustering",
           "undefined_reason"]
