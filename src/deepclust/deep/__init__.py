"""Deep clustering estimators that own a network: DEC, IDEC, DCN, DCEC, GAPDCEC (one shared training loop)."""

from ._base import DeepClusteringBase, encode, pretrain_autoencoder
from ._dec import DCEC, DEC, GAPDCEC, IDEC  # registered before DCN: `deepclust methods` lists DEC first

# isort: split
from ._dcn import DCN
from ._formulas import kl_clustering_loss, kmeans_friendly_loss, soft_assignment, target_distribution
from ._networks import ConvAutoencoder, MLPAutoencoder, build_autoencoder

__all__ = ["DCEC", "DCN", "DEC", "GAPDCEC", "IDEC", "ConvAutoencoder", "DeepClusteringBase",
           "MLPAutoencoder", "build_autoencoder", "encode", "kl_clustering_loss", "kmeans_friendly_loss",
           "pretrain_autoencoder", "soft_assignment", "target_distribution"]
