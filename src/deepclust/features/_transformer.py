"""The extractor as a scikit-learn transformer, so ``make_pipeline(ImageFeatures(), KMeans(10))`` works."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._extract import extract_features
from ._extractor import auto_input_size, create_extractor
from ._registry import get_extractor_spec


class ImageFeatures(TransformerMixin, BaseEstimator):
    """Pretrained-CNN features of uint8 images ``(N, H, W[, C])``.

    Parameters
    ----------
    extractor : registered extractor name (default ``"efficientnet_lite0"``, offline).
    layer : layer whose pooled output is returned; default from the extractor's spec.
    weights : local weights file; default the spec's source.
    input_size : square input side; ``None`` picks it from the images (small images are not blown up to 224).
    batch_size, device, cache_dir, use_cache, verbose : as in :func:`extract_features`.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.cluster import KMeans
    >>> model = make_pipeline(ImageFeatures(), KMeans(10, random_state=0))  # doctest: +SKIP
    """

    def __init__(self, extractor="efficientnet_lite0", *, layer=None, weights=None, input_size=None, batch_size=64,
                 device="auto", cache_dir=None, use_cache=False, verbose=False):
        self.extractor = extractor
        self.layer = layer
        self.weights = weights
        self.input_size = input_size
        self.batch_size = batch_size
        self.device = device
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.verbose = verbose

    def fit(self, X, y=None):
        X = _check_images(X)
        spec = get_extractor_spec(self.extractor)
        size = self.input_size or auto_input_size(spec, max(X.shape[1:3]))
        self.extractor_ = create_extractor(self.extractor, self.layer, self.weights, self.device, size)
        self.n_features_out_ = self.extractor_.n_features
        return self

    def transform(self, X) -> np.ndarray:
        X = _check_images(X)
        if not hasattr(self, "extractor_"):
            self.fit(X)
        out = extract_features(X, self.extractor_, batch_size=self.batch_size, cache_dir=self.cache_dir,
                               use_cache=self.use_cache, verbose=self.verbose)
        return np.asarray(out.features)


def _check_images(X) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W[, C]), got dtype {X.dtype}")
    if X.ndim not in (3, 4) or (X.ndim == 4 and X.shape[3] not in (1, 3, 4)) or len(X) == 0:
        raise ValueError(f"images must be a non-empty array (N, H, W[, C]) with C in 1, 3, 4; got shape {X.shape}")
    return X
