"""Clustering of feature vectors: reduction (L2, PCA, UMAP), k-means / agglomerative, density (HDBSCAN, with images
in no cluster), graph-degree-linkage agglomeration, choice of k, a clustering head trained on one or several views
(SCAN), and the consensus of partitions of several views; helpers shared with the deep methods (:func:`l2_rows`,
:func:`kmeans_without_empty`)."""

from ._density import DensityClustering, default_min_cluster_size
from ._feature_clustering import ALGORITHMS, FeatureClustering, make_reducer, reduce_features
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

__all__ = ["ALGORITHMS", "AVERAGE_LINKAGE_MAX", "CONSENSUS_VIEWS", "ClusterTree", "ConsensusClustering",
           "DensityClustering", "FaissKMeans", "FeatureClustering", "GDLAgglomeration", "HierarchicalKMeans",
           "KSelection", "SCAN", "cluster_tree", "co_association", "default_min_cluster_size", "initial_clusters",
           "kmeans_without_empty", "l2_rows", "make_kmeans", "make_reducer", "membership_matrix", "nearest_neighbors",
           "prediction_strength", "reduce_features", "select_n_clusters"]
