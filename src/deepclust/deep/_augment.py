"""Random shifts and rotations of training batches: the data augmentation of DEC-DA (Guo et al., ACML 2018), which
makes the autoencoder's embedding, and so the clusters, robust to where and at what angle the object is drawn."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SHIFT = 0.1  # of the image side, as the reference's width_shift_range / height_shift_range
ROTATION = 10.0  # degrees, as the reference's rotation_range


def random_affine(images: torch.Tensor, gen: torch.Generator, *, shift: float = SHIFT, rotation: float = ROTATION,
                  flip: bool = False, padding: str = "border") -> torch.Tensor:
    """Each image of ``images`` (N, C, H, W) rotated about its centre by an angle drawn uniformly in
    ±``rotation`` degrees and shifted by up to ±``shift`` of its side, each image on its own; with ``flip`` half of
    them mirrored left–right. Pixels that come from outside repeat the nearest edge pixel (``padding="border"``,
    Keras' default fill) or mirror the image (``"reflection"``). ``gen`` is a CPU generator: same seed, same
    batches."""
    n = len(images)
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rotation)
    offset = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2 * shift)  # the grid spans [-1, 1]: a side is 2 units
    mirror = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos * mirror, -sin, offset[:, 0]], 1),
                         torch.stack([sin * mirror, cos, offset[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(images.device, images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def batch_augmenter(gen: torch.Generator, row_shape: tuple[int, int, int] | None = None):
    """A function that augments one training batch as the network sees it: images (N, C, H, W), or, when
    ``row_shape`` (H, W, C) is given, the flattened rows of such images that the fully connected networks take."""
    if row_shape is None:
        return lambda x: random_affine(x, gen)
    h, w, c = row_shape

    def augment_rows(x: torch.Tensor) -> torch.Tensor:
        images = x.view(-1, h, w, c).permute(0, 3, 1, 2)
        return random_affine(images, gen).permute(0, 2, 3, 1).reshape(x.shape)

    return augment_rows


def random_resized_crop(images: torch.Tensor, gen: torch.Generator, *, scale: tuple[float, float] = (0.5, 1.0),
                        ratio: tuple[float, float] = (3 / 4, 4 / 3), flip: bool = True) -> torch.Tensor:
    """Each image of ``images`` (N, C, H, W) replaced by a random crop resized back to full size, each image on its
    own: the crop covers a share of the area drawn in ``scale`` with an aspect ratio in ``ratio`` (log-uniform),
    at a random place; with ``flip`` half the images are mirrored left–right. DeepCluster's augmentation
    (torchvision's RandomResizedCrop + RandomHorizontalFlip), batched; the smallest area is raised from 8 % to 50 %
    for 28–64-pixel images, where a 8 % crop is a few pixels."""
    n = len(images)
    area = scale[0] + torch.rand(n, generator=gen) * (scale[1] - scale[0])
    log_r = math.log(ratio[0]) + torch.rand(n, generator=gen) * (math.log(ratio[1]) - math.log(ratio[0]))
    aspect = torch.exp(log_r)
    width = torch.sqrt(area * aspect).clamp(max=1.0)  # shares of the side
    height = torch.sqrt(area / aspect).clamp(max=1.0)
    cx = (torch.rand(n, generator=gen) * 2 - 1) * (1 - width)  # the crop stays inside the image
    cy = (torch.rand(n, generator=gen) * 2 - 1) * (1 - height)
    mirror = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    zero = torch.zeros(n)
    theta = torch.stack([torch.stack([width * mirror, zero, cx], 1), torch.stack([zero, height, cy], 1)], 1)
    grid = F.affine_grid(theta.to(images.device, images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
