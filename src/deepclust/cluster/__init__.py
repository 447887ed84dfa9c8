"""Clustering of feature vectors: reduction (L2, PCA, UMAP), k-means / agglomerative, graph-degree-linkage
agglomeration, choice of k, a clustering head trained on one or several views (SCAN), and the consensus of partitions
of several views; helpers shared with the deep methods (:func:`l2_rows`, :func:`kmeans_without_empty`)."""

from ._feature_clustering import ALGORITHMS, FeatureClustering, make_reducer
from ._gdl import GDLAgglomeration, initial_clusters
from ._helpers import kmeans_without_empty, l2_rows
from ._kmeans import FaissKMeans, HierarchicalKMeans, make_kmeans
from ._scan import SCAN, nearest_neighbors
from ._select_k import KSelection, prediction_strength, select_n_clusters
from ._tree import ClusterTree, cluster_tree

# isort: split
from ._consensus import (
    AVERAGE_LINKAGE_MAX,
    CONSENSUS_VIEWS,
    ConsensusClustering,
    co_association,
    membership_matrix,
)

__all__ = ["ALGORITHMS", "AVERAGE_LINKAGE_MAX", "CONSENSUS_VIEWS", "ClusterTree", "ConsensusClustering", "FaissKMeans",
           "FeatureClustering", "GDLAgglomeration", "HierarchicalKMeans", "KSelection", "SCAN", "cluster_tree",
           "co_association", "initial_clusters", "kmeans_without_empty", "l2_rows", "make_kmeans", "make_reducer",
           "membership_matrix", "nearest_neighbors", "prediction_strength", "select_n_clusters"]
