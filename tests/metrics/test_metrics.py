"""Property tests for every external metric, and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepclust.metrics import (
    ari_score,
    clustering_accuracy_score,
    evaluate_clustering,
    internal_scores,
    nmi_score,
    purity_score,
)

METRICS = [clustering_accuracy_score, nmi_score, ari_score, purity_score]
labelings = st.lists(st.integers(0, 5), min_size=2, max_size=60)


@pytest.mark.parametrize("metric", METRICS)
@given(labels=labelings)
@settings(max_examples=40, deadline=None)
def test_perfect_labelling_scores_one(metric, labels):
    """A clustering equal to the classes up to renaming scores 1."""
    renamed = [(x * 7 + 3) % 11 for x in labels]
    assert metric(labels, renamed) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", METRICS)
@given(true=labelings, seed=st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_permuting_cluster_ids_changes_nothing(metric, true, seed):
    """Swapping cluster ids never changes a score."""
    rng = np.random.RandomState(seed)
    pred = rng.randint(0, 4, len(true))
    perm = rng.permutation(4)
    assert metric(true, perm[pred]) == pytest.approx(metric(true, pred))


@pytest.mark.parametrize("metric", METRICS)
def test_string_labels_work(metric):
    """Class names as strings score like integers."""
    true = ["cat", "cat", "dog", "dog", "owl"]
    pred = [1, 1, 0, 0, 0]
    assert metric(true, pred) == pytest.approx(metric([0, 0, 1, 1, 2], pred))


def test_hand_computed_values():
    """ACC uses a one-to-one map (4/6 here); purity lets clusters share a class (5/6)."""
    true = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 1, 1]
    assert clustering_accuracy_score(true, pred) == pytest.approx(4 / 6)
    assert purity_score(true, pred) == pytest.approx(4 / 6)
    assert purity_score([0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 1, 1]) == pytest.approx(4 / 6)
    assert clustering_accuracy_score([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(0.5)


def test_bad_input_raises():
    """Different lengths or empty labels are errors."""
    with pytest.raises(ValueError):
        nmi_score([0, 1], [0])
    with pytest.raises(ValueError):
        clustering_accuracy_score([], [])


def test_internal_scores_rank_good_above_bad():
    """On two separated blobs, the true split has a higher silhouette and lower Davies–Bouldin than a random one."""
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(10, 1, (100, 2))]
    good = np.r_[np.zeros(100, int), np.ones(100, int)]
    bad = rng.randint(0, 2, 200)
    g, b = internal_scores(X, good), internal_scores(X, bad)
    assert g["silhouette"] > 0.8 > b["silhouette"] and g["davies_bouldin"] < b["davies_bouldin"]
    assert np.isnan(internal_scores(X, np.zeros(200, int))["silhouette"])
    assert set(evaluate_clustering(good, good, X)) >= {"acc", "nmi", "ari", "purity", "silhouette"}
