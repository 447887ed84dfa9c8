"""Pretrained feature extractors: a registry, batched cached extraction, and a scikit-learn transformer."""

from . import _backbones, _vit  # noqa: F401  (they register the builtin extractors)
from ._augment import ImageAugmentation, augmented_copies
from ._cache import CacheEntry, clear_feature_cache, default_cache_dir, list_feature_cache
from ._distributed import close_dask, connect_dask
from ._extract import ExtractedFeatures, extract_features
from ._extractor import RUNTIMES, FeatureExtractor, auto_input_size, create_extractor
from ._focus import FOCUS_MODES, FocusRegions, ObjectFocus, create_focus
from ._handcrafted import HANDCRAFTED_VIEWS, handcrafted_features, hog_features, pixel_features
from ._naming import (
    NAMES_ABOUT,
    class_probabilities,
    cluster_label,
    head_applies,
    imagenet_class_names,
    name_clusters,
)
from ._onnx import onnx_available
from ._registry import (
    ExtractorSpec,
    WeightsFileError,
    WeightsNotFoundError,
    get_extractor_spec,
    list_extractors,
    register_extractor,
)
from ._transformer import ImageFeatures

__all__ = ["FOCUS_MODES", "HANDCRAFTED_VIEWS", "NAMES_ABOUT", "RUNTIMES", "CacheEntry", "ExtractedFeatures",
           "ExtractorSpec", "FeatureExtractor", "FocusRegions", "ImageAugmentation", "ImageFeatures", "ObjectFocus",
           "WeightsFileError", "WeightsNotFoundError", "augmented_copies", "auto_input_size", "class_probabilities",
           "clear_feature_cache", "close_dask", "cluster_label", "connect_dask", "create_extractor", "create_focus",
           "default_cache_dir", "extract_features", "get_extractor_spec", "handcrafted_features", "head_applies",
           "hog_features", "imagenet_class_names", "list_extractors", "list_feature_cache", "name_clusters",
           "onnx_available", "pixel_features", "register_extractor"]
