"""Clustering of feature vectors: reduction (L2, PCA, UMAP), k-means / agglomerative, choice of k."""

from ._feature_clustering import ALGORITHMS, FeatureClustering, make_reducer
from ._kmeans import FaissKMeans, make_kmeans
from ._select_k import KSelection, select_n_clusters

__all__ = ["ALGORITHMS", "FaissKMeans", "FeatureClustering", "KSelection", "make_kmeans", "make_reducer",
           "select_n_clusters"]
