"""deepclust: cluster unlabelled images with pretrained CNN features and deep clustering methods."""

__version__ = "0.1.0"

from .cluster import SCAN, FeatureClustering  # noqa: E402
from .datasets import list_datasets, load_dataset, scan_folder  # noqa: E402
from .features import ImageFeatures, create_extractor, extract_features, list_extractors  # noqa: E402
from .metrics import ari_score, clustering_accuracy_score, evaluate_clustering, nmi_score, purity_score  # noqa: E402
from .pipeline import ClusterRun, cluster_images, extract_views  # noqa: E402

__all__ = ["SCAN", "ClusterRun", "FeatureClustering", "ImageFeatures", "__version__", "ari_score", "cluster_images",
           "clustering_accuracy_score", "create_extractor", "evaluate_clustering", "extract_features", "extract_views",
           "list_datasets", "list_extractors", "load_dataset", "nmi_score", "purity_score", "scan_folder"]
