"""The supervised stage of transfer clustering: an ImageNet-pretrained EfficientNet-Lite whose last block stages are
fine-tuned with a classifier on the labelled known classes.

Why only the last stages: on a CPU, training the whole network on tens of thousands of images takes hours; the first
stages (edges, textures) transfer as they are, and their activations are computed once per image and kept as
float16, so each epoch runs only the stages that learn. By default that is the last block stage and the 1 × 1 head
convolution (1.0 M of the backbone's 3.4 M parameters, the part that decides what the pooled features mean):
0.67 s per 1,000 images per epoch on 2 cores at 64 px; the last two stages (2.7 M) cost 3.0 s."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._progress import track
from .._training import embed_batches, run_epoch

if TYPE_CHECKING:
    from timm.models.efficientnet import EfficientNet

#: Backbones whose block stages the supervised stage can split (timm EfficientNet-Lite).
TRANSFER_BACKBONES = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


class GlobalPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class StagedNetwork(nn.Module):
    """Pixels → ``trunk`` (frozen stem and first block stages) → ``top`` (the last ``trainable_stages`` block
    stages, head convolution, pooling: the features) → ``classifier`` (one logit per known class)."""

    def __init__(self, backbone: EfficientNet, trainable_stages: int, n_classes: int):
        super().__init__()
        blocks = list(backbone.blocks)
        if not 1 <= trainable_stages <= len(blocks):
            raise ValueError(f"trainable_stages must be between 1 and {len(blocks)}, got {trainable_stages}")
        cut = len(blocks) - trainable_stages
        self._cut, self._cam_stage = cut, len(blocks) - 3  # stage 4 of 7: the last at stride 16
        self.trunk = nn.Sequential(backbone.conv_stem, backbone.bn1, *blocks[:cut])
        self.top = nn.Sequential(*blocks[cut:], backbone.conv_head, backbone.bn2, GlobalPool())
        self.n_features = int(backbone.conv_head.out_channels)
        self.classifier = nn.Linear(self.n_features, n_classes)
        self.trunk.requires_grad_(False)

    @property
    def cam_layer(self) -> nn.Module:
        """Where Grad-CAM looks: the last block stage at stride 16 (4 × 4 at 64 px; the network ends at 2 × 2),
        in the trunk or in the trained top depending on the split."""
        if self._cam_stage < self._cut:
            return self.trunk[2 + self._cam_stage]  # after conv_stem and bn1
        return self.top[self._cam_stage - self._cut]

    def forward(self, x):
        return self.classifier(self.top(self.trunk(x)))


def build_staged_network(extractor: str, weights, input_size: int, trainable_stages: int, n_classes: int,
                         device: str):
    """The pretrained network split for training, and a reader that prepares images for it as the extractor does
    (grey → RGB, resize, the backbone's normalisation; :meth:`~deepclust.features.FeatureExtractor.preprocess`)."""
    from ..features import FeatureExtractor, build_network, get_extractor_spec, weights_identity

    if extractor not in TRANSFER_BACKBONES:
        raise ValueError(f"transfer clustering fine-tunes {', '.join(TRANSFER_BACKBONES)}; got {extractor!r}")
    spec = get_extractor_spec(extractor)
    backbone = build_network(extractor, "pool", weights, head=True)
    # channels-last: about 20 % faster convolutions on CPU (as the extractor)
    # Module.to takes a device and a memory format together, which torch's overloads leave out
    net = StagedNetwork(backbone, int(trainable_stages), n_classes).to(
        device, memory_format=torch.channels_last)  # type: ignore[call-overload]
    if input_size < spec.min_input_size:
        raise ValueError(f"{extractor} needs input_size >= {spec.min_input_size}, got {input_size}")
    reader = FeatureExtractor(spec=spec, layer=spec.default_layer, input_size=int(input_size), device=device,
                              weights_id=weights_identity(spec, weights), module=None, runtime="torch")
    return net, reader


@torch.no_grad()
def trunk_activations(net: StagedNetwork, reader, images: np.ndarray, *, batch_size: int = 256,
                      verbose: bool = False, description: str = "trunk activations", transform=None) -> torch.Tensor:
    """The frozen trunk's output for every image, as float16 on the CPU: computed once, read every epoch.
    ``transform``: applied to each preprocessed batch first (an augmented copy)."""
    net.trunk.eval()
    out = None
    for start in track(range(0, len(images), batch_size), total=-(-len(images) // batch_size),
                       description=description, verbose=verbose):
        x = reader.preprocess(images[start:start + batch_size])
        a = net.trunk(x if transform is None else transform(x)).half().cpu()
        if out is None:
            out = torch.empty((len(images), *a.shape[1:]), dtype=torch.float16)
        out[start:start + len(a)] = a
    assert out is not None, "no images"
    return out


def augmented_activations(net: StagedNetwork, reader, images: np.ndarray, copies: int, transform, *,
                          batch_size: int = 256, verbose: bool = False, description: str = "copy") -> torch.Tensor:
    """The trunk activations of ``copies`` augmented copies of ``images`` (``transform`` draws each copy's
    augmentation per batch), (copies, N, ...) float16, filled copy by copy in place: memory for one set of them,
    not two (as a stack would)."""
    views = None
    for c in range(int(copies)):
        a = trunk_activations(net, reader, images, batch_size=batch_size, verbose=verbose, transform=transform,
                              description=f"{description} {c + 1} of {copies}")
        if views is None:
            views = torch.empty((int(copies), *a.shape), dtype=a.dtype)
        views[c] = a
    assert views is not None, "copies must be 1 or more"
    return views


def batches(n: int, batch_size: int, gen: torch.Generator, *, min_size: int = 2):
    """A random order cut into batches; a last batch smaller than ``min_size`` is dropped (batch norm needs two)."""
    order = torch.randperm(n, generator=gen)
    return [b for b in order.split(int(batch_size)) if len(b) >= min_size]


def stratified_holdout(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of about ``fraction`` of each class's samples (at least one where a class has two or more)."""
    rng = np.random.RandomState(seed)
    held = np.zeros(len(y), bool)
    if fraction <= 0:
        return held
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        n = min(max(1, int(round(fraction * len(rows)))), len(rows) - 1)
        if n > 0:
            held[rng.choice(rows, n, replace=False)] = True
    return held


def train_on_known(net: StagedNetwork, A: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float, momentum: float,
                   weight_decay: float, batch_size: int, gen: torch.Generator, device: str, verbose: bool) -> None:
    """Cross-entropy on the known classes, SGD with a cosine schedule, on the cached trunk activations ``A``."""
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1))

    def cross_entropy(idx):
        return F.cross_entropy(net.classifier(net.top(A[idx].to(device).float())), y[idx].to(device))

    for epoch in track(range(epochs), total=epochs, description="known classes", verbose=verbose):
        net.top.train()
        run_epoch(batches(len(A), batch_size, gen), cross_entropy, [opt], who="DTC (known classes)",
                  where=f"in epoch {epoch + 1}", lr_name="supervised_lr")
        sched.step()
    net.eval()


def forward_cached(module: nn.Module, A: torch.Tensor, device: str, batch_size: int = 512) -> torch.Tensor:
    """``module`` (the trained stages, or the clustering network over them) on cached trunk activations, batch by
    batch, in evaluation mode (:func:`~deepclust._training.embed_batches`), on ``device``."""
    return embed_batches(module, A, batch_size=batch_size, device=device).to(device)


@torch.no_grad()
def accuracy(net: StagedNetwork, A: torch.Tensor, y: torch.Tensor, device: str) -> float:
    if len(A) == 0:
        return float("nan")
    logits = net.classifier(forward_cached(net.top, A, device))
    return float((logits.argmax(1).cpu() == y.cpu()).float().mean())


def copy_top(net: StagedNetwork) -> nn.Module:
    """A trainable copy of the trained stages, for the clustering stage (the supervised network stays as it is)."""
    return copy.deepcopy(net.top).requires_grad_(True)
