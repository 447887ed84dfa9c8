"""Classical clustering of feature vectors: optional L2-normalisation, PCA and UMAP, then k-means or
agglomerative clustering, with k chosen from the data when not given."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar, Literal, get_args

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import PCA
from sklearn.neighbors import kneighbors_graph
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from .._progress import stage
from .._umap import UMAPReducer
from ..methods import N_CLUSTERS_OR_CHOSEN, POSITIVE_INT, Interval, check_params, register_method
from ._kmeans import make_kmeans
from ._select_k import largest_k, select_n_clusters
from ._streamed_pca import FIT_SAMPLE, StreamedPCA

Algorithm = Literal["kmeans", "agglomerative-ward", "agglomerative-average"]
ALGORITHMS = get_args(Algorithm)
UMAP_MIN_SAMPLES = 100
AGGLOMERATIVE_GRAPH_MIN_SAMPLES = 10_000


def make_reducer(*, l2_normalize=True, pca_components=50, umap_components=10, umap_neighbors=15, n_samples,
                 n_features, random_state=0) -> Pipeline | None:
    """The reduction as a scikit-learn pipeline (None when nothing is to be done).

    UMAP (McInnes et al. 2018) with ``min_dist=0`` packs clusters tightly, as N2D (McConville et al. 2020) uses it
    (faiss neighbours and 100 epochs from 10,000 images on: :class:`~deepclust._umap.UMAPReducer`); it is skipped
    for fewer than ``UMAP_MIN_SAMPLES`` images, and PCA when the features are already small. Above ``FIT_SAMPLE``
    images L2 and PCA are fitted on a sample and streamed (:class:`~deepclust.cluster._streamed_pca.StreamedPCA`).
    """
    steps = []
    pca = bool(pca_components and n_features > pca_components and n_samples > pca_components)
    if pca and n_samples > FIT_SAMPLE:  # too large to copy: fitted on a sample, applied chunk by chunk
        steps.append(("pca", StreamedPCA(pca_components, l2_normalize=l2_normalize, random_state=random_state)))
    else:
        if l2_normalize:
            steps.append(("l2", Normalizer()))
        if pca:
            steps.append(("pca", PCA(pca_components, random_state=random_state)))
    if umap_components and n_samples >= UMAP_MIN_SAMPLES:
        steps.append(("umap", UMAPReducer(n_components=umap_components, n_neighbors=min(umap_neighbors, n_samples - 1),
                                          min_dist=0.0, random_state=random_state)))
    return Pipeline(steps) if steps else None


#: How the reduction's steps are named in progress lines.
_STEP_NAMES = {"l2": "L2", "pca": "PCA", "umap": "UMAP"}


def reduce_features(X, *, l2_normalize=True, pca_components=50, umap_components=10, umap_neighbors=15,
                    random_state=0, verbose=False) -> tuple[Pipeline | None, np.ndarray]:
    """The reduction of :func:`make_reducer` fitted to ``X``, and ``X`` reduced by it (float64; ``X`` itself when
    there is nothing to do); ``verbose``: a progress line while it runs (UMAP takes minutes on many images). Every
    method over feature vectors reduces them through this."""
    reducer = make_reducer(l2_normalize=l2_normalize, pca_components=pca_components, umap_components=umap_components,
                           umap_neighbors=umap_neighbors, n_samples=len(X), n_features=X.shape[1],
                           random_state=random_state)
    steps = " then ".join(_STEP_NAMES[name] for name, _ in reducer.steps) if reducer else ""
    with stage(f"reducing {len(X)} feature vectors: {steps}", verbose=bool(verbose and steps)):
        Z = np.asarray(reducer.fit_transform(X) if reducer is not None else X, dtype=np.float64)
    return reducer, Z


#: The largest k tried when k is chosen, unless ``k_max`` says otherwise (fewer on few samples: see
#: :func:`~deepclust.cluster._select_k.largest_k`).
K_MAX_DEFAULT = 20

_CLASSICAL: dict[str, Any] = dict(
    inputs=("features",), family="classical", chooses_k=True, outputs=("cluster_centers_", "k_selection_"),
    k_options=("k_min", "k_max", "selection_sample"),
    aliases={"pca": "pca_components", "umap": "umap_components", "l2": "l2_normalize"})
_FEATURES_PAPER = "Guérin et al. 2017 (CNN features); N2D, McConville et al. 2020 (UMAP step)"


# decorators apply bottom-up: the listing shows kmeans first
@register_method("agglomerative-average", fixed={"algorithm": "agglomerative-average"}, paper=_FEATURES_PAPER,
                 **_CLASSICAL)
@register_method("agglomerative-ward", fixed={"algorithm": "agglomerative-ward"}, paper=_FEATURES_PAPER, **_CLASSICAL)
@register_method("kmeans", fixed={"algorithm": "kmeans"}, paper=_FEATURES_PAPER, **_CLASSICAL)
class FeatureClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Cluster feature vectors (e.g. pretrained-CNN features) with a reduction step and a classical algorithm.

    Parameters
    ----------
    n_clusters : int or None, default=None
        Number of clusters; ``None`` chooses it by the prediction strength over ``[k_min, k_max]`` (see
        ``k_selection_`` and :func:`~deepclust.cluster.select_n_clusters`).
    algorithm : {"kmeans", "agglomerative-ward", "agglomerative-average"}, default="kmeans"
        Agglomerative clustering above 10,000 images uses a 10-nearest-neighbour connectivity graph to bound memory.
    l2_normalize : bool, default=True
        Scale each feature vector to unit length first (better k-means on CNN features).
    pca_components : int or None, default=50
        PCA components before UMAP; ``None`` or 0 skips PCA.
    umap_components : int or None, default=10
        UMAP target dimension; ``None`` or 0 skips UMAP.
    umap_neighbors : int, default=15
        UMAP's number of neighbours.
    k_min, k_max : int, default=2, 20
        Smallest and largest k tried when choosing k.
    selection_sample : int, default=5000
        Sample size for the curves when choosing k.
    n_init : int, default=10
        k-means restarts.
    random_state : int, RandomState or None
        Same value, same labels.
    verbose : bool, default=False
        Progress on stderr for the reduction and the k search (minutes on thousands of images).

    Attributes
    ----------
    labels_ : ndarray (n_samples,)
    n_clusters_ : int
    embedding_ : ndarray (n_samples, d), the reduced features the clustering ran on.
    cluster_centers_ : ndarray (n_clusters_, d), cluster means in the embedding.
    distances_ : ndarray (n_samples,), distance of each sample to its cluster's centre in the embedding.
    k_selection_ : KSelection or None, the curves k was chosen from, when it was chosen.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.random.RandomState(0).normal(0, 1, (50, 5)), np.random.RandomState(1).normal(8, 1, (50, 5))]
    >>> FeatureClustering(2, umap_components=None, random_state=0).fit(X).n_clusters_
    2
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": N_CLUSTERS_OR_CHOSEN, "pca_components": Interval(int, 0, none=True, why="0 skips the step"),
        "umap_components": Interval(int, 0, none=True, why="0 skips the step"), "umap_neighbors": Interval(int, 2),
        "k_min": Interval(int, 2, why="one cluster is no choice"),
        "selection_sample": POSITIVE_INT, "n_init": POSITIVE_INT}

    def __init__(self, n_clusters: int | None = None, *,
                 algorithm: Algorithm = "kmeans",
                 l2_normalize: bool = True, pca_components: int | None = 50, umap_components: int | None = 10,
                 umap_neighbors: int = 15, k_min: int = 2, k_max: int = K_MAX_DEFAULT, selection_sample: int = 5000,
                 n_init: int = 10, random_state: int | None = None, verbose: bool = False):
        self.n_clusters = n_clusters
        self.algorithm = algorithm
        self.l2_normalize = l2_normalize
        self.pca_components = pca_components
        self.umap_components = umap_components
        self.umap_neighbors = umap_neighbors
        self.k_min = k_min
        self.k_max = k_max
        self.selection_sample = selection_sample
        self.n_init = n_init
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        """The hyper-parameters alone (the registry calls this before any work; ``fit`` again)."""
        check_params(self)
        if int(self.k_max) < int(self.k_min):
            raise ValueError(f"k_max must be at least k_min ({self.k_min}), got {self.k_max}")

    def _validate(self, X):
        self._check_params()
        X = validate_data(self, X, dtype=[np.float32, np.float64], order="C", ensure_min_samples=2)
        if self.n_clusters is not None and not 1 <= int(self.n_clusters) <= len(X):
            raise ValueError(f"n_clusters={self.n_clusters} must be between 1 and the number of samples ({len(X)})")
        if self.n_clusters is None and int(self.k_max) != K_MAX_DEFAULT and int(self.k_max) > len(X):  # given
            raise ValueError(f"k_max={self.k_max} is more clusters than the {len(X)} samples: give at most "
                             f"{largest_k(min(len(X), int(self.selection_sample)))} (each half of the sample needs "
                             f"about two samples per cluster)")
        return X

    def _make_clusterer(self, k: int, n_samples: int, seed: int, Z=None, n_init: int | None = None):
        if self.algorithm == "kmeans":
            return make_kmeans(k, n_samples, seed, n_init or self.n_init)
        linkage = self.algorithm.removeprefix("agglomerative-")
        connectivity = None
        if Z is not None and n_samples >= AGGLOMERATIVE_GRAPH_MIN_SAMPLES:
            connectivity = kneighbors_graph(Z, 10, include_self=False)
        return AgglomerativeClustering(k, linkage=linkage, connectivity=connectivity)

    def fit(self, X, y=None):
        X = self._validate(X)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.reducer_, Z = reduce_features(X, l2_normalize=self.l2_normalize, pca_components=self.pca_components,
                                           umap_components=self.umap_components, umap_neighbors=self.umap_neighbors,
                                           random_state=seed, verbose=self.verbose)
        self.k_selection_ = None
        k = self.n_clusters
        if k is None:
            sample = min(len(Z), self.selection_sample)
            if int(self.k_max) != K_MAX_DEFAULT and int(self.k_max) > largest_k(sample):  # a k_max given, not ours
                warnings.warn(f"k_max={self.k_max} lowered to {largest_k(sample)}: a sample of {sample} can test no "
                              f"more (each half needs about two samples per cluster)", UserWarning, stacklevel=2)
            self.k_selection_ = select_n_clusters(  # 3 restarts per k: the curves need many fits, not the best one
                Z, lambda kk: self._make_clusterer(kk, sample, seed, n_init=min(self.n_init, 3)),
                k_min=self.k_min, k_max=self.k_max, sample_size=self.selection_sample, random_state=seed,
                verbose=self.verbose)
            k = self.k_selection_.k
        self.clusterer_ = self._make_clusterer(int(k), len(Z), seed, Z)
        labels = np.asarray(self.clusterer_.fit_predict(Z), dtype=np.int64)
        self.labels_, self.embedding_, self.n_clusters_ = labels, Z, int(k)
        self.cluster_centers_ = np.stack([Z[labels == c].mean(axis=0) if np.any(labels == c)
                                          else np.full(Z.shape[1], np.nan) for c in range(self.n_clusters_)])
        self.distances_ = np.linalg.norm(Z - self.cluster_centers_[labels], axis=1)
        return self

    def transform(self, X):
        """The reduced features (the space the clusters live in)."""
        check_is_fitted(self, "labels_")
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return np.asarray(self.reducer_.transform(X) if self.reducer_ is not None else X, dtype=np.float64)

    @available_if(lambda self: self.algorithm == "kmeans")
    def predict(self, X):
        """Assign new samples to the nearest centre (k-means only: agglomerative clustering is transductive)."""
        Z = self.transform(X)
        return np.asarray(self.clusterer_.predict(Z), dtype=np.int64)
