"""Label -1, "in no cluster" (a density method's noise, an image a person set aside), downstream of any fit: the
placement of such images, the scores, the clusters' tree and ``--like``'s renumbering."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from deepclust.cluster import cluster_tree
from deepclust.methods import NO_CLUSTER, measure_placement
from deepclust.metrics import external_scores, in_no_cluster, score_clustering
from deepclust.run import ClusterRun, keep_numbers


def test_an_image_in_no_cluster_is_at_its_nearest_centre_with_confidence_zero():
    """Rows labelled -1 get the distance to the nearest centre (not the last centre's, as -1 would index) and
    confidence 0; the other rows are measured as before."""
    embedding = np.array([[0.0, 0.0], [10.0, 0.0], [9.0, 0.0], [4.0, 0.0]])
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    labels = np.array([0, 1, NO_CLUSTER, NO_CLUSTER])
    _, distances, confidence = measure_placement(embedding, labels, centers)
    np.testing.assert_allclose(distances, [0.0, 0.0, 1.0, 4.0])
    assert confidence[2:].tolist() == [0.0, 0.0] and confidence[:2].tolist() == [1.0, 1.0]


def test_no_centre_at_all_leaves_an_infinite_distance():
    """A fit that found no cluster: every image in none, at no finite distance, with confidence 0."""
    _, distances, confidence = measure_placement(np.zeros((3, 2)), np.full(3, NO_CLUSTER), np.empty((0, 2)))
    assert np.isinf(distances).all() and (confidence == 0).all()


def test_external_scores_are_of_the_clustered_images_with_the_share_left_out():
    """ACC/NMI/ARI/purity leave the -1 images out (a perfect clustering of the rest scores 1) and ``unclustered``
    gives their share; without any -1 the scores are as before, with no such key; string ids from a CSV too."""
    y = np.array([0, 0, 1, 1, 2, 2])
    scores = external_scores(y, [4, 4, 7, 7, NO_CLUSTER, NO_CLUSTER])
    assert scores["acc"] == scores["nmi"] == scores["ari"] == scores["purity"] == 1.0
    assert scores["unclustered"] == pytest.approx(1 / 3)
    assert "unclustered" not in external_scores(y, [0, 0, 1, 1, 2, 2])
    assert external_scores(y, ["4", "4", "7", "7", "-1", "-1"]) == scores
    assert in_no_cluster(np.array([" -1", "1"])).tolist() == [True, False]


def test_score_clustering_counts_real_clusters_and_scores_internally_without_minus_one():
    """n_clusters leaves -1 out; the silhouette is that of the clustered images; a clustering with every image
    in none has NaN scores, each with the reason."""
    rs = np.random.RandomState(0)
    X = np.r_[rs.normal(0, 0.1, (20, 2)), rs.normal(5, 0.1, (20, 2)), rs.uniform(-50, 50, (5, 2))]
    labels = np.r_[np.zeros(20, int), np.ones(20, int), np.full(5, NO_CLUSTER)]
    result = score_clustering(labels, np.r_[np.zeros(20), np.ones(20), np.zeros(5)], X)
    assert result.scores["n_clusters"] == 2 and result.scores["unclustered"] == pytest.approx(5 / 45)
    clustered = score_clustering(labels[:40], None, X[:40]).scores
    assert result.scores["silhouette"] == pytest.approx(clustered["silhouette"])
    assert result.scores["acc"] == 1.0
    none = score_clustering(np.full(45, NO_CLUSTER), np.zeros(45), X)
    assert none.scores["n_clusters"] == 0 and np.isnan(none.scores["acc"]) and np.isnan(none.scores["silhouette"])
    assert "every image is in no cluster" in none.undefined["acc"]


def test_the_tree_leaves_out_the_images_in_no_cluster():
    """-1 is no leaf of the clusters' tree, and fewer than three real clusters make no tree."""
    X = np.array([[0.0], [0.1], [1.0], [1.1], [9.0], [9.1], [50.0]])
    tree = cluster_tree(X, np.array([0, 0, 1, 1, 2, 2, NO_CLUSTER]), n_groups=2)
    assert tree is not None and tree.clusters == [0, 1, 2] and tree.groups == {0: 0, 1: 0, 2: 1}
    assert cluster_tree(X, np.array([0, 0, 0, 1, 1, 1, NO_CLUSTER])) is None


def _run(labels, paths) -> ClusterRun:
    n = len(labels)
    return ClusterRun(paths=list(paths), labels=np.asarray(labels), distances=np.zeros(n), confidence=np.ones(n),
                      n_clusters=len(set(labels) - {NO_CLUSTER}), params={"method": "hdbscan", "random_state": 0},
                      timings={}, metrics={}, embedding=np.arange(n, dtype=float)[:, None])


def test_like_keeps_minus_one_and_never_matches_it(tmp_path):
    """An earlier run's -1 is no cluster to keep: a new cluster made of images that were in none gets a new
    number, not -1; the new run's -1 stays -1; matched clusters keep their numbers."""
    paths = [f"{i}.png" for i in range(9)]
    earlier = _run([0, 0, 0, 1, 1, 1, NO_CLUSTER, NO_CLUSTER, NO_CLUSTER], paths).save(tmp_path / "a", map=None)
    now = _run([5, 5, 5, NO_CLUSTER, 3, 3, 8, 8, 8], paths)
    kept = keep_numbers(now, earlier)
    assert kept.labels.tolist() == [0, 0, 0, NO_CLUSTER, 1, 1, 2, 2, 2]
    like = kept.params["like"]
    assert like["kept"] == [0, 1] and like["new"] == [2] and like["renumbered"] == {"3": 1, "5": 0, "8": 2}
    assert dataclasses.replace(kept).n_unclustered == 1
