"""The default pipeline on real images beats k-means on raw pixels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans

from deepclust import cluster_images
from deepclust.datasets import dataset_available, load_dataset
from deepclust.metrics import clustering_accuracy_score, nmi_score


@pytest.mark.slow
@pytest.mark.skipif(not dataset_available("fashion-mnist"), reason="dataset-fashion-mnist is not installed")
def test_default_pipeline_beats_pixels_on_fashion_mnist(tmp_path):
    """On 2,000 Fashion-MNIST test images, EfficientNet-Lite0 features + L2/PCA/UMAP + k-means beat k-means on
    pixels by at least 5 ACC points and 5 NMI points (measured here: about 0.69 vs 0.53 ACC)."""
    X, y = load_dataset("fashion-mnist", split="test")
    X, y = X[:2000], y[:2000]
    pixels = KMeans(10, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1).astype(np.float32))
    base_acc, base_nmi = clustering_accuracy_score(y, pixels), nmi_score(y, pixels)
    run = cluster_images(X, n_clusters=10, labels_true=y, cache_dir=tmp_path, verbose=False)
    acc, nmi = run.metrics["acc"], run.metrics["nmi"]
    assert acc >= base_acc + 0.05, f"ACC {acc:.3f} vs pixels {base_acc:.3f}"
    assert nmi >= base_nmi + 0.05, f"NMI {nmi:.3f} vs pixels {base_nmi:.3f}"
