"""JULE (Yang, Parikh, Batra, CVPR 2016): agglomerative clustering run as a recurrent process on top of a CNN. The
forward pass merges clusters with the graph-degree-linkage affinity; the backward pass trains the CNN with the
weighted triplet loss on the current clusters; the two alternate in partially unrolled periods until k is reached.

The forward pass is :class:`~deepclust.cluster.GDLAgglomeration` (graph degree linkage with JULE's merge criterion,
in :mod:`deepclust.cluster._gdl`); this module adds the backward pass: the weighted triplet loss, the batches and
triplets it trains on, and the CNN."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._device import cpu_threads, resolve_device
from .._progress import track
from .._training import History, embed_batches, empty_and_largest, run_epoch, seeded
from ..cluster import GDLAgglomeration, initial_clusters, l2_rows
from ..methods import (
    N_CLUSTERS,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    Interval,
    check_params,
    register_method,
)
from ..metrics import internal_scores
from ._base import store_params
from ._images import check_images


def weighted_triplet_loss(anchor, positive, negative, *, gamma: float = 1.0, margin: float = 0.2):
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
    """Index triplets within one batch: every ordered same-cluster pair (i, j), i ≠ j, as anchor and positive (the
    reference's ``train.lua`` takes each unordered pair once, half as many), with min(``n_negatives``, the fewest
    other-cluster samples of any pair) negatives drawn at random from other clusters (the reference's
    num_nsampling caps it at the clusters in the batch less one)."""
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
                if m.bias is not None:  # always: every layer here has one
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return F.normalize(self.fc(self.features(x).flatten(1)), dim=1)


@register_method("jule", inputs=("pixels",), family="deep", paper="Yang, Parikh, Batra, CVPR 2016",
                 symbols={"graph_neighbors": "K_s", "neighbor_clusters": "K_c", "merge_margin_weight": "lambda",
                          "kernel_scale": "a"},
                 outputs=("cluster_centers_", "history_", "torch_threads_"))
class JULE(ClusterMixin, TransformerMixin, BaseEstimator):
    """JULE: agglomerative clustering as a recurrent process, the CNN retrained on the current clusters in between.

    Time step 0 groups every image with its nearest neighbour in pixel space (about n/5 clusters). Then, in each
    partially unrolled period: the CNN is trained ``epochs_per_period`` epochs with the weighted triplet loss on
    the current clusters (backward pass); its L2-normalised outputs give the K_s-NN graph W and the graph degree
    linkage A between the current clusters; ⌈η × c⌉ merges follow (forward pass; never below ``n_clusters``), each
    joining the cluster with the largest criterion (A to its nearest cluster plus λ times its margin over the next
    K_c − 1) with its nearest cluster. When k is reached, the agglomeration is run again from time step 0 on the
    trained network's features (as the reference's final pass) and gives ``labels_`` (``labels_from="final"``);
    the recurrent process's own last partition is ``recurrent_labels_``, and ``history_`` scores both.

    The optimiser and batches follow JULE.torch's ``train.lua``: SGD whose momentum is dampened as Torch's
    ``optim.sgd`` does by default (the velocity is a moving average, v ← μv + (1 − μ)g: a tenth of PyTorch's
    undampened step at μ = 0.9), batches drawn at random, and the merge steps inside the loop embed the images with
    batch-norm in training mode (batch statistics), as the reference's loop does; the final pass embeds in
    evaluation mode. The triplets and their gradient do not: we use every ordered same-cluster pair and the exact
    gradient, where the reference takes each unordered pair once and its criterion's CUDA path trains through the
    anchors only.

    Parameters
    ----------
    n_clusters : int, default=10
        The number of clusters to merge down to.
    graph_neighbors : int, default=20
        Nearest neighbours of each image in the affinity graph W (the paper's 20).
    neighbor_clusters : int, default=5
        Neighbour clusters that the merge criterion looks at (the paper's 5).
    merge_margin_weight : float, default=1.0
        Weight of the margin term of the merge criterion (the paper's λ = 1).
    kernel_scale : float, default=1.0
        σ² of W's Gaussian kernel is ``kernel_scale`` times the mean squared neighbour distance (the paper's a = 1).
    eta : float, default=0.9
        Unrolling rate η: each period merges ⌈η × c⌉ of the c clusters (the reference's README sets 0.9 for all
        but face data sets). ``train.lua``'s default 0.2 gave 0.832 ACC on MNIST-5k, seed 0, against 0.952 at 0.9
        (``benchmarks/results/jule_mnist-5k_eta0.2.md``).
    epochs_per_period : int, default=20
        CNN epochs per period (the reference's 20). 0 trains no CNN: every merge works on the raw pixels (the
        reference's ``-updateCNN 0``; the agglomerative clustering alone, for comparison).
    gamma : float, default=1.0
        Weight γ of the same-cluster pair in the weighted triplet loss (``train.lua``'s ``gamma_tr`` 1; the paper
        and the criterion's own default say 2).
    margin : float, default=0.2
        Margin of the triplet loss (the reference's 0.2).
    n_negatives : int, default=20
        Negatives per same-cluster pair at most (the reference's 20; fewer when a batch holds fewer to draw from).
    learning_rate : float, default=0.01
        SGD's base learning rate, decayed as lr × (1 + 10⁻⁴ t)^−0.75 (the reference's "inv" policy).
    momentum : float, default=0.9
        SGD's momentum (the reference's 0.9).
    dampening : float or None, default=None
        SGD's dampening of the momentum; None: equal to ``momentum``, as Torch's ``optim.sgd`` (the reference); 0
        is PyTorch's default, a step ten times larger at momentum 0.9.
    weight_decay : float, default=5e-5
        SGD's weight decay (the reference's 5 × 10⁻⁵).
    batch_size : int, default=100
        Images per step (the reference's 100).
    batches : {"random", "clusters"}, default="random"
        How batches are drawn: at random, as the reference (early on, with ~n/5 clusters of ~5 images, a batch of
        100 holds few pairs, so the first period trains the CNN little), or as whole clusters, so that every batch
        is full of same-cluster pairs (see :func:`cluster_batches`; batch-norm statistics then come from one to
        three clusters, and the merge steps embed in evaluation mode).
    orphan_limit : float, default=20.0
        Clusters with no affinity to any other join their nearest centre while more than ``orphan_limit`` ×
        ``n_clusters`` clusters remain (JULE.torch's 20; 0: at every pass).
    labels_from : {"auto", "final", "recurrent"}, default="final"
        Which partition ``labels_`` is: the final pass from time step 0 on the trained network (the reference's),
        the recurrent process's last one, or "auto": the one with the higher silhouette on the trained network's
        features (an undefined one, as of a single cluster, counts as −1), the final pass on a tie. Neither wins
        everywhere: on MNIST-5k the final pass reads 0.952 ACC against 0.805 (silhouette 0.157 against 0.140), on
        Fashion-MNIST's test set 0.458 with 41 % of the images in one cluster against 0.576 (silhouette 0.050
        against 0.241); the silhouette picks the better one on both, without labels (seed 0; the largest
        cluster's share would too, the Davies–Bouldin index would not). But on MNIST-5k seed 1 the recurrent
        partition's silhouette is the higher (0.168 against 0.160) and "auto" gives 0.813 where the final pass
        gives 0.958, so the default stays the reference's final pass.
    embedding_dim : int, default=160
        Output size of the CNN (the reference's 160).
    device, random_state, verbose
        Where to train ("auto": CUDA when present), the seed (same seed, same labels), progress bars.

    Attributes
    ----------
    labels_, recurrent_labels_, final_labels_, embedding_ (the images' CNN features), cluster_centers_ (mean feature
    per cluster of ``labels_``, L2-normalised), network_, n_periods_, history_ (per period: clusters before and
    after its merges, mean triplet loss, and when ``y`` was given to fit, the ACC/NMI/ARI of the current clusters;
    under ``"final_pass"`` and ``"recurrent"`` each partition's silhouette on the network's features, largest
    cluster's share and, with ``y``, scores; under ``"labels_from"`` which ``labels_`` is).

    References
    ----------
    J. Yang, D. Parikh, D. Batra. Joint Unsupervised Learning of Deep Representations and Image Clusters. CVPR 2016.
    W. Zhang, X. Wang, D. Zhao, X. Tang. Graph Degree Linkage: Agglomerative Clustering on a Directed Graph.
    ECCV 2012.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": N_CLUSTERS, "graph_neighbors": POSITIVE_INT, "neighbor_clusters": POSITIVE_INT,
        "n_negatives": POSITIVE_INT, "batch_size": POSITIVE_INT, "embedding_dim": POSITIVE_INT,
        "epochs_per_period": NON_NEGATIVE_INT, "eta": Interval(float, 0, 1, closed="right"), "learning_rate": POSITIVE,
        "kernel_scale": POSITIVE}

    def __init__(self, n_clusters: int = 10, *, graph_neighbors: int = 20, neighbor_clusters: int = 5,
                 merge_margin_weight: float = 1.0, kernel_scale: float = 1.0,
                 eta: float = 0.9, epochs_per_period: int = 20, gamma: float = 1.0, margin: float = 0.2,
                 n_negatives: int = 20, learning_rate: float = 0.01, momentum: float = 0.9,
                 dampening: float | None = None,
                 weight_decay: float = 5e-5, batch_size: int = 100, batches: Literal["random", "clusters"] = "random",
                 orphan_limit: float = 20.0, labels_from: Literal["auto", "final", "recurrent"] = "final",
                 embedding_dim: int = 160, device: str = "auto",
                 random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images only, as DeepCluster
        tags.input_tags.three_d_array = True
        return tags

    def _check_params(self):
        check_params(self)

    def _images(self, X, *, fit: bool = False) -> torch.Tensor:
        Xf = check_images(self, X, fit=fit, min_side=14, purpose="JULE trains a CNN")
        return torch.from_numpy(np.ascontiguousarray(Xf.transpose(0, 3, 1, 2)))

    def _embed(self, net, X, *, train_mode: bool = False) -> np.ndarray:
        """The network's features of ``X``: in evaluation mode, or with batch-norm in training mode over batches of
        ``batch_size`` in order (the reference's merge steps inside the loop; its running statistics move too)."""
        return embed_batches(net, X, batch_size=int(self.batch_size) if train_mode else 1000,
                             train_mode=train_mode).numpy()

    def _agglomeration(self) -> GDLAgglomeration:
        """The forward pass with this estimator's K_s, K_c, λ, a and η (the paper's symbols of its parameters)."""
        return GDLAgglomeration(int(self.n_clusters), graph_neighbors=int(self.graph_neighbors),
                                neighbor_clusters=int(self.neighbor_clusters),
                                merge_margin_weight=float(self.merge_margin_weight),
                                kernel_scale=float(self.kernel_scale), eta=float(self.eta),
                                orphan_limit=float(self.orphan_limit))

    def _n_periods(self, c: int, k: int) -> int:
        """Periods until c clusters are merged to k, each merging ⌈η c⌉ of the c (fewer at the end; at most this
        many, since outlier clusters that join without a time step only shorten it)."""
        periods = 0
        while c > k:
            c -= min(math.ceil(float(self.eta) * c), c - k)
            periods += 1
        return periods

    def fit(self, X, y=None):
        """Run the recurrent process to ``n_clusters`` clusters. ``y`` only logs ACC/NMI/ARI per period."""
        self._check_params()
        X_t = self._images(X, fit=True)
        n, k = len(X_t), int(self.n_clusters)
        if n < k:
            raise ValueError(f"n_clusters={k} exceeds the number of images ({n})")
        device = resolve_device(self.device)
        rs = check_random_state(self.random_state)
        history = History("period", "clusters_before", "clusters_after", "loss")

        def log(period, before, labels, loss):
            history.log(period, clusters_before=int(before), clusters_after=int(labels.max()) + 1, loss=loss)
            history.log_scores(y, labels)

        train = int(self.epochs_per_period) > 0
        agglomeration = self._agglomeration()
        pixels = l2_rows(X_t.reshape(n, -1).numpy())
        W = agglomeration.affinity(pixels)
        labels = initial_clusters(W)  # time step 0, on the raw images as the reference
        log(0, n, labels, float("nan"))
        with cpu_threads(device, who="JULE", verbose=self.verbose) as threads, \
                seeded(rs, device) as rng:  # the batches' order is drawn from rs after the fit's seed
            gen = rng.generator
            net = JULENet(X_t.shape[1], (X_t.shape[2], X_t.shape[3]), int(self.embedding_dim)).to(device)
            opt, schedule = self._optimizer(net)
            periods = self._n_periods(int(labels.max()) + 1, k)
            for period in track(range(periods), total=periods, description="JULE periods", verbose=self.verbose):
                if int(labels.max()) + 1 <= k:
                    break
                loss = self._train_period(net, opt, schedule, X_t, labels, rs, gen, device) if train else float("nan")
                before = int(labels.max()) + 1
                if train:
                    labels = agglomeration.merge_pass(self._embed(net, X_t, train_mode=self.batches == "random"),
                                                      labels)
                else:
                    labels = agglomeration.merge_pass(pixels, labels, affinity=W)
                log(period + 1, before, labels, loss)
            self.n_periods_ = len(history["period"]) - 1
            Z = self._embed(net, X_t) if train else pixels
        self.recurrent_labels_ = labels
        self.final_labels_ = agglomeration.fit(Z).labels_  # the final pass: from time step 0 on the trained CNN
        silhouettes = {}
        for key, part in (("recurrent", labels), ("final_pass", self.final_labels_)):
            history.score(key, y, part)
            silhouette = float(internal_scores(Z, part, sample_size=3000)["silhouette"])
            history.setdefault(key, {}).update(silhouette=silhouette, largest_share=empty_and_largest(part, k)[1])
            silhouettes[key] = -1.0 if np.isnan(silhouette) else silhouette  # undefined (one cluster): the worst
        final = self.labels_from == "final" or (
            self.labels_from == "auto" and silhouettes["recurrent"] <= silhouettes["final_pass"])
        history["labels_from"] = "final" if final else "recurrent"
        labels = self.final_labels_ if final else self.recurrent_labels_
        self.labels_ = labels
        self.torch_threads_ = threads
        self.embedding_ = Z
        centres = np.stack([Z[labels == c].mean(0) for c in range(int(labels.max()) + 1)])
        self.cluster_centers_ = l2_rows(centres)
        self.history_ = history
        self.network_ = net.cpu().eval()
        return self

    def _optimizer(self, net):
        """SGD as Torch's ``optim.sgd`` with the reference's settings (dampening = momentum) and the "inv" policy
        lr (1 + 10⁻⁴ t)^−0.75, t counting steps across all periods."""
        dampening = float(self.momentum if self.dampening is None else self.dampening)
        opt = torch.optim.SGD(net.parameters(), lr=float(self.learning_rate), momentum=float(self.momentum),
                              dampening=dampening, weight_decay=float(self.weight_decay))
        return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (1 + 1e-4 * t) ** -0.75)

    def _train_period(self, net, opt, schedule, X, labels, rs, gen, device) -> float:
        """``epochs_per_period`` epochs of the weighted triplet loss on the current clusters; the mean loss of the
        period's steps."""
        bs = int(self.batch_size)

        def triplet_loss(idx):
            if len(idx) < 2:
                return None
            triplets = batch_triplets(labels[idx], int(self.n_negatives), gen)
            if triplets is None:
                return None
            out = net(X[idx].to(device))
            i, j, m = (t.to(device) for t in triplets)
            return weighted_triplet_loss(out[i], out[j], out[m], gamma=self.gamma, margin=self.margin)

        def period_batches():  # drawn epoch by epoch as the training reaches them (rs and gen keep their order)
            epochs = int(self.epochs_per_period)
            for _ in track(range(epochs), total=epochs, description=f"JULE CNN on {int(labels.max()) + 1} clusters",
                           verbose=self.verbose):
                if self.batches == "clusters":
                    yield from cluster_batches(labels, bs, rs)
                else:
                    order = rs.permutation(len(labels))
                    yield from (order[i:i + bs] for i in range(0, len(order), bs))

        net.train()
        return run_epoch(period_batches(), triplet_loss, [opt], who="JULE", after_step=schedule.step)

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
