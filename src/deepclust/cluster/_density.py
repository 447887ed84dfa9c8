"""Density-based clustering of feature vectors: the default reduction (L2, PCA, UMAP), then HDBSCAN, which finds the
number of clusters itself and leaves the images that lie in no dense region in no cluster (label -1)."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import HDBSCAN
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._progress import stage
from ..methods import NO_CLUSTER, Interval, check_params, register_method
from ._feature_clustering import reduce_features

#: The smallest cluster by default: this share of the images (with at least :data:`MIN_CLUSTER_SIZE_FLOOR`); see
#: :func:`default_min_cluster_size` and the docstring of :class:`DensityClustering` for the measurements behind it.
MIN_CLUSTER_SHARE = 0.02
MIN_CLUSTER_SIZE_FLOOR = 5


def default_min_cluster_size(n_samples: int) -> int:
    """The default smallest cluster for ``n_samples`` images: 2 % of them, at least 5 (scikit-learn's default).

    >>> [default_min_cluster_size(n) for n in (100, 1797, 10_000, 70_000)]
    [5, 36, 200, 1400]
    """
    return max(MIN_CLUSTER_SIZE_FLOOR, int(round(MIN_CLUSTER_SHARE * n_samples)))


@register_method("hdbscan", inputs=("features",), family="density", chooses_k=True,
                 paper="Campello, Moulavi, Sander, PAKDD 2013 (HDBSCAN); McInnes, Healy, Astels, JOSS 2017 "
                       "(accelerated); N2D, McConville et al. 2020 (UMAP step)",
                 outputs=("cluster_centers_", "run_details_"),
                 aliases={"pca": "pca_components", "umap": "umap_components", "l2": "l2_normalize"})
class DensityClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Cluster feature vectors by density (HDBSCAN): the number of clusters is found, and images in no cluster get -1.

    The features are reduced as for k-means (L2, PCA 50, UMAP 10 with min_dist 0, which packs each cluster tight:
    HDBSCAN's density estimate needs few dimensions), then scikit-learn's HDBSCAN (Campello, Moulavi and Sander
    2013, with the accelerated algorithm of McInnes et al. 2017) builds the hierarchy of density levels and keeps
    clusters from it. Images that lie in no dense region belong to no cluster: their label is -1
    (``deepclust.methods.NO_CLUSTER``), the label a person's review gives images set aside.

    The defaults were chosen on digits (1,797), MNIST-5k, emoji (604 colour drawings of 12 kinds) and
    Fashion-MNIST (10,000), seeds 0-2 (benchmarks/hdbscan.py, benchmarks/results/hdbscan.md): with them HDBSCAN
    found 14-19 clusters on these sets of 10-12 classes, left 14-31 % of the images in none, and the clustered
    ones were 76 % pure on average; it never found as few as half the classes.

    Parameters
    ----------
    min_cluster_size : int or None, default=None
        The fewest images a cluster holds (None: 2 % of the images, at least 5); smaller groups are left in no
        cluster. The default is 5 up to 250 images, 36 of 1,797, 200 of 10,000, 1,400 of 70,000, and finds at
        most 50 clusters. Measured: 1 % split the sets into 23-37 clusters with 19-39 % in none; 5 % found 7-11,
        closer to their classes, but could find no more than 20 clusters in any set.
    min_samples : int or None, default=5
        The neighbours that make an image a core of a dense region (None: min_cluster_size, scikit-learn's
        default); larger leaves more images in no cluster and merges clusters. Measured at 2 %: 10 left 20-39 %
        in none, None 22-42 % (and found 8 clusters on MNIST-5k and Fashion-MNIST).
    cluster_selection_method : {"leaf", "eom"}, default="leaf"
        leaf keeps the leaves of the cluster hierarchy; eom (excess of mass, the paper's) its most stable
        clusters, which on these features are often a few large ones: with it 7 of the 12 runs found at most half
        the classes (Fashion-MNIST 4 clusters of 10 on every seed, MNIST-5k 3-5), with leaf none did.
    l2_normalize : bool, default=True
        Scale each feature vector to unit length first.
    pca_components : int or None, default=50
        PCA components before UMAP; None or 0 skips PCA.
    umap_components : int or None, default=10
        UMAP target dimension; None or 0 skips UMAP (HDBSCAN then runs on the 50 PCA components, where most
        images are in no cluster: 62 % of digits, 75 % of MNIST-5k, seed 0).
    umap_neighbors : int, default=15
        UMAP's number of neighbours.
    random_state : int, RandomState or None
        Seed of the reduction (HDBSCAN itself draws nothing); same value, same labels.
    verbose : bool, default=False
        Progress on stderr for the reduction and the clustering.

    Attributes
    ----------
    labels_ : ndarray (n_samples,), the cluster of each sample, -1 for none.
    n_clusters_ : int, the clusters found (-1 not counted).
    embedding_ : ndarray (n_samples, d), the reduced features the clustering ran on.
    cluster_centers_ : ndarray (n_clusters_, d), cluster means in the embedding.
    run_details_ : dict, min_cluster_size and min_samples as used (recorded in place of None).
    clusterer_ : the fitted sklearn.cluster.HDBSCAN (its ``probabilities_``: each sample's membership strength).

    References
    ----------
    Campello, Moulavi, Sander. Density-based clustering based on hierarchical density estimates. PAKDD 2013.
    McInnes, Healy, Astels. hdbscan: Hierarchical density based clustering. JOSS 2(11), 2017.

    Examples
    --------
    >>> import numpy as np
    >>> rs = np.random.RandomState(0)
    >>> X = np.r_[rs.normal(0, 0.3, (60, 3)), rs.normal(5, 0.3, (60, 3)), [[20, -20, 20], [-20, 20, 0]]]
    >>> model = DensityClustering(min_cluster_size=10, l2_normalize=False, umap_components=None).fit(X)
    >>> model.n_clusters_, model.labels_[-2:].tolist()
    (2, [-1, -1])
    """

    _parameter_constraints: ClassVar[dict] = {
        "min_cluster_size": Interval(int, 2, none=True, why="a cluster of one image is none"),
        "min_samples": Interval(int, 1, none=True),
        "pca_components": Interval(int, 0, none=True, why="0 skips the step"),
        "umap_components": Interval(int, 0, none=True, why="0 skips the step"), "umap_neighbors": Interval(int, 2)}

    def __init__(self, *, min_cluster_size: int | None = None, min_samples: int | None = 5,
                 cluster_selection_method: Literal["leaf", "eom"] = "leaf", l2_normalize: bool = True,
                 pca_components: int | None = 50, umap_components: int | None = 10, umap_neighbors: int = 15,
                 random_state: int | None = None, verbose: bool = False):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method
        self.l2_normalize = l2_normalize
        self.pca_components = pca_components
        self.umap_components = umap_components
        self.umap_neighbors = umap_neighbors
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        """The hyper-parameters alone (the registry calls this before any work; ``fit`` again)."""
        check_params(self)

    def fit(self, X, y=None):
        self._check_params()
        X = validate_data(self, X, dtype=[np.float32, np.float64], order="C", ensure_min_samples=2)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.reducer_, Z = reduce_features(X, l2_normalize=self.l2_normalize, pca_components=self.pca_components,
                                           umap_components=self.umap_components, umap_neighbors=self.umap_neighbors,
                                           random_state=seed, verbose=self.verbose)
        size = int(self.min_cluster_size) if self.min_cluster_size is not None else default_min_cluster_size(len(X))
        size = min(size, len(X))  # sklearn refuses a size above n: then one cluster or none
        samples = min(int(self.min_samples) if self.min_samples is not None else size, len(X))
        self.clusterer_ = HDBSCAN(min_cluster_size=size, min_samples=samples,
                                  cluster_selection_method=self.cluster_selection_method, copy=True)
        with stage(f"HDBSCAN of {len(Z)} points (smallest cluster {size}, {samples} neighbours)",
                   verbose=bool(self.verbose)):
            labels = np.asarray(self.clusterer_.fit_predict(Z), dtype=np.int64)
        labels[labels < 0] = NO_CLUSTER  # scikit-learn's -2 and -3 (infinite, missing) cannot occur on checked input
        self.labels_, self.embedding_ = labels, Z
        self.n_clusters_ = int(labels.max()) + 1 if (labels != NO_CLUSTER).any() else 0
        self.cluster_centers_ = np.stack([Z[labels == c].mean(axis=0) for c in range(self.n_clusters_)]) \
            if self.n_clusters_ else np.empty((0, Z.shape[1]))
        self.run_details_ = {"min_cluster_size": size, "min_samples": samples}  # as used (None: from n)
        return self

    def transform(self, X):
        """The reduced features (the space the clusters live in)."""
        check_is_fitted(self, "labels_")
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return np.asarray(self.reducer_.transform(X) if self.reducer_ is not None else X, dtype=np.float64)
