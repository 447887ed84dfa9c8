"""Deep clustering estimators that own a network: DEC, IDEC, DCN, DCEC, GAPDCEC (one shared training loop),
DeepCluster (a convnet trained on the k-means clusters of its own features), JULE (agglomerative merges and a CNN
trained on the current clusters, in turn), DTC (a CNN fine-tuned on labelled known classes, then a DEC objective on
the novel images) and AdaptedClustering (the extractor's last stages fine-tuned without labels, SCAN's loss). Their
training loops are built from one toolbox, :mod:`deepclust._training`; the papers' formulas are small functions in
:mod:`deepclust.formulas` (shared with SCAN)."""

from ._base import DeepClusteringBase
from ._dec import DCEC, DEC, GAPDCEC, IDEC  # registered before DCN: `deepclust methods` lists DEC first

# isort: split
from ._dcn import DCN
from ._deepcluster import DeepCluster
from ._dtc import DTC
from ._jule import JULE
from ._novel_k import estimate_novel_k

# isort: split
from ._adapt import AdaptedClustering  # registered last: listed after the seed methods

__all__ = ["AdaptedClustering", "DCEC", "DCN", "DEC", "DTC", "DeepCluster", "DeepClusteringBase", "GAPDCEC", "IDEC",
           "JULE", "estimate_novel_k"]
