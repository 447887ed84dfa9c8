"""JULE (Yang, Parikh, Batra, CVPR 2016): agglomerative clustering run as a recurrent process on top of a CNN. The
forward pass merges clusters with the graph-degree-linkage affinity; the backward pass trains the CNN with the
weighted triplet loss on the current clusters; the two alternate in partially unrolled periods until k is reached.

The affinity and the merge criterion are small functions here, each tested against a hand computation:
:func:`sample_affinity` (the K_s-nearest-neighbour graph W), :func:`initial_clusters` (each image with its nearest
neighbour), :func:`cluster_affinity` (A between clusters, from sparse products), :func:`merge_criterion`, and
:func:`agglomerate` (the merges, with the exact update of A after each)."""

from __future__ import annotations

import heapq
import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._device import resolve_device
from .._progress import track
from ..methods import register_method
from ._base import store_params
from ._deepcluster import l2_rows
from ._images import check_images


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


def merge_criterion(affinities: np.ndarray, K_c: int = 5, lambda_: float = 1.0) -> float:
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
        self.A: list[dict] = [{} for _ in range(c)]
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
            b = max(self.A[a], key=self.A[a].get)
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
                K_c: int = 5, lambda_: float = 1.0) -> np.ndarray:
    """One forward pass over the clusters in ``labels``: clusters with no affinity to any other (no reciprocal
    edge in W: outliers) first join the cluster of the nearest centre in ``Z`` (n × d), as the reference does
    before it counts time steps (left alone, they would never merge and end as tiny final clusters); then
    ⌈``eta`` × c⌉ merges of the c clusters (one time step each; never below ``n_clusters``), each joining the
    cluster with the largest :func:`merge_criterion` with its nearest neighbour cluster. Returns labels 0…c−1."""
    state = _Agglomeration(W, labels, Z, K_c, lambda_)
    state.absorb_isolated(int(n_clusters))
    c = state.n_clusters
    for _ in range(min(math.ceil(float(eta) * c), c - int(n_clusters))):
        state.step()
    return np.unique(state.labels, return_inverse=True)[1].astype(np.int64)


def weighted_triplet_loss(anchor, positive, negative, *, gamma: float = 2.0, margin: float = 0.2):
    """JULE's weighted triplet loss (mean over triplets, each (N, d)): max(0, γ‖a − p‖² − ‖a − n‖² + margin); γ
    weighs the pull of the same-cluster pair against the push of the other cluster's sample."""
    pos = (anchor - positive).pow(2).sum(1)
    neg = (anchor - negative).pow(2).sum(1)
    return F.relu(float(gamma) * pos - neg + float(margin)).mean()


def cluster_batches(labels: np.ndarray, batch_size: int, rs) -> list[np.ndarray]:
    """One epoch of batches built from whole clusters (clusters in random order, members together, a large
    cluster cut into batch-sized pieces) so that every batch holds same-cluster pairs: random batches of 100 out
    of ~n/5 initial clusters of ~5 images (923 on MNIST-5k) hold few pairs to learn from."""
    order = rs.permutation(len(labels))
    order = order[np.argsort(rs.permutation(int(labels.max()) + 1)[labels[order]], kind="stable")]
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def batch_triplets(labels: np.ndarray, n_negatives: int, gen: torch.Generator):
    """Index triplets within one batch: every same-cluster pair (i, j), i ≠ j, as anchor and positive, with up to
    ``n_negatives`` samples of other clusters drawn at random as negatives (the reference's num_nsampling)."""
    lab = torch.as_tensor(labels)
    same = lab[:, None] == lab[None, :]
    anchors, positives = torch.nonzero(same & ~torch.eye(len(lab), dtype=torch.bool), as_tuple=True)
    if len(anchors) == 0:
        return None
    other = ~same[anchors]  # (pairs, batch): candidate negatives of each pair
    counts = other.sum(1)
    keep = counts > 0
    anchors, positives, other, counts = anchors[keep], positives[keep], other[keep], counts[keep]
    if len(anchors) == 0:
        return None
    m = int(min(int(n_negatives), int(counts.min())))
    scores = torch.rand(other.shape, generator=gen).masked_fill(~other, -1.0)
    negatives = scores.topk(m, dim=1).indices  # m distinct negatives per pair, from other clusters
    return anchors.repeat_interleave(m), positives.repeat_interleave(m), negatives.reshape(-1)


class JULENet(nn.Module):
    """The reference's network for MNIST-sized images: 5×5 conv (50) + BN + ReLU + 2×2 max-pool, 5×5 conv (50) + BN
    + ReLU, a fully connected layer to ``embedding_dim`` (160), L2-normalised output."""

    def __init__(self, in_channels: int, image_shape: tuple[int, int], embedding_dim: int = 160, width: int = 50):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 5), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(width, width, 5), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        with torch.no_grad():
            flat = self.features(torch.zeros(1, in_channels, *image_shape)).numel()
        self.fc = nn.Linear(flat, embedding_dim)
        for m in self.modules():  # the reference's initialisation: N(0, 0.01) weights, zero biases
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return F.normalize(self.fc(self.features(x).flatten(1)), dim=1)


@register_method("jule", inputs=("pixels",), family="deep", paper="Yang, Parikh, Batra, CVPR 2016")
class JULE(ClusterMixin, TransformerMixin, BaseEstimator):
    """JULE: agglomerative clustering as a recurrent process, the CNN retrained on the current clusters in between.

    Time step 0 groups every image with its nearest neighbour in pixel space (about n/3 clusters). Then, in each
    partially unrolled period: the CNN is trained ``epochs_per_period`` epochs with the weighted triplet loss on
    the current clusters (backward pass); its L2-normalised outputs give the K_s-NN graph W and the graph degree
    linkage A between the current clusters; ⌈η × c⌉ merges follow (forward pass; never below ``n_clusters``), each
    joining the cluster with the largest criterion (A to its nearest cluster plus λ times its margin over the next
    K_c − 1) with its nearest cluster. When k is reached, the agglomeration is run again from time step 0 on the
    trained network's features (as the reference's final pass) and gives ``labels_``.

    Parameters
    ----------
    n_clusters : int, default=10
        The number of clusters to merge down to.
    K_s : int, default=20
        Nearest neighbours of each image in the affinity graph W (the paper's 20).
    K_c : int, default=5
        Neighbour clusters that the merge criterion looks at (the paper's 5).
    lambda_ : float, default=1.0
        Weight of the margin term of the merge criterion (the paper's λ = 1).
    a : float, default=1.0
        σ² of W's Gaussian kernel is ``a`` times the mean squared neighbour distance (the paper's a = 1).
    eta : float, default=0.9
        Unrolling rate η: each period merges ⌈η × c⌉ of the c clusters (the reference's 0.9 for all but face data
        sets, 0.2 for those).
    epochs_per_period : int, default=20
        CNN epochs per period (the reference's 20). 0 trains no CNN: every merge works on the raw pixels (the
        reference's ``-updateCNN 0``; the agglomerative clustering alone, for comparison).
    gamma : float, default=2.0
        Weight γ of the same-cluster pair in the weighted triplet loss (the paper's 2).
    margin : float, default=0.2
        Margin of the triplet loss (the reference's 0.2).
    n_negatives : int, default=20
        Negatives per same-cluster pair (the reference's 20).
    learning_rate : float, default=0.01
        SGD's base learning rate, decayed as lr × (1 + 10⁻⁴ t)^−0.75 (the reference's "inv" policy).
    momentum : float, default=0.9
        SGD's momentum (the reference's 0.9).
    weight_decay : float, default=5e-5
        SGD's weight decay (the reference's 5 × 10⁻⁵).
    batch_size : int, default=100
        Images per step (the reference's 100).
    batches : {"random", "clusters"}, default="clusters"
        How batches are drawn: as whole clusters, so that every batch is full of same-cluster pairs (see
        :func:`cluster_batches`), or at random, as the reference (early on, with ~n/5 clusters of ~5 images, a batch
        of 100 holds few pairs, so the first period trains the CNN little). On MNIST-5k (seed 0) the two gave ACC
        0.680 and 0.678, NMI 0.810 and 0.804.
    embedding_dim : int, default=160
        Output size of the CNN (the reference's 160).
    device, random_state, verbose
        Where to train ("auto": CUDA when present), the seed (same seed, same labels), progress bars.

    Attributes
    ----------
    labels_, embedding_ (the images' CNN features), cluster_centers_ (mean feature per cluster, L2-normalised),
    network_, n_periods_, history_ (per period: clusters before and after its merges, mean triplet loss, and when
    ``y`` was given to fit, the NMI/ACC of the current clusters).

    References
    ----------
    J. Yang, D. Parikh, D. Batra. Joint Unsupervised Learning of Deep Representations and Image Clusters. CVPR 2016.
    W. Zhang, X. Wang, D. Zhao, X. Tang. Graph Degree Linkage: Agglomerative Clustering on a Directed Graph.
    ECCV 2012.
    """

    def __init__(self, n_clusters: int = 10, *, K_s: int = 20, K_c: int = 5, lambda_: float = 1.0, a: float = 1.0,
                 eta: float = 0.9, epochs_per_period: int = 20, gamma: float = 2.0, margin: float = 0.2,
                 n_negatives: int = 20, learning_rate: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 5e-5, batch_size: int = 100, batches: Literal["random", "clusters"] = "clusters",
                 embedding_dim: int = 160, device: str = "auto",
                 random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images only, as DeepCluster
        tags.input_tags.three_d_array = True
        return tags

    def _check_params(self):
        if int(self.n_clusters) < 1:
            raise ValueError(f"n_clusters must be a positive integer, got {self.n_clusters}")
        for name in ("K_s", "K_c", "n_negatives", "batch_size", "embedding_dim"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if int(self.epochs_per_period) < 0:
            raise ValueError(f"epochs_per_period must be 0 or more, got {self.epochs_per_period}")
        if not 0 < float(self.eta) <= 1:
            raise ValueError(f"eta must be in (0, 1], got {self.eta}")
        if self.batches not in ("random", "clusters"):
            raise ValueError(f"batches must be 'random' or 'clusters', got {self.batches!r}")
        if not float(self.learning_rate) > 0 or not float(self.a) > 0:
            raise ValueError("learning_rate and a must be positive")

    def _images(self, X, *, fit: bool = False) -> torch.Tensor:
        Xf = check_images(self, X, fit=fit, min_side=14, purpose="JULE trains a CNN")
        return torch.from_numpy(np.ascontiguousarray(Xf.transpose(0, 3, 1, 2)))

    @torch.no_grad()
    def _embed(self, net, X, batch_size: int = 1000) -> np.ndarray:
        net.eval()
        device = next(net.parameters()).device
        return torch.cat([net(X[i:i + batch_size].to(device)).cpu() for i in range(0, len(X), batch_size)]).numpy()

    def _merge(self, Z, labels, k, W=None):
        """One forward pass: the affinity on features Z, then ⌈η c⌉ merges (never below k)."""
        W = sample_affinity(Z, self.K_s, self.a) if W is None else W
        if labels is None:
            labels = initial_clusters(W)
        if int(labels.max()) + 1 > k:
            labels = agglomerate(W, labels, Z=Z, n_clusters=k, eta=float(self.eta), K_c=int(self.K_c),
                                 lambda_=float(self.lambda_))
        return labels

    def _n_periods(self, c: int, k: int) -> int:
        """Periods until c clusters are merged to k, each merging ⌈η c⌉ of the c (fewer at the end; at most this
        many, since outlier clusters that join without a time step only shorten it)."""
        periods = 0
        while c > k:
            c -= min(math.ceil(float(self.eta) * c), c - k)
            periods += 1
        return periods

    def fit(self, X, y=None):
        """Run the recurrent process to ``n_clusters`` clusters. ``y`` only logs NMI/ACC per period."""
        from ..metrics import external_scores

        self._check_params()
        X_t = self._images(X, fit=True)
        n, k = len(X_t), int(self.n_clusters)
        if n < k:
            raise ValueError(f"n_clusters={k} exceeds the number of images ({n})")
        device = resolve_device(self.device)
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        history: dict[str, list] = {"period": [], "clusters_before": [], "clusters_after": [], "loss": []}

        def log(period, before, labels, loss):
            history["period"].append(period)
            history["clusters_before"].append(int(before))
            history["clusters_after"].append(int(labels.max()) + 1)
            history["loss"].append(loss)
            if y is not None:
                scores = external_scores(np.asarray(y), labels)
                for key in ("acc", "nmi"):
                    history.setdefault(key, []).append(float(scores[key]))

        train = int(self.epochs_per_period) > 0
        pixels = l2_rows(X_t.reshape(n, -1).numpy())
        W = sample_affinity(pixels, self.K_s, self.a)
        labels = initial_clusters(W)  # time step 0, on the raw images as the reference
        log(0, n, labels, float("nan"))
        devices = [torch.cuda.current_device()] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            net = JULENet(X_t.shape[1], tuple(X_t.shape[2:]), int(self.embedding_dim)).to(device)
            opt = torch.optim.SGD(net.parameters(), lr=self.learning_rate, momentum=self.momentum,
                                  weight_decay=self.weight_decay)
            schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (1 + 1e-4 * t) ** -0.75)
            periods = self._n_periods(int(labels.max()) + 1, k)
            for period in track(range(periods), total=periods, description="JULE periods", verbose=self.verbose):
                if int(labels.max()) + 1 <= k:
                    break
                loss = self._train_period(net, opt, schedule, X_t, labels, rs, gen, device) if train else float("nan")
                before = int(labels.max()) + 1
                labels = self._merge(self._embed(net, X_t) if train else pixels, labels, k, None if train else W)
                log(period + 1, before, labels, loss)
            self.n_periods_ = len(history["period"]) - 1
        Z = self._embed(net, X_t) if train else pixels
        W = sample_affinity(Z, self.K_s, self.a) if train else W
        labels = None
        while labels is None or int(labels.max()) + 1 > k:  # the final pass: from time step 0 on the trained CNN
            labels = self._merge(Z, labels, k, W)
        self.labels_ = labels
        self.embedding_ = Z
        centres = np.stack([Z[labels == c].mean(0) for c in range(int(labels.max()) + 1)])
        self.cluster_centers_ = l2_rows(centres)
        self.history_ = history
        self.network_ = net.cpu().eval()
        return self

    def _train_period(self, net, opt, schedule, X, labels, rs, gen, device) -> float:
        """``epochs_per_period`` epochs of the weighted triplet loss on the current clusters."""
        total, steps = 0.0, 0
        net.train()
        epochs = int(self.epochs_per_period)
        n_clusters = int(labels.max()) + 1
        for _ in track(range(epochs), total=epochs, description=f"JULE CNN on {n_clusters} clusters",
                       verbose=self.verbose):
            if self.batches == "clusters":
                batches = cluster_batches(labels, int(self.batch_size), rs)
            else:
                order = rs.permutation(len(labels))
                batches = [order[i:i + int(self.batch_size)] for i in range(0, len(order), int(self.batch_size))]
            for idx in batches:
                if len(idx) < 2:
                    continue
                triplets = batch_triplets(labels[idx], int(self.n_negatives), gen)
                if triplets is None:
                    continue
                out = net(X[idx].to(device))
                i, j, m = (t.to(device) for t in triplets)
                loss = weighted_triplet_loss(out[i], out[j], out[m], gamma=self.gamma, margin=self.margin)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"JULE: the triplet loss became {loss.item()}; lower learning_rate")
                opt.zero_grad()
                loss.backward()
                opt.step()
                schedule.step()
                total, steps = total + loss.item(), steps + 1
        return total / max(steps, 1)

    def transform(self, X) -> np.ndarray:
        """The CNN's L2-normalised features of new images (their L2-normalised pixels when no CNN was trained)."""
        check_is_fitted(self, "network_")
        X_t = self._images(X)
        if int(self.epochs_per_period) == 0:
            return l2_rows(X_t.reshape(len(X_t), -1).numpy())
        return self._embed(self.network_, X_t)

    def predict(self, X) -> np.ndarray:
        """The cluster whose mean feature is nearest (cosine)."""
        return np.argmax(self.transform(X) @ self.cluster_centers_.T, axis=1).astype(np.int64)
