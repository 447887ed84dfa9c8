"""Internal scores are NaN with a reason where they would mean nothing: one cluster, every sample its own cluster,
a space where the clusters collapsed to points; and defined, with no reason, in an ordinary space."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from deepclust.metrics import (
    INTERNAL_SCORES,
    ClusteringScores,
    evaluate_clustering,
    internal_scores,
    score_clustering,
    undefined_reason,
)


@pytest.fixture
def blobs():
    """Three separated Gaussian blobs in 4-d, 30 points each, and their labels."""
    rng = np.random.RandomState(0)
    labels = np.repeat(np.arange(3), 30)
    return rng.normal(0, 1, (90, 4)) + 8 * np.eye(4)[labels], labels


def test_an_ordinary_space_has_every_score_and_no_reason(blobs):
    """Separated blobs: all three internal scores are numbers, good ones, and nothing is undefined."""
    X, labels = blobs
    result = score_clustering(labels, labels, X)
    assert result.undefined == {} and undefined_reason(X, labels) is None
    assert result.scores["silhouette"] > 0.6 and result.scores["davies_bouldin"] < 0.6, result.scores
    assert result.scores["acc"] == 1.0 and result.scores["n_clusters"] == 3
    assert result.scores == evaluate_clustering(labels, labels, X)


@pytest.mark.parametrize("space", ["points", "one-hot"])
def test_clusters_collapsed_to_points_are_undefined_not_perfect(blobs, space):
    """Every cluster on one point (consensus's old space) or one-hot probabilities: scikit-learn would say
    silhouette 1, Davies–Bouldin 0, Calinski–Harabasz 1; here all three are NaN with the reason."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    _, labels = blobs
    Z = np.eye(3)[labels] if space == "one-hot" else np.repeat(np.random.RandomState(1).normal(size=(3, 5)), 30, 0)
    Z = Z.astype(np.float32)
    degenerate = silhouette_score(Z, labels), davies_bouldin_score(Z, labels), calinski_harabasz_score(Z, labels)
    np.testing.assert_allclose(degenerate, (1.0, 0.0, 1.0), atol=1e-5)  # the numbers the guard keeps out of reports
    result = score_clustering(labels, X=Z)
    assert all(math.isnan(result.scores[name]) for name in INTERNAL_SCORES), result.scores
    assert set(result.undefined) == set(INTERNAL_SCORES)
    assert "90 points lie on only 3 distinct positions for 3 clusters" in result.undefined["silhouette"]
    assert all(math.isnan(v) for v in internal_scores(Z, labels).values())


def test_a_space_without_spread_within_clusters_is_undefined(blobs):
    """Each cluster on one point up to float noise (so the points are distinct): no within-cluster spread, so
    undefined."""
    _, labels = blobs
    rng = np.random.RandomState(2)
    Z = 10 * np.eye(3)[labels] + rng.normal(0, 1e-5, (90, 3))
    assert "no spread within the clusters" in undefined_reason(Z, labels)


def test_few_points_per_cluster_or_duplicates_are_judged_fairly(blobs):
    """Two points per cluster, all distinct, are scored; half the clusters' points duplicated still are."""
    X, labels = blobs
    pairs = np.r_[X[:2], X[30:32], X[60:62]]
    assert undefined_reason(pairs, np.repeat(np.arange(3), 2)) is None
    duplicated = X.copy()
    duplicated[:15] = duplicated[0]
    assert score_clustering(labels, X=duplicated).undefined == {}


def test_one_cluster_every_sample_alone_and_a_one_cluster_sample_say_why(blobs):
    """One cluster, every sample its own cluster, and a silhouette sample that holds one cluster each get their own
    reason; the other scores stay defined in the last case."""
    X, labels = blobs
    one = score_clustering(np.zeros(90, int), X=X)
    assert one.undefined["calinski_harabasz"] == "undefined for 1 cluster: internal scores compare clusters"
    alone = score_clustering(np.arange(90), X=X)
    assert alone.undefined["silhouette"] == "undefined when every image is its own cluster"
    lopsided = np.r_[np.zeros(89, int), 1]
    small = score_clustering(lopsided, X=X, sample_size=5, random_state=0)
    assert list(small.undefined) == ["silhouette"] and "sample of 5 images" in small.undefined["silhouette"]
    assert math.isfinite(small.scores["davies_bouldin"])


def test_to_dict_writes_null_and_the_reasons():
    """The result's dict form is valid JSON with null for each undefined score and its reason beside."""
    result = ClusteringScores({"n_clusters": 1, "acc": 1.0, "silhouette": float("nan")}, {"silhouette": "why"})
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert json.loads(text) == {"metrics": {"n_clusters": 1, "acc": 1.0, "silhouette": None},
                                "metrics_undefined": {"silhouette": "why"}}
