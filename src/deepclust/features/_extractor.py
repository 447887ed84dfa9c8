"""A ready-to-use extractor: the backbone, its spec, the layer, the input size and the device, in one object."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._device import resolve_device
from ._onnx import OnnxRunner, export_checked, onnx_available, onnx_path
from ._registry import ExtractorSpec, _builder, get_extractor_spec
from ._weights import weights_identity

if TYPE_CHECKING:
    import torch

#: The smallest job for which ``runtime="auto"`` exports the network to ONNX Runtime.
#: ONNX Runtime pays for its export (with its check, ~8 s on 2 cores) from about this many images at 224 px; the
#: saving per image grows with the input side to the power ONNX_SIDE_POWER (benchmarks/onnx_break_even.py: break-even
#: 573–740 images at 224 px, 2,314–2,470 at 128, 9,345–12,933 at 64; the fit gives 700, 2,530 and 12,460).
ONNX_BREAK_EVEN_224 = 700
ONNX_SIDE_POWER = 2.3
#: With the graph already exported (cached across runs) only its check runs (0.04–0.2 s): ONNX from this many.
ONNX_MIN_IMAGES_EXPORTED = 64


def onnx_min_images(input_size: int, exported: bool = False) -> int:
    """The smallest job (in images) for which ``runtime="auto"`` takes ONNX Runtime at side ``input_size``."""
    if exported:
        return ONNX_MIN_IMAGES_EXPORTED
    return int(round(ONNX_BREAK_EVEN_224 * (224 / int(input_size)) ** ONNX_SIDE_POWER))

RUNTIMES = ("auto", "torch", "onnx")


@dataclass
class FeatureExtractor:
    """Turns uint8 image batches ``(B, H, W[, C])`` into feature vectors ``(B, D)``.

    Build it with :func:`create_extractor`. Preprocessing (grey → RGB, resize to ``input_size``, normalisation)
    is derived from ``spec`` so weights and transforms never drift apart.
    """

    spec: ExtractorSpec
    layer: str
    input_size: int
    device: str
    weights_id: str
    module: torch.nn.Module | None  # None: a reader that only preprocesses (transfer clustering's)
    runtime: str = "auto"  # asked for: "auto", "torch" or "onnx"; see :meth:`select_runtime`
    weights: object = None  # the local weights file, if any (to rebuild the extractor elsewhere: :meth:`recipe`)
    runner: OnnxRunner | None = field(default=None, repr=False)  # the ONNX Runtime session once selected

    @property
    def active_runtime(self) -> str:
        return "onnx" if self.runner is not None else "torch"

    def recipe(self) -> dict:
        """The arguments of :func:`create_extractor` that rebuild this extractor in a worker process, running the
        network as this one does (ONNX Runtime on the worker's CPU, or PyTorch on its best device)."""
        runtime = self.active_runtime
        return dict(name=self.spec.name, layer=self.layer, weights=self.weights, input_size=self.input_size,
                    runtime=runtime, device="cpu" if runtime == "onnx" else "auto")

    def select_runtime(self, n_images: int, cache_dir) -> str:
        """Choose how to run the network for a job of ``n_images`` and return it (``"torch"`` or ``"onnx"``).

        ``"auto"`` takes ONNX Runtime on CPU when it is installed and the job is large enough to pay for the
        export at this input size (:func:`onnx_min_images`: about 700 images at 224 px, 12,000 at 64 px; 64 images
        when the graph is already exported in ``cache_dir``) and the extractor is one it speeds up (``onnx_pays``),
        PyTorch otherwise; ``"onnx"`` insists (an error on
        CUDA or without onnxruntime). A failed export or check falls back to PyTorch with a warning: the features
        are the same network's either way."""
        if self.runner is not None or self.runtime == "torch":
            return self.active_runtime
        wanted = self.runtime == "onnx"
        if wanted and (self.device != "cpu" or not onnx_available()):
            raise ValueError("runtime 'onnx' needs device cpu and the onnxruntime package "
                             f"(device here: {self.device}; onnxruntime {'found' if onnx_available() else 'missing'})")
        identity = f"{self.spec.name}|{self.layer}|{self.input_size}|{self.weights_id}"
        if not wanted and (self.device != "cpu" or not onnx_available() or not self.spec.onnx_pays
                           or n_images < onnx_min_images(self.input_size,
                                                         exported=onnx_path(cache_dir, identity).exists())):
            return "torch"
        import torch

        example = self.preprocess(np.random.RandomState(0).randint(0, 256, (8, 32, 32, 3), dtype=np.uint8))
        try:
            self.runner = export_checked(self.module, example, onnx_path(cache_dir, identity),
                                         torch.get_num_threads())
        except Exception as exc:
            if wanted:
                raise
            warnings.warn(f"ONNX Runtime not used for {self.spec.name}/{self.layer} ({type(exc).__name__}: "
                          f"{str(exc)[:200]}); extracting with PyTorch", stacklevel=2)
        return self.active_runtime

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers whose features sit side by side (``layer`` may join several with ``+``)."""
        return tuple(self.layer.split("+"))

    @property
    def n_features(self) -> int:
        return sum(self.spec.layers[name] for name in self.layers)

    def preprocess(self, images: np.ndarray):
        """uint8 ``(B, H, W[, C])`` → normalised float ``(B, 3, S, S)`` on ``device``."""
        import torch
        import torch.nn.functional as F

        images = np.asarray(images)
        h, w = images.shape[1:3]
        if h != w:  # centre square, as the folder reader does, so arrays and files give the same features
            s = min(h, w)
            images = images[:, (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        x = torch.from_numpy(np.array(images, copy=not images.flags.writeable or not images.flags.c_contiguous))
        if x.ndim == 3:
            x = x.unsqueeze(-1)
        x = x.to(self.device).permute(0, 3, 1, 2)[:, :3].float()
        if x.shape[-2:] != (self.input_size, self.input_size):  # resize before grey → RGB: a third of the work
            shrink = max(x.shape[-2:]) > self.input_size
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False,
                              antialias=shrink)
        # (x / 255 - mean) / std as one multiply-add per channel, written straight into channels-last memory
        scale = torch.tensor([1.0 / (255.0 * s) for s in self.spec.std], device=self.device).view(1, 3, 1, 1)
        shift = torch.tensor([-m / s for m, s in zip(self.spec.mean, self.spec.std)], device=self.device)
        out = torch.empty((len(x), 3, *x.shape[-2:]), device=self.device).contiguous(memory_format=torch.channels_last)
        return torch.addcmul(shift.view(1, 3, 1, 1), x.expand(-1, 3, -1, -1), scale, out=out)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Features of one batch of uint8 images, as float32 numpy."""
        import torch

        with torch.inference_mode():
            x = self.preprocess(images)
            if self.runner is not None:
                return self.runner(x)
            assert self.module is not None, "this extractor only preprocesses"
            return self.module(x).float().cpu().numpy()


def auto_input_size(spec: ExtractorSpec, image_size: int) -> int:
    """Small images are not blown up to 224: use the image's size rounded up to 32, at least 64 (and the
    backbone's minimum), at most the backbone's native input size."""
    size = max(64, -(-int(image_size) // 32) * 32, spec.min_input_size)
    return min(size, spec.input_size)


def create_extractor(name: str = "efficientnet_lite0", layer: str | None = None,
                     weights: str | os.PathLike | None = None, device: str = "auto",
                     input_size: int | None = None, runtime: str = "auto") -> FeatureExtractor:
    """Build a pretrained extractor by name (see :func:`list_extractors`).

    Parameters
    ----------
    name : registered extractor name, e.g. ``"efficientnet_lite0"`` (offline default), ``"vgg16"``, ``"resnet50"``.
    layer : which layer's (pooled) output to return; default from the spec. Several joined by ``+`` (e.g.
        ``"stage4+pool"``) give their features side by side, in one forward pass where the backbone allows.
    weights : a local state-dict file; default: the spec's source (a pip package, or a download).
    device : ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    input_size : square input side in pixels; default the backbone's native size.
    runtime : ``"auto"`` (ONNX Runtime for large jobs on CPU, see :meth:`FeatureExtractor.select_runtime`),
        ``"torch"`` or ``"onnx"``.

    Raises
    ------
    WeightsNotFoundError
        When the weights are neither at ``weights`` nor obtainable; the message says what to install or pass.
    """
    spec = get_extractor_spec(name)
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    layer = spec.default_layer if layer is None else layer
    parts = layer.split("+")
    for part in parts:
        if part not in spec.layers:
            raise ValueError(f"{name} has no layer {part!r}; choose one of {', '.join(spec.layers)}")
    if len(set(parts)) < len(parts):
        raise ValueError(f"layer {layer!r} names a layer twice")
    input_size = spec.input_size if input_size is None else int(input_size)
    if input_size < spec.min_input_size:
        raise ValueError(f"{name} needs input_size >= {spec.min_input_size}, got {input_size}")
    device = resolve_device(device)
    import torch

    build = _builder(name)
    if len(parts) == 1 or spec.one_pass_layers:
        module = build(spec, layer, weights)
    else:  # one pass per layer, features side by side
        module = _side_by_side([build(spec, part, weights) for part in parts])
    # channels-last runs these conv nets about 20 % faster on CPU (measured: EfficientNet-Lite0, 64 px, 2 cores)
    module = module.eval().to(device, memory_format=torch.channels_last)
    return FeatureExtractor(spec=spec, layer=layer, input_size=input_size, device=device,
                            weights_id=weights_identity(spec, weights), module=module, runtime=runtime,
                            weights=str(weights) if weights is not None else None)


def _side_by_side(bodies):
    """Several single-layer bodies of one backbone as one module, their features concatenated."""
    import torch
    from torch import nn

    class SideBySide(nn.Module):
        def __init__(self):
            super().__init__()
            self.bodies = nn.ModuleList(bodies)

        def forward(self, x):
            return torch.cat([body(x) for body in self.bodies], dim=1)

    return SideBySide()
