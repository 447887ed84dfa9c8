"""Random shifts and rotations of training batches: the data augmentation of DEC-DA (Guo et al., ACML 2018), which
makes the autoencoder's embedding, and so the clusters, robust to where and at what angle the object is drawn."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SHIFT = 0.1  # of the image side, as the reference's width_shift_range / height_shift_range
ROTATION = 10.0  # degrees, as the reference's rotation_range


def random_affine(images: torch.Tensor, gen: torch.Generator, *, shift: float = SHIFT,
                  rotation: float = ROTATION) -> torch.Tensor:
    """Each image of ``images`` (N, C, H, W) rotated about its centre by an angle drawn uniformly in
    ±``rotation`` degrees and shifted by up to ±``shift`` of its side, each image on its own. Pixels that come from
    outside repeat the nearest edge pixel (Keras' default fill). ``gen`` is a CPU generator: same seed, same
    batches."""
    n = len(images)
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rotation)
    offset = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2 * shift)  # the grid spans [-1, 1]: a side is 2 units
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, offset[:, 0]], 1), torch.stack([sin, cos, offset[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(images.device, images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


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
