"""Pretrained feature extractors: a registry, batched cached extraction, and a scikit-learn transformer."""

from . import _backbones, _vit  # noqa: F401  (they register the builtin extractors)
from ._attention import attend, mask_images, overlay, resize_uint8
from ._augment import ImageAugmentation, augmented_copies
from ._cache import CacheEntry, clear_feature_cache, default_cache_dir, find_cache_entry, list_feature_cache
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
    build_network,
    get_extractor_spec,
    list_extractors,
    register_extractor,
)
from ._transformer import ImageFeatures
from ._weights import weights_identity

__all__ = ["FOCUS_MODES", "HANDCRAFTED_VIEWS", "NAMES_ABOUT", "RUNTIMES", "CacheEntry", "ExtractedFeatures",
           "ExtractorSpec", "FeatureExtractor", "FocusRegions", "ImageAugmentation", "ImageFeatures", "ObjectFocus",
           "WeightsFileError", "WeightsNotFoundError", "attend", "augmented_copies", "auto_input_size",
           "build_network", "class_probabilities", "clear_feature_cache", "close_dask", "cluster_label",
           "connect_dask", "create_extractor", "create_focus", "default_cache_dir", "extract_features",
           "find_cache_entry", "get_extractor_spec", "handcrafted_features", "head_applies", "hog_features",
           "imagenet_class_names", "list_extractors", "list_feature_cache", "mask_images", "name_clusters",
           "onnx_available", "overlay", "pixel_features", "register_extractor", "resize_uint8",
           "weights_identity"]
