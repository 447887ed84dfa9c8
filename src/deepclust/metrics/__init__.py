"""Scores for clusterings: external (ACC, NMI, ARI, purity) when labels exist, internal always, each undefined one
with the reason it has no value.

Images in no cluster (label -1, :data:`~deepclust.methods.NO_CLUSTER`: a density method's noise, images a person set
aside) are left out of the scores of a clustering (:func:`external_scores`, :func:`score_clustering`): they are
scores of the images in clusters, and ``unclustered`` says what share was left out, so a method cannot look better
by leaving its hard images out without saying so (ACC over all images, the left-out ones counted wrong, is ACC times
one less that share). ``n_clusters`` counts real clusters. The single scores (:func:`clustering_accuracy_score` …)
take labels as they are: there -1 is a label like any other."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..methods import NO_CLUSTER
from ._external import _check, ari_score, clustering_accuracy_score, nmi_score, purity_score
from ._internal import INTERNAL_SCORES, _internal, internal_scores, undefined_reason

EXTERNAL_SCORES = ("acc", "nmi", "ari", "purity")


def in_no_cluster(labels) -> np.ndarray:
    """Which of ``labels`` say "in no cluster" (:data:`~deepclust.methods.NO_CLUSTER`, -1; the text ``"-1"`` as
    assignments.csv holds it), as a boolean array.

    >>> in_no_cluster([0, -1, 2]).tolist(), in_no_cluster(["3", "-1"]).tolist()
    ([False, True, False], [False, True])
    """
    labels = np.asarray(labels)
    if labels.dtype.kind in "iuf":
        return labels == NO_CLUSTER
    return np.char.strip(labels.astype(str)) == str(NO_CLUSTER)


def external_scores(labels_true, labels_pred) -> dict[str, float]:
    """ACC, NMI, ARI and purity in one dict: of the images in clusters when some are in none (label -1), with
    ``unclustered``, the share of images left out (see the module's note); NaN when every image is in none.

    >>> scores = external_scores([0, 0, 1, 1], [5, 5, 7, -1])
    >>> scores["acc"], scores["unclustered"]
    (1.0, 0.25)
    """
    labels_true, labels_pred = _check(labels_true, labels_pred)
    out = in_no_cluster(labels_pred)
    if out.all():
        return {**dict.fromkeys(EXTERNAL_SCORES, float("nan")), "unclustered": 1.0}
    kept_true, kept_pred = labels_true[~out], labels_pred[~out]
    scores = {"acc": clustering_accuracy_score(kept_true, kept_pred), "nmi": nmi_score(kept_true, kept_pred),
              "ari": ari_score(kept_true, kept_pred), "purity": purity_score(kept_true, kept_pred)}
    if out.any():
        scores["unclustered"] = float(out.mean())
    return scores


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
    :func:`undefined_reason`). Images in no cluster (label -1) are left out of both and counted by ``unclustered``,
    their share (present only when some are); ``n_clusters`` counts the real clusters.

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
    labels_pred = np.asarray(labels_pred)
    out = in_no_cluster(labels_pred)
    scores: dict[str, float] = {"n_clusters": int(len(np.unique(labels_pred[~out])))}
    undefined: dict[str, str] = {}
    if out.any():
        scores["unclustered"] = float(out.mean())
    if labels_true is not None:
        scores.update(external_scores(labels_true, labels_pred))
    if X is not None:
        if out.all():
            internal = dict.fromkeys(INTERNAL_SCORES, float("nan"))
        else:
            internal, undefined = _internal(np.asarray(X)[~out], labels_pred[~out], sample_size=sample_size,
                                            random_state=random_state)
        scores.update(internal)
    if out.all():
        undefined.update({name: "undefined: every image is in no cluster (label -1)"
                          for name in (*EXTERNAL_SCORES, *INTERNAL_SCORES) if name in scores})
    for name, value in scores.items():
        if isinstance(value, float) and not math.isfinite(value):
            undefined.setdefault(name, "undefined for this clustering")
    return ClusteringScores(scores, undefined)


def evaluate_clustering(labels_pred, labels_true=None, X=None, random_state=0) -> dict[str, float]:
    """External scores when ``labels_true`` is given, internal scores when features ``X`` are given (the scores of
    :func:`score_clustering`, without the reasons)."""
    return score_clustering(labels_pred, labels_true, X, random_state=random_state).scores


__all__ = ["EXTERNAL_SCORES", "INTERNAL_SCORES", "ClusteringScores", "ari_score", "clustering_accuracy_score",
           "evaluate_clustering", "external_scores", "in_no_cluster", "internal_scores", "nmi_score", "purity_score",
           "score_clustering", "undefined_reason"]
