"""Augmented copies of the images, for clustering heads that learn from augmentations on frozen features.

SCAN (Van Gansbeke et al., ECCV 2020) asks a sample's augmentations to get the same cluster, and self-labels on
augmented inputs. With a frozen extractor the augmentations cannot be drawn afresh every step, so a few fixed
copies of every image are made (each one a random shift plus a random horizontal flip, the padded-crop recipe
used for CIFAR and Fashion-MNIST; the flip can be turned off for digits and text, where a mirrored image is
another symbol) and their features are cached like the original's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImageAugmentation:
    """Copy number ``copy`` of every image: shifted by up to ``max_shift`` of its side (zero padding) and, when
    ``flip``, flipped left-right with probability ½. Image ``i``'s draw depends only on (``seed``, ``copy``,
    ``i``), so a copy is the same whatever the batch size, and its features can be cached."""

    copy: int
    seed: int = 0
    max_shift: float = 0.1
    flip: bool = True

    @property
    def key(self) -> str:
        """What identifies the copy in a cache key."""
        return f"shift{self.max_shift}-{'flip' if self.flip else 'noflip'}-seed{self.seed}-copy{self.copy}"

    def __call__(self, images: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """The augmented images (B, H, W[, C]) uint8; ``indices`` are the images' positions in the whole source."""
        images = np.asarray(images)
        indices = np.asarray(indices, dtype=np.int64)
        h, w = images.shape[1:3]
        pad = max(1, round(self.max_shift * max(h, w))) if self.max_shift > 0 else 0
        out = np.empty_like(images)
        padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)) + ((0, 0),) * (images.ndim - 3))
        for row, i in enumerate(indices):
            rng = np.random.default_rng([self.seed, self.copy, int(i)])
            dy, dx = rng.integers(-pad, pad + 1, 2)
            image = padded[row, pad + dy:pad + dy + h, pad + dx:pad + dx + w]
            out[row] = image[:, ::-1] if rng.random() < 0.5 and self.flip else image
        return out


def augmented_copies(n_copies: int, seed: int = 0, flip: bool = True) -> list[ImageAugmentation]:
    """The ``n_copies`` augmentations used by the clustering heads (``flip``: mirror half of the images)."""
    if int(n_copies) < 0:
        raise ValueError(f"the number of augmented copies must be >= 0, got {n_copies}")
    return [ImageAugmentation(copy=c, seed=seed, flip=bool(flip)) for c in range(int(n_copies))]
