"""A registry of pretrained feature extractors; each carries a spec so preprocessing follows its weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TF_MEAN = TF_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class ExtractorSpec:
    """What an extractor needs and gives: layers (name → feature size), input size and normalisation, weights.

    ``weights_source`` says where ImageNet weights come from by default (a pip package's file or a URL);
    ``weights_hint`` is the sentence shown when they cannot be had. ``one_pass_layers``: the builder accepts several
    layers joined by ``+`` and computes them in one forward pass (otherwise each layer gets its own pass).
    ``onnx_pays``: whether ONNX Runtime is faster than PyTorch for it on a CPU, so that ``runtime="auto"`` may pick
    it (measured by ``benchmarks.extractor_speed``). ``imagenet_head``: the layer whose features its ImageNet
    classifier reads, with the default weights (cluster names come from it), or None.
    """

    name: str
    layers: dict[str, int]
    default_layer: str
    input_size: int
    min_input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    weights_source: str
    weights_hint: str
    description: str = ""
    offline: bool = False
    aliases: tuple[str, ...] = field(default=())
    one_pass_layers: bool = False
    onnx_pays: bool = True
    imagenet_head: str | None = None


_REGISTRY: dict[str, tuple[ExtractorSpec, Callable]] = {}


def register_extractor(spec: ExtractorSpec):
    """Register ``builder(spec, layer, weights) -> torch.nn.Module`` under ``spec.name``; a duplicate raises."""

    def decorator(builder: Callable) -> Callable:
        if spec.name in _REGISTRY:
            raise ValueError(f"an extractor named {spec.name!r} is already registered")
        if spec.default_layer not in spec.layers:
            raise ValueError(f"{spec.name}: default layer {spec.default_layer!r} is not one of {list(spec.layers)}")
        _REGISTRY[spec.name] = (spec, builder)
        return builder

    return decorator


def list_extractors() -> list[str]:
    """Names of the registered extractors, sorted."""
    return sorted(_REGISTRY)


def get_extractor_spec(name: str) -> ExtractorSpec:
    if name not in _REGISTRY:
        raise ValueError(f"unknown extractor {name!r}; choose one of {', '.join(list_extractors())}")
    return _REGISTRY[name][0]


def _builder(name: str) -> Callable:
    get_extractor_spec(name)
    return _REGISTRY[name][1]


def build_network(name: str, layer: str | None = None, weights=None, *, head: bool = False):
    """The PyTorch network of the registered extractor ``name`` with its pretrained ``weights`` (None: the default
    source): its body up to ``layer`` (default: the spec's), or with ``head=True`` the whole network with its
    ImageNet classifier (for naming clusters, saliency and fine-tuning), for the extractors that have one."""
    import inspect

    spec = get_extractor_spec(name)
    build = _builder(name)
    if not head:
        return build(spec, layer or spec.default_layer, weights)
    if "classifier" not in inspect.signature(build).parameters:
        raise ValueError(f"{name} is built without its classification head in deepclust: use an EfficientNet-Lite")
    return build(spec, layer or spec.default_layer, weights, classifier=True)


class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights could neither be found locally nor downloaded."""


class WeightsFileError(ValueError):
    """A weights file exists but holds no state dict that fits the network: a whole pickled model, another
    architecture's weights, or no PyTorch file at all. The message names the file and what to save instead."""
