"""deepclust: cluster unlabelled images with pretrained CNN features and deep clustering methods."""

from ._version import __version__
from .assign import assign_images
from .cluster import SCAN, FeatureClustering, select_n_clusters
from .datasets import (
    iter_folder_batches,
    list_datasets,
    load_dataset,
    load_embeddings,
    open_dataset,
    scan_folder,
    subset_indices,
)
from .features import (
    ImageFeatures,
    create_extractor,
    extract_features,
    list_extractors,
    register_extractor,
)
from .methods import add_method_loader, get_method, list_methods, register_method
from .metrics import (
    ari_score,
    clustering_accuracy_score,
    evaluate_clustering,
    internal_scores,
    nmi_score,
    purity_score,
)
from .pipeline import cluster_images, extract_views
from .run import ClusterRun


def _load_builtin_methods() -> None:
    """The builtin methods register themselves when their packages are imported (deep/ imports torch: only when a
    method is first looked up)."""
    from . import cluster, deep  # noqa: F401


add_method_loader(_load_builtin_methods)

__all__ = ["SCAN", "ClusterRun", "FeatureClustering", "ImageFeatures", "__version__", "ari_score", "assign_images",
           "cluster_images", "clustering_accuracy_score", "create_extractor", "evaluate_clustering", "extract_features",
           "extract_views", "get_method", "internal_scores", "iter_folder_batches", "list_datasets", "list_extractors",
           "list_methods", "load_dataset", "load_embeddings", "nmi_score", "open_dataset", "purity_score",
           "register_extractor",
           "register_method", "scan_folder", "select_n_clusters", "subset_indices"]
