"""DeepCluster (Caron, Bojanowski, Joulin, Douze, ECCV 2018): a convnet trained from scratch on the k-means clusters
of its own features, re-clustered every epoch. The pieces the paper specifies are small functions here, each tested:
PCA whitening + L2 normalisation of the features, k-means that never leaves a cluster empty (the paper's split of a
non-empty cluster), and the sampler that draws the same number of images from every cluster."""

from __future__ import annotations

import warnings
from typing import ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._device import resolve_device
from .._progress import track
from .._training import History, embed_batches, run_epoch, seeded
from ..cluster import kmeans_without_empty, l2_rows
from ..methods import POSITIVE, POSITIVE_INT, Interval, check_params, register_method
from ._augment import random_resized_crop
from ._base import store_params
from ._images import check_images

#: The two Sobel kernels (horizontal and vertical gradients) of the fixed input layer.
SOBEL = torch.tensor([[[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]],
                      [[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]])

#: The convolutions' channels at width 1: AlexNet's 96-256-384-384-256 cut to what trains on a CPU.
CHANNELS = (32, 64, 96, 96, 64)
#: Width of the fully connected layers, whose output is clustered: 16 times the PCA's 256 dimensions in AlexNet
#: (4,096); here 1,024 for the default 64 (cheap either way: the convolutions cost the time).
FC_WIDTH = 1024
#: The fewest images an epoch draws by default (50 batches of 256; see ``epoch_size``).
MIN_EPOCH_SIZE = 12_800


class SobelFilter(nn.Module):
    """The paper's fixed first layer: the image made grey, then its two Sobel gradients, so that colour cannot be
    the trivial cue k-means latches on to. Not trained."""

    kernels: torch.Tensor  # a buffer (register_buffer), declared for the type checker

    def __init__(self):
        super().__init__()
        self.register_buffer("kernels", SOBEL[:, None])

    def forward(self, x):
        return F.conv2d(x.mean(1, keepdim=True), self.kernels, padding=1)


class SmallAlexNet(nn.Module):
    """AlexNet with batch norm (five conv layers, three max-pools, two fully connected layers with dropout) scaled
    down for 28–64-pixel images so that it trains on a CPU: 5×5/5×5/3×3/3×3/3×3 convolutions of ``channels`` and
    ``fc``-wide fully connected layers (AlexNet: 11×11 stride 4 first, 96-256-384-384-256 channels, 4096). The
    clustering features are the last fully connected layer's output before its ReLU, as the reference code."""

    def __init__(self, in_channels: int = 1, *, sobel: bool = True, channels=CHANNELS, fc: int = FC_WIDTH):
        super().__init__()
        self.sobel = SobelFilter() if sobel else None
        c1, c2, c3, c4, c5 = channels

        def block(cin, cout, kernel):
            return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(2 if sobel else in_channels, c1, 5), nn.MaxPool2d(2),
            *block(c1, c2, 5), nn.MaxPool2d(2),
            *block(c2, c3, 3), *block(c3, c4, 3), *block(c4, c5, 3), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(3))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(c5 * 9, fc), nn.ReLU(inplace=True),
                                        nn.Dropout(0.5), nn.Linear(fc, fc))
        self.top_layer: nn.Linear | None = None
        self.fc = fc

    def embed(self, x):
        if self.sobel is not None:
            x = self.sobel(x)
        return self.classifier(self.features(x).flatten(1))

    def forward(self, x):
        assert self.top_layer is not None, "new_top_layer() first"
        return self.top_layer(F.relu(self.embed(x)))

    def new_top_layer(self, n_classes: int) -> nn.Linear:
        """A fresh classifier over the new pseudo-labels (the reference re-draws it every epoch: N(0, 0.01), 0)."""
        layer = nn.Linear(self.fc, n_classes)
        nn.init.normal_(layer.weight, 0.0, 0.01)
        nn.init.zeros_(layer.bias)
        self.top_layer = layer.to(next(self.parameters()).device)
        return self.top_layer


def pca_whiten_l2(features: np.ndarray, n_components: int = 64, random_state=0):
    """The paper's preprocessing of the features before each re-clustering: PCA to ``n_components`` dimensions with
    whitening (every component scaled to unit variance), then every row L2-normalised. Returns rows and the PCA."""
    from sklearn.decomposition import PCA

    n_components = int(min(n_components, features.shape[1], len(features)))
    pca = PCA(n_components, whiten=True, random_state=random_state).fit(features)
    return l2_rows(pca.transform(features)), pca


def cluster_space(features: np.ndarray, n_components: int = 256, random_state=0):
    """The space of the final clusters: the features after their ReLU (what the classifier on top reads),
    L2-normalised, then PCA to ``n_components`` dimensions without whitening (a rotation that keeps the distances
    of the leading directions). Returns rows and the PCA.

    Measured on 2,000 MNIST digits after 10 epochs (k-means, k = 10, seeds 0/1): ACC 0.58–0.61 here and 0.64/0.60
    without the PCA, against 0.51 with the features before the ReLU and 0.38 in the paper's whitened space, whose
    equal-variance components weigh the noise as much as the signal."""
    from sklearn.decomposition import PCA

    unit = l2_rows(np.maximum(features, 0))
    n_components = int(min(n_components, unit.shape[1], len(unit)))
    pca = PCA(n_components, random_state=random_state).fit(unit)
    return pca.transform(unit).astype(np.float32), pca


def uniform_cluster_sample(labels: np.ndarray, n_samples: int, random_state=0) -> np.ndarray:
    """Indices of ``n_samples`` images drawn so that every non-empty cluster gives the same number (with
    replacement), then shuffled: the paper's answer to a few huge clusters dominating the training."""
    rs = check_random_state(random_state)
    clusters = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    per_cluster = n_samples // len(clusters) + 1
    picked = np.concatenate([rs.choice(members, per_cluster, replace=len(members) < per_cluster)
                             for members in clusters])
    return rs.permutation(picked)[:n_samples]


@register_method("deepcluster", inputs=("pixels",), family="deep", paper="Caron et al., ECCV 2018",
                 outputs=("cluster_centers_", "history_"))
class DeepCluster(ClusterMixin, TransformerMixin, BaseEstimator):
    """DeepCluster: a convnet trained from scratch on the k-means clusters of its own features.

    Every epoch: the features of all images (the network in eval mode, no augmentation) are PCA-whitened to
    ``pca_components`` dimensions and L2-normalised; k-means (``kmeans_iter`` iterations, a new seed each epoch,
    empty clusters refilled as the paper) groups them into ``n_pseudo_clusters`` pseudo-classes; the classifier on
    top is drawn anew; the network is trained one pass of cross-entropy on those pseudo-labels with images sampled
    uniformly over the pseudo-classes, each randomly cropped (and flipped). After the last epoch, k-means with
    ``n_clusters`` on the features (after their ReLU, L2-normalised; see :func:`cluster_space`) gives the clusters.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters returned.
    n_pseudo_clusters : int or None, default=None
        k of the pseudo-labels (the paper over-clusters: 10,000 for ImageNet's 1,000 classes). None: 10 ×
        ``n_clusters``, lowered to one pseudo-class per 20 images on small data sets (said in a warning).
    epochs : int, default=30
        Training epochs, each with one re-clustering. The paper trains 500 epochs on ImageNet (on a GPU); 30 fits
        a 2-core CPU for a few thousand small images (see the README's benchmark for the time).
    epoch_size : int or None, default=None
        Images drawn (uniformly over the pseudo-classes) per epoch. None: the number of images, as the paper, but
        at least 12,800 (50 batches): on a few thousand images an epoch of the paper's size is a handful of steps,
        too few for the new classifier to learn anything before the next re-clustering.
    pca_components : int, default=64
        Dimensions kept by the whitening PCA before each re-clustering. The paper keeps 256 of AlexNet's 4,096
        (1/16); here 64 of 1,024. Whitening as many dimensions as the features have equalises the noise with the
        signal: with 256 of 256 the pseudo-labels were near random (NMI to the digits 0.08 against 0.60 with 64).
    kmeans_iter : int, default=20
        Lloyd iterations per re-clustering (the reference's 20).
    learning_rate : float, default=0.05
        SGD's learning rate, of the network and of the classifier on top (the paper's 0.05).
    momentum : float, default=0.9
        SGD's momentum for the network (the paper's 0.9).
    weight_decay : float, default=1e-5
        SGD's weight decay (the paper's 10⁻⁵).
    batch_size : int, default=256
        Images per step (the paper's 256).
    augment : {"crop+flip", "crop", "none"}, default="crop+flip"
        Training-time augmentation: random resized crops (at least half the image's area) and horizontal flips,
        as the paper; "crop" for images whose mirror image is another class (digits).
    sobel : bool, default=True
        The fixed Sobel input layer (grey image → two gradients), as the paper.
    width : float, default=1.0
        Scales the convolutions' channels (1.0: 32-64-96-96-64, about 700 training images/s on 2 CPU cores at
        28 px; AlexNet has 96-256-384-384-256).
    device, random_state, verbose
        Where to train ("auto": CUDA when present), the seed (same seed, same labels), progress bars.

    Attributes
    ----------
    labels_, cluster_centers_, embedding_ (the training images in the space of the clusters, see
    :func:`cluster_space`), pseudo_labels_ (the last epoch's over-clustering), network_, pca_, history_ (per epoch:
    training loss, NMI between this epoch's pseudo-labels and the previous epoch's, and when ``y`` was given to
    fit: NMI of the pseudo-labels to it, ACC/NMI/ARI of the final k-means).

    References
    ----------
    M. Caron, P. Bojanowski, A. Joulin, M. Douze. Deep Clustering for Unsupervised Learning of Visual Features.
    ECCV 2018.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": Interval(int, 2), "n_pseudo_clusters": Interval(int, 2, none=True),
        "epoch_size": Interval(int, 2, none=True), "epochs": POSITIVE_INT, "pca_components": POSITIVE_INT,
        "kmeans_iter": POSITIVE_INT, "batch_size": POSITIVE_INT, "learning_rate": POSITIVE, "width": POSITIVE}

    def __init__(self, n_clusters: int = 10, *, n_pseudo_clusters: int | None = None, epochs: int = 30,
                 epoch_size: int | None = None, pca_components: int = 64, kmeans_iter: int = 20,
                 learning_rate: float = 0.05, momentum: float = 0.9, weight_decay: float = 1e-5, batch_size: int = 256,
                 augment: Literal["crop+flip", "crop", "none"] = "crop+flip", sobel: bool = True, width: float = 1.0,
                 device: str = "auto", random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images only: scikit-learn's checks, made for 2-D data, skip it
        tags.input_tags.three_d_array = True
        return tags

    def _check_params(self):
        check_params(self)

    # --- data ----------------------------------------------------------------------------------------------------
    def _images(self, X, *, fit: bool = False):
        """Images (N, H, W[, C]) as a standardised float tensor (N, C, H, W); uint8 is scaled to [0, 1] first."""
        Xf = check_images(self, X, fit=fit, min_side=16, purpose="DeepCluster trains a convnet")
        if fit:
            self.mean_, self.std_ = Xf.mean((0, 1, 2)), np.maximum(Xf.std((0, 1, 2)), 1e-6)
        Xf = (Xf - self.mean_) / self.std_
        return torch.from_numpy(np.ascontiguousarray(Xf.transpose(0, 3, 1, 2)))

    @staticmethod
    def _embed(net, X) -> np.ndarray:
        return embed_batches(net.embed, X, module=net, batch_size=1024).numpy()

    def _pseudo_k(self, n: int) -> int:
        if self.n_pseudo_clusters is not None:
            k = int(self.n_pseudo_clusters)
            if k > n:
                raise ValueError(f"n_pseudo_clusters={k} exceeds the number of images ({n})")
            return k
        k = max(int(self.n_clusters), min(10 * int(self.n_clusters), n // 20))
        if k < 10 * int(self.n_clusters):
            warnings.warn(f"DeepCluster: {k} pseudo-classes instead of 10 × {self.n_clusters} for {n} images (about "
                          f"20 images each); set n_pseudo_clusters to choose", RuntimeWarning, stacklevel=3)
        return k

    # --- fit -----------------------------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Train the network on its own pseudo-labels for ``epochs`` epochs, then cluster its features.

        ``y`` is optional and used only to log ACC/NMI/ARI per epoch in ``history_`` (never for training)."""
        self._check_params()
        X_t = self._images(X, fit=True)
        n = len(X_t)
        if n < int(self.n_clusters):
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of images ({n})")
        pseudo_k = self._pseudo_k(n)
        device = resolve_device(self.device)
        rs = check_random_state(self.random_state)
        with seeded(rs, device) as rng:  # the per-epoch seeds are drawn from rs after the fit's seed
            net = self._train(X_t, y, pseudo_k, device, rs, rng.generator)
        seed = rng.seed
        Z, self.pca_ = cluster_space(self._embed(net, X_t), random_state=seed)
        from sklearn.cluster import KMeans

        km = KMeans(int(self.n_clusters), n_init=10, random_state=seed).fit(Z)
        self.labels_ = km.labels_.astype(np.int64)
        self.cluster_centers_ = km.cluster_centers_.astype(np.float32)
        self.embedding_ = Z
        self.network_ = net.cpu().eval()
        return self

    def _train(self, X, y, pseudo_k, device, rs, gen):
        from sklearn.cluster import KMeans

        from ..metrics import nmi_score

        width = float(self.width)
        net = SmallAlexNet(X.shape[1], sobel=bool(self.sobel),
                           channels=tuple(max(8, round(c * width)) for c in CHANNELS),
                           fc=FC_WIDTH).to(device).to(memory_format=torch.channels_last)
        body = [p for name, p in net.named_parameters() if not name.startswith("top_layer")]
        opt = torch.optim.SGD(body, lr=self.learning_rate, momentum=self.momentum, weight_decay=self.weight_decay)
        history = History("epoch", "loss", "nmi_previous", "n_empty")
        epoch_size = int(self.epoch_size) if self.epoch_size is not None else max(len(X), MIN_EPOCH_SIZE)
        previous = None
        crop = self.augment != "none"
        for epoch in track(range(int(self.epochs)), total=int(self.epochs), description="DeepCluster",
                           verbose=self.verbose):
            epoch_seed = int(rs.randint(np.iinfo(np.int32).max))
            features = self._embed(net, X)
            Z, _ = pca_whiten_l2(features, self.pca_components, random_state=epoch_seed)
            pseudo, _ = kmeans_without_empty(Z, pseudo_k, n_iter=self.kmeans_iter, random_state=epoch_seed,
                                             device=device)
            nmi_previous = nmi_score(previous, pseudo) if previous is not None else float("nan")
            if y is not None:
                history.setdefault("nmi_pseudo", []).append(nmi_score(np.asarray(y), pseudo))
                Z_final = cluster_space(features, random_state=epoch_seed)[0]
                history.log_scores(y, KMeans(int(self.n_clusters), n_init=3,
                                             random_state=epoch_seed).fit_predict(Z_final))
            previous = pseudo
            top = net.new_top_layer(pseudo_k)
            opt_top = torch.optim.SGD(top.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
            order = torch.as_tensor(uniform_cluster_sample(pseudo, epoch_size, random_state=epoch_seed))
            targets = torch.as_tensor(pseudo)

            def cross_entropy(idx, targets=targets):  # this epoch's pseudo-labels
                if len(idx) < 2:
                    return None  # batch norm needs two samples
                x = X[idx].to(device)
                if crop:
                    x = random_resized_crop(x, gen, flip=self.augment == "crop+flip")
                return F.cross_entropy(net(x.contiguous(memory_format=torch.channels_last)), targets[idx].to(device))

            net.train()
            loss = run_epoch(order.split(int(self.batch_size)), cross_entropy, [opt, opt_top], who="DeepCluster",
                             where=f"in epoch {epoch + 1}")
            history.log(epoch + 1, loss=loss, nmi_previous=nmi_previous, n_empty=int(pseudo_k - len(np.unique(pseudo))))
        self.pseudo_labels_ = previous
        self.n_pseudo_clusters_ = pseudo_k
        self.history_ = history
        return net

    # --- after fit -----------------------------------------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """The features of new images in the space the clusters live in (see :func:`cluster_space`)."""
        check_is_fitted(self, "network_")
        features = self._embed(self.network_, self._images(X))
        return self.pca_.transform(l2_rows(np.maximum(features, 0))).astype(np.float32)

    def predict(self, X) -> np.ndarray:
        """The cluster of the nearest centre."""
        from sklearn.metrics import pairwise_distances_argmin

        return pairwise_distances_argmin(self.transform(X), self.cluster_centers_).astype(np.int64)
