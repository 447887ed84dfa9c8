"""Large n and large k: faiss k-means against scikit-learn, the two-level k-means, UMAP's faiss neighbours."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

pytest.importorskip("faiss")

from deepclust._umap import FAISS_KNN_FROM, UMAPReducer  # noqa: E402
from deepclust.cluster import FaissKMeans, HierarchicalKMeans, make_kmeans  # noqa: E402
from deepclust.cluster._kmeans import split_proportionally  # noqa: E402


@pytest.fixture(scope="module")
def many_blobs():
    return make_blobs(20_000, centers=200, n_features=16, cluster_std=0.4, center_box=(-20, 20), random_state=0)


def _inertia(X, centres):
    d = ((X[:, None, :] - centres[None]) ** 2).sum(-1) if len(X) * len(centres) < 5e6 else None
    if d is None:
        from sklearn.metrics import pairwise_distances_argmin_min

        _, dist = pairwise_distances_argmin_min(X, centres)
        return float((dist ** 2).sum())
    return float(d.min(1).sum())


def test_faiss_and_sklearn_agree_on_a_small_case(many_blobs):
    """Same data, k = 200: faiss k-means and scikit-learn's partitions agree (ARI ≥ 0.9) and their inertias are
    within 5 %."""
    X, _ = many_blobs
    X = X.astype(np.float32)
    ours = FaissKMeans(200, n_init=1, max_iter=25, random_state=0).fit(X)
    theirs = KMeans(200, n_init=1, random_state=0).fit(X)
    assert adjusted_rand_score(theirs.labels_, ours.labels_) >= 0.9
    a, b = _inertia(X, ours.cluster_centers_), float(theirs.inertia_)
    assert abs(a - b) / b <= 0.05, (a, b)


def test_hierarchical_kmeans_finds_the_blobs_and_pickles(many_blobs):
    """Two levels (15 coarse × their share of 200) find the 200 blobs as well as flat k-means; every point gets its
    nearest final centre; the fitted model survives pickling."""
    X, y = many_blobs
    X = X.astype(np.float32)
    model = HierarchicalKMeans(200, random_state=0).fit(X)
    assert model.n_coarse_ == 15 and model.cluster_centers_.shape == (200, 16)
    assert adjusted_rand_score(y, model.labels_) >= 0.9
    np.testing.assert_array_equal(model.labels_, ((X[:, None] - model.cluster_centers_[None]) ** 2).sum(-1).argmin(1))
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X[:500]), model.labels_[:500])
    np.testing.assert_array_equal(HierarchicalKMeans(200, random_state=0).fit(X).labels_, model.labels_)


def test_split_proportionally_adds_up_and_respects_sizes():
    parts = split_proportionally(10, [50, 30, 15, 5, 0])
    assert parts.sum() == 10 and parts[-1] == 0 and (parts[:4] >= 1).all() and list(parts[:2]) == [5, 3]
    parts = split_proportionally(7, [1, 1, 100])
    assert list(parts) == [1, 1, 5]
    with pytest.raises(ValueError, match="cannot split"):
        split_proportionally(10, [3, 3])


def test_make_kmeans_picks_the_backend_by_size():
    assert isinstance(make_kmeans(10, 1_000, 0), KMeans)
    assert isinstance(make_kmeans(1_000, 50_000, 0), FaissKMeans)
    assert isinstance(make_kmeans(10_000, 500_000, 0), HierarchicalKMeans)


def test_umap_with_faiss_neighbours_embeds_new_points_beside_their_blob():
    """From FAISS_KNN_FROM samples the neighbours come from faiss; transform still works (and after pickling), and
    a blob's new points land among that blob's training points."""
    X, y = make_blobs(FAISS_KNN_FROM + 500, centers=4, n_features=10, cluster_std=1.0, random_state=0)
    X = X.astype(np.float32)
    reducer = UMAPReducer(n_components=2, random_state=0).fit(X[:-500])
    assert reducer.neighbours_from_.startswith("faiss")
    reducer = pickle.loads(pickle.dumps(reducer))
    new = reducer.transform(X[-500:])
    train_y = y[:-500]
    centres = np.stack([reducer.embedding_[train_y == c].mean(0) for c in range(4)])
    nearest = ((new[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
    assert (nearest == y[-500:]).mean() >= 0.95


def test_streamed_pca_matches_plain_l2_pca_and_streams_a_memmap(tmp_path):
    """Fitted on a sample, StreamedPCA spans nearly the same subspace as L2 + PCA on everything, and it projects a
    memory-mapped matrix chunk by chunk (the output equals a one-shot projection)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import normalize

    from deepclust.cluster._streamed_pca import StreamedPCA

    rng = np.random.RandomState(0)
    X = (rng.normal(size=(6_000, 8)) @ rng.normal(size=(8, 64)) + 0.05 * rng.normal(size=(6_000, 64)))
    path = tmp_path / "features.npy"
    np.save(path, X.astype(np.float32))
    mapped = np.load(path, mmap_mode="r")
    streamed = StreamedPCA(8, fit_sample=2_000, chunk_size=700, random_state=0).fit(mapped)
    plain = PCA(8, random_state=0).fit(normalize(X))
    overlap = np.linalg.svd(streamed.pca_.components_ @ plain.components_.T, compute_uv=False)
    assert overlap.min() > 0.99  # the same 8-d subspace
    Z = streamed.transform(mapped)
    np.testing.assert_allclose(Z, streamed.pca_.transform(normalize(X).astype(np.float32)), rtol=1e-4, atol=1e-5)


def test_a_saved_umap_places_new_points_where_faiss_is_not_installed(monkeypatch):
    """A model pickled with faiss's search and loaded without faiss answers the same queries by exact search."""
    from deepclust import _umap

    data = np.random.RandomState(0).normal(size=(300, 5)).astype(np.float32)
    saved = pickle.dumps(_umap.FaissNeighbours(data))
    expected = pickle.loads(saved).query(data[:7] + 0.01, 4)
    monkeypatch.setattr(_umap, "_faiss", lambda: None)
    found = pickle.loads(saved).query(data[:7] + 0.01, 4)
    np.testing.assert_array_equal(found[0], expected[0])
    np.testing.assert_allclose(found[1], expected[1], rtol=1e-4)
