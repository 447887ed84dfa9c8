"""Pretrained feature extractors: a registry, batched cached extraction, and a scikit-learn transformer."""

from . import _backbones  # noqa: F401  (registers the builtin extractors)
from ._extract import ExtractedFeatures, default_cache_dir, extract_features
from ._extractor import FeatureExtractor, auto_input_size, create_extractor
from ._registry import ExtractorSpec, WeightsNotFoundError, get_extractor_spec, list_extractors, register_extractor
from ._transformer import ImageFeatures

__all__ = ["ExtractedFeatures", "ExtractorSpec", "FeatureExtractor", "ImageFeatures", "WeightsNotFoundError",
           "auto_input_size", "create_extractor", "default_cache_dir", "extract_features", "get_extractor_spec",
           "list_extractors", "register_extractor"]
