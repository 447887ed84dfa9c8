"""Clustering of feature vectors: reduction (L2, PCA, UMAP), k-means / agglomerative, choice of k, and a
clustering head trained on one or several views (SCAN)."""

from ._feature_clustering import ALGORITHMS, FeatureClustering, make_reducer
from ._kmeans import FaissKMeans, make_kmeans
from ._scan import SCAN, nearest_neighbors, scan_loss
from ._select_k import KSelection, prediction_strength, select_n_clusters

__all__ = ["ALGORITHMS", "FaissKMeans", "FeatureClustering", "KSelection", "SCAN", "make_kmeans", "make_reducer",
           "nearest_neighbors", "prediction_strength", "scan_loss", "select_n_clusters"]
