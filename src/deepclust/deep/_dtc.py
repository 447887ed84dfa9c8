"""Deep Transfer Clustering (Han, Vedaldi, Zisserman, ICCV 2019): learn from labelled images of known classes, then
cluster images of novel classes with a DEC objective on the network the known classes trained. The DEC formulas
are :mod:`deepclust.deep._formulas`' (Student's t assignment, sharpened target, KL); DTC adds the start from PCA +
k-means of the transferred features, a warm-up on fixed targets, and (DTC-TE) the temporal ensemble of each image's
past assignments as a consistency target.

Work in progress (not registered as a method yet): with the CNN frozen and only an MLP over its features trained on
the known classes, the transferred features cluster the novel classes worse than the pretrained features do (on
Fashion-MNIST, 0–4 known, 5–9 novel: k-means ACC 0.887 on the L2-normalised pretrained features, 0.56–0.76 on the
MLP's after 3–10 supervised epochs; DTC-Baseline 0.50). DTC's premise needs the CNN itself fine-tuned on the known
classes (next step)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn

from .._device import resolve_device
from .._progress import track
from ._base import store_params
from ._deepcluster import l2_rows
from ._formulas import kl_clustering_loss, soft_assignment, target_distribution


def sigmoid_rampup(epoch: int, length: int) -> float:
    """exp(−5 (1 − t)²) with t = epoch / length clipped to [0, 1] (Laine & Aila's ramp-up, as DTC's code): the
    weight of the consistency term grows from ~0.007 to 1 over ``length`` epochs."""
    if length <= 0:
        return 1.0
    t = min(max(epoch / length, 0.0), 1.0)
    return float(math.exp(-5.0 * (1.0 - t) ** 2))


def temporal_ensemble(ensemble: torch.Tensor, current: torch.Tensor, epoch: int, alpha: float = 0.6):
    """One epoch of temporal ensembling (Laine & Aila 2017, as DTC-TE): Z ← αZ + (1 − α)z, and the bias-corrected
    target Z / (1 − α^(epoch+1)). ``ensemble``, ``current``: (N, K); ``epoch`` counts from 0. Returns (Z, target)."""
    ensemble = alpha * ensemble + (1.0 - alpha) * current
    return ensemble, ensemble / (1.0 - alpha ** (epoch + 1))


class TransferNet(nn.Module):
    """What DTC trains on a CPU: a two-layer MLP over frozen CNN features (the supervised stage trains it with a
    classifier on the known classes), and, for clustering, a linear map to ``n_clusters`` dimensions."""

    def __init__(self, in_dim: int, hidden: int, n_known: int):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                                  nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(hidden, n_known)
        self.projection: nn.Linear | None = None

    def forward(self, x):
        return self.classifier(self.body(x))

    def embed(self, x):
        z = self.body(x)
        return self.projection(z) if self.projection is not None else z


class DTC(ClusterMixin, TransformerMixin, BaseEstimator):
    """Deep Transfer Clustering of novel classes on features, with what labelled known classes teach.

    1. Supervised stage: an MLP over the (frozen, pretrained) CNN features is trained with a classifier on the
       known classes (``supervised_epochs``; cross-entropy, SGD).
    2. Transfer: the novel images' MLP features are reduced by PCA to ``n_clusters`` dimensions and clustered by
       k-means (20 starts), as DTC; a linear layer initialised with that PCA maps features into this space, and the
       k-means centres become trainable cluster centres.
    3. ``warmup_epochs`` of KL to the fixed initial targets (lr ``warmup_lr``), then ``epochs`` of KL with the
       target distribution refreshed every ``update_interval`` epochs (DTC-Baseline); ``variant="te"`` adds the
       MSE to the temporal ensemble of each image's past assignments, weighted by a sigmoid ramp-up to
       ``rampup_coefficient`` over ``rampup_length`` epochs (DTC-TE).

    Parameters
    ----------
    n_clusters : int, default=5
        Number of novel classes (the reference's default for its 5 + 5 CIFAR-10 split).
    variant : {"baseline", "te"}, default="te"
        DTC-Baseline, or DTC with temporal ensembling (DTC-TE).
    hidden : int, default=512
        Width of the MLP trained over the features (the reference's ResNet-18 features are 512-d).
    supervised_epochs : int, default=30
        Epochs of the supervised stage on the known classes.
    supervised_lr : float, default=0.1
        SGD's learning rate in the supervised stage (the reference's classifier scripts: 0.1).
    warmup_epochs : int, default=10
        Epochs on the fixed initial targets (the reference's 10).
    warmup_lr : float, default=0.1
        Learning rate of the warm-up (the reference's 0.1).
    epochs : int, default=100
        Clustering epochs after the warm-up (the reference's 100).
    learning_rate : float, default=0.05
        SGD's learning rate of the clustering epochs (the reference's 0.05).
    momentum : float, default=0.9
        SGD's momentum, every stage (the reference's 0.9).
    weight_decay : float, default=1e-4
        SGD's weight decay, every stage (the reference's 10⁻⁴).
    update_interval : int, default=5
        Epochs between refreshes of the target distribution (the reference's 5).
    rampup_length : int, default=5
        Epochs of the consistency weight's ramp-up (the reference's 5).
    rampup_coefficient : float, default=10.0
        Final weight of the consistency term (the reference's 10).
    alpha : float, default=1.0
        Degrees of freedom of Student's t kernel (DEC's and DTC's 1).
    batch_size : int, default=128
        Samples per step (the reference's 128).
    device, random_state, verbose
        Where to train ("auto": CUDA when present), the seed (same seed, same labels), progress bars.

    Attributes
    ----------
    labels_, probabilities_ (N, K) soft assignments, embedding_ (the novel images in the clustering space),
    cluster_centers_, network_, n_known_classes_, known_accuracy_ (training accuracy of the supervised stage),
    history_ (per epoch: loss, and ACC/NMI when ``y`` was given to fit; under ``"init"`` the k-means start's
    scores).

    References
    ----------
    K. Han, A. Vedaldi, A. Zisserman. Learning to Discover Novel Visual Categories via Deep Transfer Clustering.
    ICCV 2019.
    """

    def __init__(self, n_clusters: int = 5, *, variant: Literal["baseline", "te"] = "te", hidden: int = 512,
                 supervised_epochs: int = 30, supervised_lr: float = 0.1, warmup_epochs: int = 10,
                 warmup_lr: float = 0.1, epochs: int = 100, learning_rate: float = 0.05, momentum: float = 0.9,
                 weight_decay: float = 1e-4, update_interval: int = 5, rampup_length: int = 5,
                 rampup_coefficient: float = 10.0, alpha: float = 1.0, batch_size: int = 128, device: str = "auto",
                 random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def _check_params(self):
        if int(self.n_clusters) < 2:
            raise ValueError(f"n_clusters must be at least 2, got {self.n_clusters}")
        if self.variant not in ("baseline", "te"):
            raise ValueError(f"variant must be 'baseline' or 'te', got {self.variant!r}")
        for name in ("hidden", "batch_size", "update_interval"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("supervised_epochs", "warmup_epochs", "epochs"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")

    def fit(self, X, y=None, *, X_known=None, y_known=None):
        """Cluster the novel samples ``X`` (N, D) after learning from ``X_known`` (M, D) with labels ``y_known``
        (two or more known classes, none of them needed among the novel ones). ``y`` only logs scores."""
        self._check_params()
        X = check_array(X, dtype=np.float32, ensure_min_samples=2)
        if X_known is None or y_known is None:
            raise ValueError("DTC learns from labelled known classes: give X_known and y_known")
        X_known = check_array(X_known, dtype=np.float32, ensure_min_samples=2)
        if X_known.shape[1] != X.shape[1]:
            raise ValueError(f"known and novel samples need the same features, got {X_known.shape[1]} and "
                             f"{X.shape[1]}")
        classes, y_codes = np.unique(np.asarray(y_known), return_inverse=True)
        if len(y_codes) != len(X_known):
            raise ValueError(f"y_known has {len(y_codes)} labels for {len(X_known)} known samples")
        if len(classes) < 2:
            raise ValueError(f"DTC needs at least two known classes to learn from, got {len(classes)}")
        k = int(self.n_clusters)
        if len(X) < k:
            raise ValueError(f"n_clusters={k} exceeds the number of novel samples ({len(X)})")
        self.n_features_in_ = X.shape[1]
        self.n_known_classes_ = len(classes)
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        # rows L2-normalised, then centred and scaled by one global factor: a per-dimension z-score of pooled CNN
        # features lifts their many near-constant dimensions to the scale of the informative ones (k-means on the
        # novel Fashion-MNIST classes' features fell from 0.887 ACC to 0.554 with it)
        unit = l2_rows(X_known)
        self.mean_, self.scale_ = unit.mean(0), float(unit.std()) + 1e-12
        devices = [torch.cuda.current_device()] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            net = TransferNet(X.shape[1], int(self.hidden), len(classes)).to(device)
            Xk = torch.from_numpy(self._prepare(X_known)).to(device)
            self.known_accuracy_ = self._supervised(net, Xk, torch.as_tensor(y_codes).to(device), gen)
            Xn = torch.from_numpy(self._prepare(X)).to(device)
            history = self._cluster(net, Xn, y, gen, seed)
        self.network_ = net.cpu().eval()
        with torch.no_grad():
            Z = self.network_.embed(torch.from_numpy(self._prepare(X)))
            Q = soft_assignment(Z, self.network_.center, float(self.alpha))
        self.embedding_ = Z.numpy()
        self.probabilities_ = Q.numpy()
        self.labels_ = self.probabilities_.argmax(1).astype(np.int64)
        self.cluster_centers_ = self.network_.center.detach().numpy().copy()
        self.history_ = history
        return self

    def _prepare(self, X) -> np.ndarray:
        return ((l2_rows(X) - self.mean_) / self.scale_).astype(np.float32)

    def _batches(self, n: int, gen: torch.Generator):
        order = torch.randperm(n, generator=gen)
        bs = int(self.batch_size)
        return [order[i:i + bs] for i in range(0, n, bs) if len(order[i:i + bs]) > 1]  # batch norm needs two

    def _supervised(self, net, X, y, gen) -> float:
        """The known classes teach the MLP: cross-entropy with SGD and a cosine schedule."""
        epochs = int(self.supervised_epochs)
        if epochs == 0:
            return float("nan")
        opt = torch.optim.SGD(net.parameters(), lr=self.supervised_lr, momentum=self.momentum,
                              weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
        for _ in track(range(epochs), total=epochs, description="DTC: known classes", verbose=self.verbose):
            net.train()
            for idx in self._batches(len(X), gen):
                idx = idx.to(X.device)
                loss = F.cross_entropy(net(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            return float((net(X).argmax(1) == y).float().mean())

    @torch.no_grad()
    def _probs(self, net, X):
        net.eval()
        return soft_assignment(net.embed(X), net.center, float(self.alpha))

    def _cluster(self, net, X, y, gen, seed) -> dict:
        from sklearn.cluster import KMeans
        from sklearn.decomposition import PCA

        from ..metrics import external_scores

        k = int(self.n_clusters)
        net.eval()
        with torch.no_grad():
            feats = net.body(X).cpu().numpy()
        pca = PCA(k, random_state=seed).fit(feats)
        km = KMeans(k, n_init=20, random_state=seed).fit(pca.transform(feats))
        # the linear layer starts as the PCA (the reference starts it at random, so its centres, found in the PCA
        # space, would not match its outputs until training moved them)
        projection = nn.Linear(feats.shape[1], k).to(X.device)
        with torch.no_grad():
            projection.weight.copy_(torch.from_numpy(pca.components_).float())
            projection.bias.copy_(torch.from_numpy(-pca.components_ @ pca.mean_).float())
        net.projection = projection
        net.center = nn.Parameter(torch.from_numpy(km.cluster_centers_).float().to(X.device))
        history: dict = {"epoch": [], "loss": []}
        if y is not None:
            history["init"] = {key: float(v) for key, v in external_scores(np.asarray(y), km.labels_).items()
                               if key in ("acc", "nmi", "ari")}
        targets = target_distribution(self._probs(net, X))
        n = len(X)
        ensemble = torch.zeros(n, k, device=X.device)
        ema = torch.zeros(n, k, device=X.device)
        total_epochs = int(self.warmup_epochs) + int(self.epochs)
        warm = torch.optim.SGD(net.parameters(), lr=self.warmup_lr, momentum=self.momentum,
                               weight_decay=self.weight_decay)
        opt = torch.optim.SGD(net.parameters(), lr=self.learning_rate, momentum=self.momentum,
                              weight_decay=self.weight_decay)
        for epoch in track(range(total_epochs), total=total_epochs, description=f"DTC-{self.variant}",
                           verbose=self.verbose):
            warmup = epoch < int(self.warmup_epochs)
            step = epoch - int(self.warmup_epochs)  # the clustering epoch (negative during warm-up)
            te = self.variant == "te" and not warmup
            w = float(self.rampup_coefficient) * sigmoid_rampup(step, int(self.rampup_length)) if te else 0.0
            current = torch.zeros(n, k, device=X.device)
            net.train()
            total, steps = 0.0, 0
            for idx in self._batches(n, gen):
                idx = idx.to(X.device)
                q = soft_assignment(net.embed(X[idx]), net.center, float(self.alpha))
                loss = kl_clustering_loss(targets[idx], q)
                if te:
                    current[idx] = q.detach()
                    loss = loss + w * F.mse_loss(q, ema[idx])
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"DTC: the loss became {loss.item()}; lower the learning rates")
                optimizer = warm if warmup else opt
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total, steps = total + loss.item(), steps + 1
            if te:
                ensemble, ema = temporal_ensemble(ensemble, current, step)
            probs = self._probs(net, X)
            if warmup and epoch == int(self.warmup_epochs) - 1:
                targets = target_distribution(probs)  # the reference refreshes once after the warm-up
            elif not warmup and step % int(self.update_interval) == 0:
                targets = target_distribution(probs)
            history["epoch"].append(epoch + 1)
            history["loss"].append(total / max(steps, 1))
            if y is not None:
                scores = external_scores(np.asarray(y), probs.argmax(1).cpu().numpy())
                for key in ("acc", "nmi"):
                    history.setdefault(key, []).append(float(scores[key]))
        return history

    def transform(self, X) -> np.ndarray:
        """Novel samples in the clustering space (the MLP, then the linear map)."""
        check_is_fitted(self, "network_")
        X = check_array(X, dtype=np.float32)
        with torch.no_grad():
            return self.network_.embed(torch.from_numpy(self._prepare(X))).numpy()

    def predict_proba(self, X) -> np.ndarray:
        with torch.no_grad():
            return soft_assignment(torch.from_numpy(self.transform(X)), self.network_.center.detach(),
                                   float(self.alpha)).numpy()

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X).argmax(1).astype(np.int64)
