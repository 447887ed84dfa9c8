"""FeatureClustering: the estimator contract, determinism, choice of k, and quality on real data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from deepclust.cluster import FaissKMeans, FeatureClustering
from deepclust.datasets import load_dataset
from deepclust.metrics import clustering_accuracy_score


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(600, n_features=20, centers=5, cluster_std=1.0, random_state=0)


def test_same_seed_same_labels(blobs):
    """Two fits with the same random_state give identical labels, with UMAP in the loop."""
    X, _ = blobs
    a = FeatureClustering(5, random_state=3).fit(X).labels_
    b = FeatureClustering(5, random_state=3).fit(X).labels_
    np.testing.assert_array_equal(a, b)


def test_clone_and_params():
    """__init__ only stores parameters: clone and get_params round-trip."""
    model = FeatureClustering(4, algorithm="agglomerative-ward", pca_components=7, random_state=1)
    assert clone(model).get_params() == model.get_params()


def test_choice_of_k_finds_the_blobs(blobs):
    """Without n_clusters, the prediction strength picks the 5 generating blobs, and the curve is kept."""
    X, y = blobs
    model = FeatureClustering(None, umap_components=None, l2_normalize=False, random_state=0).fit(X)
    assert model.n_clusters_ == 5 and model.k_selection_.k == 5
    assert len(model.k_selection_.scores) == len(model.k_selection_.ks) == 19
    assert clustering_accuracy_score(y, model.labels_) > 0.95


@pytest.mark.parametrize("algorithm", ["kmeans", "agglomerative-ward", "agglomerative-average"])
def test_algorithms_recover_blobs(blobs, algorithm):
    """Each algorithm recovers well-separated blobs (ACC > 0.95); only k-means offers predict."""
    X, y = blobs
    model = FeatureClustering(5, algorithm=algorithm, umap_components=None, random_state=0).fit(X)
    assert clustering_accuracy_score(y, model.labels_) > 0.95
    assert model.cluster_centers_.shape == (5, model.embedding_.shape[1])
    assert hasattr(model, "predict") == (algorithm == "kmeans")
    if algorithm == "kmeans":
        np.testing.assert_array_equal(model.predict(X[:50]), model.labels_[:50])


def test_bad_parameters_raise(blobs):
    """Unknown algorithms and impossible k are ValueErrors."""
    X, _ = blobs
    with pytest.raises(ValueError, match="algorithm"):
        FeatureClustering(3, algorithm="dbscan").fit(X)
    with pytest.raises(ValueError, match="n_clusters"):
        FeatureClustering(10_000).fit(X)


def test_faiss_kmeans_matches_sklearn_quality(blobs):
    """The faiss backend finds the same blobs as scikit-learn's k-means."""
    pytest.importorskip("faiss")
    X, y = blobs
    labels = FaissKMeans(5, random_state=0).fit(X).labels_
    assert clustering_accuracy_score(y, labels) > 0.95


def test_umap_step_beats_plain_kmeans_on_digits():
    """On scikit-learn's digits (raw pixels), the default reduction (L2, PCA, UMAP) beats plain k-means by ≥ 5
    ACC points — the manifold step is what BASELINES.md says it is."""
    X, y = load_dataset("digits")
    X = X.reshape(len(X), -1).astype(np.float32)
    plain = clustering_accuracy_score(y, KMeans(10, n_init=10, random_state=0).fit_predict(X))
    ours = clustering_accuracy_score(y, FeatureClustering(10, random_state=0).fit(X).labels_)
    assert ours >= plain + 0.05, f"ours {ours:.3f} vs k-means on pixels {plain:.3f}"
