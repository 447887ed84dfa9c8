"""Deep clustering estimators that own a network: DEC, IDEC, DCN, DCEC, GAPDCEC (one shared training loop),
DeepCluster (a convnet trained on the k-means clusters of its own features), JULE (agglomerative merges and a CNN
trained on the current clusters, in turn) and DTC (a CNN fine-tuned on labelled known classes, then a DEC objective on
the novel images)."""

from ._base import DeepClusteringBase, encode, pretrain_autoencoder
from ._dec import DCEC, DEC, GAPDCEC, IDEC  # registered before DCN: `deepclust methods` lists DEC first

# isort: split
from ._dcn import DCN
from ._deepcluster import DeepCluster, kmeans_without_empty, pca_whiten_l2, uniform_cluster_sample
from ._dtc import DTC, sigmoid_rampup, temporal_ensemble
from ._formulas import kl_clustering_loss, kmeans_friendly_loss, soft_assignment, target_distribution
from ._jule import JULE, agglomerate, cluster_affinity, initial_clusters, merge_criterion, sample_affinity
from ._networks import ConvAutoencoder, MLPAutoencoder, build_autoencoder
from ._novel_k import anchored_kmeans, estimate_novel_k

__all__ = ["ConvAutoencoder", "DCEC", "DCN", "DEC", "DTC", "DeepCluster", "DeepClusteringBase", "GAPDCEC", "IDEC",
           "JULE", "MLPAutoencoder", "agglomerate", "anchored_kmeans", "build_autoencoder", "cluster_affinity",
           "encode", "estimate_novel_k", "initial_clusters", "kl_clustering_loss", "kmeans_friendly_loss",
           "kmeans_without_empty", "merge_criterion", "pca_whiten_l2", "pretrain_autoencoder", "sample_affinity",
           "sigmoid_rampup", "soft_assignment", "target_distribution", "temporal_ensemble", "uniform_cluster_sample"]
