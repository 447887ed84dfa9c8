"""Choosing k without labels: the prediction strength decides; silhouette and eigengap are recorded as votes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from deepclust import cluster_images, load_dataset
from deepclust.cluster import FeatureClustering, prediction_strength, select_n_clusters


@pytest.mark.parametrize("k", [3, 5, 20])
def test_planted_blobs_through_the_default_reduction(k):
    """Well-separated planted blobs (64-d, through L2 + PCA + UMAP as every run) give k within ±1."""
    X, _ = make_blobs(1500, n_features=64, centers=k, cluster_std=1.0, random_state=k)
    model = FeatureClustering(None, random_state=0).fit(X)
    assert abs(model.n_clusters_ - k) <= 1, model.k_selection_.to_dict()["curve"]
    assert set(model.k_selection_.votes) == {"prediction strength", "silhouette", "eigengap"}


def test_digits_features_give_about_ten_not_two(tmp_path):
    """On the 8×8 digits' CNN features the silhouette alone says 2; the chosen k is within 8–12, with the curves and
    a runner-up recorded."""
    X, y = load_dataset("digits")
    run = cluster_images(X, labels_true=y, verbose=False, cache_dir=tmp_path)
    sel = run.k_selection
    assert 8 <= sel["k"] <= 12, sel["curve"]
    assert sel["votes"]["silhouette"] == 2  # what the old chooser said: the reason for the change
    assert sel["runner_up"] is not None and set(sel["curves"]) == {"prediction strength", "silhouette", "eigengap"}
    assert run.metrics["acc"] > 0.7


def test_prediction_strength_is_high_for_the_true_k_only():
    """Two clear blobs: k = 2 is fully reproducible, k = 5 is not."""
    X, _ = make_blobs(600, centers=2, n_features=4, cluster_std=0.5, random_state=0)

    def make(k):
        return KMeans(k, n_init=3, random_state=0)

    assert prediction_strength(X, 2, make) > 0.95 > prediction_strength(X, 5, make)


def test_uniform_noise_gets_no_large_k():
    """No structure: halving a square is reproducible, more clusters are not, so k stays at 2 or 3, never k_max."""
    X = np.random.RandomState(0).uniform(size=(400, 2))
    sel = select_n_clusters(X, lambda k: KMeans(k, n_init=3, random_state=0), k_max=8)
    assert sel.k <= 3 and max(sel.scores[2:]) < 0.8
