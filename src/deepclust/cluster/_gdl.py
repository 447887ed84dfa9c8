"""Graph degree linkage (GDL; Zhang, Wang, Zhao, Tang, ECCV 2012): agglomerative clustering on a directed
K_s-nearest-neighbour graph, the forward pass of JULE (:class:`~deepclust.deep.JULE`) and an estimator of its own,
:class:`GDLAgglomeration`.

The affinity and the merge criterion are small functions here, each tested against a hand computation:
:func:`sample_affinity` (the K_s-nearest-neighbour graph W), :func:`initial_clusters` (each sample with its nearest
neighbour), :func:`cluster_affinity` (A between clusters, from sparse products), :func:`merge_criterion` (JULE's, with
its margin term), and :func:`agglomerate` (the merges, with the exact update of A after each)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_array

from ..methods import N_CLUSTERS, NON_NEGATIVE, POSITIVE, POSITIVE_INT, Interval, check_params


def sample_affinity(Z: np.ndarray, K_s: int = 20, a: float = 1.0) -> sparse.csr_matrix:
    """W (n × n, sparse, directed): W[i, j] = exp(−‖z_i − z_j‖² / σ²) when j is one of the ``K_s`` nearest
    neighbours of i, else 0; σ² = ``a`` × the mean squared distance of those neighbour pairs (GDL, Zhang et al.
    ECCV 2012, as JULE)."""
    from sklearn.neighbors import NearestNeighbors

    Z = np.asarray(Z, np.float32)
    n = len(Z)
    K_s = int(min(K_s, n - 1))
    dist, idx = NearestNeighbors(n_neighbors=K_s + 1).fit(Z).kneighbors(Z)
    # drop each point itself (the first neighbour, unless duplicates tie with it: then drop the column holding i)
    own = idx == np.arange(n)[:, None]
    own[~own.any(1), -1] = True
    keep = ~own
    idx, d2 = idx[keep].reshape(n, K_s), (dist[keep].reshape(n, K_s) ** 2).astype(np.float64)
    sigma2 = float(a) * max(float(d2.mean()), 1e-12)
    rows = np.repeat(np.arange(n), K_s)
    return sparse.csr_matrix((np.exp(-d2.ravel() / sigma2), (rows, idx.ravel())), shape=(n, n))


def initial_clusters(W: sparse.csr_matrix) -> np.ndarray:
    """Labels 0…c−1 that put every sample with its nearest neighbour (the strongest edge of W), then join the
    chains this makes (connected components of the 1-NN graph): JULE's initialisation, about n/3 clusters."""
    from scipy.sparse.csgraph import connected_components

    W = W.tocsr()
    n = W.shape[0]
    nearest = np.arange(n)
    for i in range(n):
        start, end = W.indptr[i], W.indptr[i + 1]
        if end > start:
            nearest[i] = W.indices[start + int(np.argmax(W.data[start:end]))]
    graph = sparse.csr_matrix((np.ones(n), (np.arange(n), nearest)), shape=(n, n))
    return connected_components(graph, directed=True, connection="weak")[1].astype(np.int64)


def cluster_affinity(W: sparse.csr_matrix, labels: np.ndarray) -> sparse.csr_matrix:
    """A (c × c, sparse, symmetric, zero diagonal) between the clusters of ``labels``, the graph degree linkage:
    A[a, b] = 1ᵀ W_ab W_ba 1 / |a|² + 1ᵀ W_ba W_ab 1 / |b|², with W_ab the rows of a and columns of b of W.

    Computed without any n × n product: 1ᵀ W_ab W_ba 1 = Σ_{j∈b} in_a(j) out_a(j), where in_a(j) = Σ_{i∈a} W[i, j]
    and out_a(j) = Σ_{i∈a} W[j, i] are columns of Wᵀ P and W P (P the n × c membership matrix)."""
    G = _linkage_sums(W, labels)
    sizes = np.bincount(labels).astype(np.float64)
    inv = sparse.diags(1.0 / sizes**2)
    A = (inv @ G + (inv @ G).T).tocsr()
    A.setdiag(0)
    A.eliminate_zeros()
    return A


def _linkage_sums(W: sparse.csr_matrix, labels: np.ndarray) -> sparse.csr_matrix:
    """G[a, b] = 1ᵀ W_ab W_ba 1 for every pair of clusters (sparse c × c)."""
    n = len(labels)
    P = sparse.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, int(labels.max()) + 1))
    into = (W.T @ P).tocsr()  # into[j, a] = Σ_{i∈a} W[i, j]
    out = (W @ P).tocsr()  # out[j, a] = Σ_{i∈a} W[j, i]
    return (into.multiply(out).T @ P).tocsr()


def merge_criterion(affinities: Iterable[float], K_c: int = 5, lambda_: float = 1.0) -> float:
    """The value of merging a cluster with its nearest neighbour cluster (JULE eq. 4, as a gain): the largest
    affinity A₁, plus λ/(K_c − 1) Σ_{k=2..K_c} (A₁ − A_k), the margin over the next K_c − 1 neighbours (missing
    neighbours count as affinity 0). ``affinities``: the cluster's affinities to the other clusters, any order."""
    top = heapq.nlargest(int(K_c), affinities)
    if not top:
        return -math.inf
    top += [0.0] * (int(K_c) - len(top))
    if K_c < 2:
        return float(top[0])
    return float(top[0] + float(lambda_) / (K_c - 1) * sum(top[0] - v for v in top[1:]))


class _Agglomeration:
    """The clusters and their affinities while merging; after each merge the affinities of the merged cluster are
    recomputed exactly (the reference code's "fast" mode approximates them; exact costs only sparse vectors)."""

    def __init__(self, W: sparse.csr_matrix, labels: np.ndarray, Z: np.ndarray, K_c: int, lambda_: float):
        self.labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
        c = int(self.labels.max()) + 1
        n = len(labels)
        P = sparse.csr_matrix((np.ones(n), (np.arange(n), self.labels)), shape=(n, c))
        into, out = (W.T @ P).tocsc(), (W @ P).tocsc()
        self.into = [into[:, a] for a in range(c)]  # sparse n × 1 columns, summed on merges
        self.out = [out[:, a] for a in range(c)]
        G = (into.multiply(out).T @ P).tocsr()
        G.setdiag(0)
        G.eliminate_zeros()
        self.G_out = [dict(zip(G.indices[G.indptr[a]:G.indptr[a + 1]].tolist(),
                               G.data[G.indptr[a]:G.indptr[a + 1]].tolist())) for a in range(c)]
        self.G_in: list[dict] = [{} for _ in range(c)]
        for a, row in enumerate(self.G_out):
            for b, v in row.items():
                self.G_in[b][a] = v
        self.size = np.bincount(self.labels, minlength=c).astype(np.float64)
        self.sums = np.zeros((c, Z.shape[1]))
        np.add.at(self.sums, self.labels, Z)
        self.alive = np.ones(c, bool)
        self.K_c, self.lambda_ = K_c, lambda_
        self.A: list[dict[int, float]] = [{} for _ in range(c)]
        for a in range(c):
            for b in set(self.G_out[a]) | set(self.G_in[a]):
                self.A[a][b] = self._pair(a, b)
        self.value = np.full(c, -np.inf)
        for a in range(c):
            self._score(a)
        self.n_clusters = c

    def _pair(self, a: int, b: int) -> float:
        return self.G_out[a].get(b, 0.0) / self.size[a] ** 2 + self.G_in[a].get(b, 0.0) / self.size[b] ** 2

    def _score(self, a: int) -> None:
        self.value[a] = merge_criterion(list(self.A[a].values()), self.K_c, self.lambda_) if self.A[a] else -np.inf

    def _nearest_centre(self, a: int) -> int:
        alive = np.flatnonzero(self.alive)
        centres = self.sums[alive] / self.size[alive, None]
        d = ((centres - self.sums[a] / self.size[a]) ** 2).sum(1)
        d[alive == a] = np.inf
        return int(alive[np.argmin(d)])

    def absorb_isolated(self, min_clusters: int) -> int:
        """Every cluster with no affinity to any other joins the cluster of the nearest centre (while more than
        ``min_clusters`` remain). Returns how many joined."""
        joined = 0
        for a in np.flatnonzero(self.alive):
            if self.n_clusters <= min_clusters:
                break
            if self.alive[a] and not self.A[a]:
                self.merge(self._nearest_centre(int(a)), int(a))
                joined += 1
        return joined

    def step(self) -> tuple[int, int]:
        a = int(np.argmax(self.value))
        if np.isfinite(self.value[a]) and self.A[a]:
            b = max(self.A[a], key=self.A[a].__getitem__)
        else:  # no cluster has any affinity left (isolated groups): join the smallest with the nearest centre
            alive = np.flatnonzero(self.alive)
            a = int(alive[np.argmin(self.size[alive])])
            b = self._nearest_centre(a)
        self.merge(a, b)
        return a, b

    def merge(self, a: int, b: int) -> None:
        """Cluster b joins cluster a."""
        touched = set(self.A[a]) | set(self.A[b])
        for y in self.G_out[a]:
            self.G_in[y].pop(a, None)
        for y in self.G_out[b]:
            self.G_in[y].pop(b, None)
        for x in set(self.G_in[a]) | set(self.G_in[b]):  # G[x, a∪b] = G[x, a] + G[x, b]: additive in the target
            if x in (a, b):
                continue
            v = self.G_out[x].pop(a, 0.0) + self.G_out[x].pop(b, 0.0)
            self.G_out[x][a] = v
        self.G_in[a] = {x: self.G_out[x][a] for x in set(self.G_in[a]) | set(self.G_in[b]) if x not in (a, b)}
        self.G_in[b], self.G_out[b] = {}, {}
        self.labels[self.labels == b] = a
        self.size[a] += self.size[b]
        self.size[b] = 0
        self.sums[a] += self.sums[b]
        self.alive[b] = False
        self.into[a] = self.into[a] + self.into[b]
        self.out[a] = self.out[a] + self.out[b]
        self.into[b] = self.out[b] = None
        # G[a∪b, y] = Σ_{j∈y} in(j) out(j) with the merged cluster's in/out degrees: recomputed exactly
        prod = self.into[a].multiply(self.out[a]).tocoo()
        row = {}
        if prod.nnz:
            targets = self.labels[prod.row]
            sums = np.bincount(targets, weights=prod.data)
            row = {int(y): float(sums[y]) for y in np.unique(targets) if y != a}
        self.G_out[a] = row
        for y, v in row.items():
            self.G_in[y][a] = v
        for y in touched:
            self.A[y].pop(a, None)
            self.A[y].pop(b, None)
        self.A[b] = {}
        self.A[a] = {}
        for y in set(self.G_out[a]) | set(self.G_in[a]):
            v = self._pair(a, y)
            self.A[a][y] = v
            self.A[y][a] = v
        self.value[b] = -np.inf
        for y in touched | set(self.A[a]) | {a}:  # cross terms can make a new neighbour of the merged cluster
            if self.alive[y]:
                self._score(y)
        self.n_clusters -= 1


def agglomerate(W: sparse.csr_matrix, labels: np.ndarray, *, Z: np.ndarray, n_clusters: int, eta: float = 1.0,
                K_c: int = 5, lambda_: float = 1.0, orphan_limit: float = 0.0) -> np.ndarray:
    """One forward pass over the clusters in ``labels``: clusters with no affinity to any other (no reciprocal
    edge in W: outliers) first join the cluster of the nearest centre in ``Z`` (n × d), as the reference does
    before it counts time steps — only while more than ``orphan_limit`` × ``n_clusters`` clusters remain
    (JULE.torch's 20; 0: at every pass); then
    ⌈``eta`` × c⌉ merges of the c clusters (one time step each; never below ``n_clusters``), each joining the
    cluster with the largest :func:`merge_criterion` with its nearest neighbour cluster. Returns labels 0…c−1."""
    state = _Agglomeration(W, labels, Z, K_c, lambda_)
    if state.n_clusters > float(orphan_limit) * int(n_clusters):
        state.absorb_isolated(int(n_clusters))
    c = state.n_clusters
    for _ in range(min(math.ceil(float(eta) * c), c - int(n_clusters))):
        state.step()
    return np.unique(state.labels, return_inverse=True)[1].astype(np.int64)


class GDLAgglomeration(ClusterMixin, BaseEstimator):
    """Agglomerative clustering by graph degree linkage with JULE's merge criterion: time step 0 puts every sample
    with its nearest neighbour; then passes of ⌈``eta`` × c⌉ merges of the c clusters (never below
    ``n_clusters``), each joining the cluster with the largest criterion (the affinity A to its nearest cluster plus
    λ times its margin over the next K_c − 1) with that cluster, until ``n_clusters`` remain. Transductive, as
    scikit-learn's ``AgglomerativeClustering``: no ``predict``.

    Parameters
    ----------
    n_clusters : int, default=10
        The number of clusters to merge down to.
    graph_neighbors : int, default=20
        Nearest neighbours K_s of each sample in the affinity graph W (JULE's 20).
    neighbor_clusters : int, default=5
        Neighbour clusters K_c that the merge criterion looks at (JULE's 5).
    merge_margin_weight : float, default=1.0
        Weight λ of the margin term of the merge criterion (JULE's λ = 1).
    kernel_scale : float, default=1.0
        σ² of W's Gaussian kernel is ``kernel_scale`` (JULE's a) times the mean squared neighbour distance.
    eta : float, default=1.0
        Unrolling rate η: the share of the clusters merged per pass (1: one pass; the passes matter only for
        JULE, which retrains its network between them).
    orphan_limit : float, default=0.0
        Clusters with no affinity to any other (orphans) join the nearest centre at the start of a pass while
        more than ``orphan_limit`` × ``n_clusters`` clusters remain: JULE.torch uses 20; 0 absorbs them at every
        pass (left alone below the limit, an orphan never merges and ends as a tiny final cluster).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of every sample, 0 … n_clusters − 1.
    n_passes_ : int
        Passes run after time step 0.

    References
    ----------
    W. Zhang, X. Wang, D. Zhao, X. Tang. Graph Degree Linkage: Agglomerative Clustering on a Directed Graph.
    ECCV 2012.
    J. Yang, D. Parikh, D. Batra. Joint Unsupervised Learning of Deep Representations and Image Clusters. CVPR 2016.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> labels = GDLAgglomeration(3).fit_predict(X)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": N_CLUSTERS, "graph_neighbors": POSITIVE_INT, "neighbor_clusters": POSITIVE_INT,
        "eta": Interval(float, 0, 1, closed="right"), "orphan_limit": NON_NEGATIVE, "kernel_scale": POSITIVE}

    def __init__(self, n_clusters: int = 10, *, graph_neighbors: int = 20, neighbor_clusters: int = 5,
                 merge_margin_weight: float = 1.0, kernel_scale: float = 1.0, eta: float = 1.0,
                 orphan_limit: float = 0.0):
        self.n_clusters = n_clusters
        self.graph_neighbors = graph_neighbors
        self.neighbor_clusters = neighbor_clusters
        self.merge_margin_weight = merge_margin_weight
        self.kernel_scale = kernel_scale
        self.eta = eta
        self.orphan_limit = orphan_limit

    def _check_params(self):
        check_params(self)

    def affinity(self, X) -> sparse.csr_matrix:
        """The sample graph W of ``X`` (n × d) with this estimator's K_s and a (:func:`sample_affinity`)."""
        return sample_affinity(X, int(self.graph_neighbors), float(self.kernel_scale))

    def merge_pass(self, X, labels=None, *, affinity=None) -> np.ndarray:
        """One pass: ⌈η c⌉ merges of the c clusters of ``labels`` (time step 0's clusters when None; never below
        ``n_clusters``) on the graph ``affinity`` (default: :meth:`affinity` of ``X``). JULE calls it once per
        period, with its network's new features. Returns labels 0 … c′ − 1."""
        W = self.affinity(X) if affinity is None else affinity
        if labels is None:
            labels = initial_clusters(W)
        if int(labels.max()) + 1 > int(self.n_clusters):
            labels = agglomerate(W, labels, Z=X, n_clusters=int(self.n_clusters), eta=float(self.eta),
                                 K_c=int(self.neighbor_clusters), lambda_=float(self.merge_margin_weight),
                                 orphan_limit=float(self.orphan_limit))
        return labels

    def fit(self, X, y=None):
        """Merge the samples of ``X`` (n × d) down to ``n_clusters`` clusters. ``y`` is ignored."""
        self._check_params()
        X = check_array(X, dtype="numeric", ensure_min_samples=2)
        self.n_features_in_ = X.shape[1]
        if int(self.n_clusters) > len(X):
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of samples ({len(X)})")
        W = self.affinity(X)
        labels, passes = None, 0
        while labels is None or int(labels.max()) + 1 > int(self.n_clusters):
            labels, passes = self.merge_pass(X, labels, affinity=W), passes + 1
        self.labels_ = labels
        self.n_passes_ = passes
        return self
