"""Graph degree linkage (JULE's forward pass on its own): its parts against hand computations (the K_s-NN affinity,
the linkage between clusters, the merge criterion, the exact update after a merge, the initial clusters) and
GDLAgglomeration as a scikit-learn estimator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from deepclust.cluster import GDLAgglomeration
from deepclust.cluster._gdl import (
    _Agglomeration,
    agglomerate,
    cluster_affinity,
    initial_clusters,
    merge_criterion,
    sample_affinity,
)


def test_finds_separated_blobs():
    """Three well separated blobs come out as the three clusters."""
    X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    model = GDLAgglomeration(3, graph_neighbors=10).fit(X)
    ari = adjusted_rand_score(y, model.labels_)
    assert ari > 0.95, f"ARI {ari:.3f}"
    assert sorted(np.unique(model.labels_)) == [0, 1, 2] and model.n_passes_ >= 1


def test_passes_equal_the_functions():
    """With eta = 1 one pass after time step 0 is the functions' agglomeration of the initial clusters."""
    X, _ = make_blobs(120, centers=4, random_state=1)
    W = sample_affinity(X, K_s=8)
    expected = agglomerate(W, initial_clusters(W), Z=X, n_clusters=4, K_c=5)
    assert np.array_equal(GDLAgglomeration(4, graph_neighbors=8).fit(X).labels_, expected)


def test_bad_parameters_are_refused():
    """eta outside (0, 1] and more clusters than samples are clear errors."""
    X = np.random.RandomState(0).rand(10, 2)
    with pytest.raises(ValueError, match="eta"):
        GDLAgglomeration(2, eta=0).fit(X)
    with pytest.raises(ValueError, match="exceeds the number of samples"):
        GDLAgglomeration(20).fit(X)


def test_sample_affinity_is_the_gaussian_of_the_k_nearest_neighbours():
    """Five points on a line, K_s = 2: W[i, j] = exp(−d²/σ²) for the two nearest j, σ² the mean of those d²."""
    Z = np.array([[0.0], [1.0], [3.0], [7.0], [12.0]])
    W = sample_affinity(Z, K_s=2).toarray()
    neighbours = {0: (1, 2), 1: (0, 2), 2: (1, 0), 3: (2, 4), 4: (3, 2)}
    d2 = {(i, j): (Z[i, 0] - Z[j, 0]) ** 2 for i, js in neighbours.items() for j in js}
    sigma2 = np.mean(list(d2.values()))
    hand = np.zeros((5, 5))
    for (i, j), v in d2.items():
        hand[i, j] = np.exp(-v / sigma2)
    np.testing.assert_allclose(W, hand, rtol=1e-6)
    assert (np.count_nonzero(W, axis=1) == 2).all()


def test_cluster_affinity_is_the_graph_degree_linkage_of_a_toy_graph():
    """A random directed graph on 7 nodes in 3 clusters: A[a, b] = 1ᵀW_abW_ba1/|a|² + 1ᵀW_baW_ab1/|b|², computed
    literally with the dense blocks, equals the sparse computation."""
    rng = np.random.RandomState(0)
    W = rng.rand(7, 7) * (rng.rand(7, 7) < 0.6)
    np.fill_diagonal(W, 0)
    labels = np.array([0, 0, 1, 1, 1, 2, 2])
    A = cluster_affinity(sparse.csr_matrix(W), labels).toarray()
    members = [np.flatnonzero(labels == c) for c in range(3)]
    for a in range(3):
        for b in range(3):
            if a == b:
                assert A[a, b] == 0
                continue
            Wab, Wba = W[np.ix_(members[a], members[b])], W[np.ix_(members[b], members[a])]
            hand = Wab.dot(Wba).sum() / len(members[a]) ** 2 + Wba.dot(Wab).sum() / len(members[b]) ** 2
            assert A[a, b] == pytest.approx(hand, rel=1e-9), (a, b)
    np.testing.assert_allclose(A, A.T)


def test_merge_criterion_adds_the_margin_over_the_next_neighbours():
    """A₁ + λ/(K_c−1) Σ (A₁ − A_k): with affinities 5, 3, 1 and K_c = 4 the missing fourth counts as 0."""
    assert merge_criterion([1.0, 5.0, 3.0], K_c=4, lambda_=1.0) == pytest.approx(5 + (2 + 4 + 5) / 3)
    assert merge_criterion([1.0, 5.0, 3.0], K_c=4, lambda_=0.0) == pytest.approx(5.0)
    assert merge_criterion([], K_c=5) == -np.inf


def test_a_merge_updates_the_affinities_exactly():
    """After merging two clusters, every stored affinity equals the graph degree linkage recomputed from scratch
    on the new clusters (the update is exact, not the reference's fast approximation)."""
    rng = np.random.RandomState(1)
    Z = rng.normal(size=(60, 3))
    W = sample_affinity(Z, K_s=5)
    labels = initial_clusters(W)
    state = _Agglomeration(W, labels, Z, K_c=5, lambda_=1.0)
    for _ in range(12):
        state.step()
    fresh_labels = np.unique(state.labels, return_inverse=True)[1]
    fresh = cluster_affinity(W, fresh_labels).toarray()
    alive = np.flatnonzero(state.alive)
    stored = np.array([[state.A[a].get(b, 0.0) for b in alive] for a in alive])
    np.testing.assert_allclose(stored, fresh, rtol=1e-9, atol=1e-12)
    for a in alive:  # and every cluster's criterion follows its affinities (the next merge reads these)
        expected = merge_criterion(list(state.A[a].values())) if state.A[a] else -np.inf
        assert state.value[a] == pytest.approx(expected)


def test_initial_clusters_join_every_point_with_its_nearest_neighbour():
    """Three tight pairs far apart and one point near the third pair: three clusters, the lone point with its
    nearest pair."""
    Z = np.array([[0.0, 0], [0.1, 0], [5, 5], [5.1, 5], [10, 0], [10.1, 0], [10.5, 0]])
    labels = initial_clusters(sample_affinity(Z, K_s=2))
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[4] == labels[5] == labels[6]
    assert len(np.unique(labels)) == 3
