"""Views of an image that need no network: its grey pixels and its HOG descriptor.

ImageNet features lose to pixels on digit-like images (BASELINES.md); clustering over several views keeps a
pixel-level view beside the CNN's. HOG (Dalal & Triggs, CVPR 2005) adds shape that survives small shifts
(in a probe on Fashion-MNIST its nearest neighbours shared the class as often as the CNN's).
"""

from __future__ import annotations

import numpy as np

from .._progress import track

HANDCRAFTED_VIEWS = ("pixels", "hog")


def _grey(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0] if images.shape[-1] == 1 else images[..., :3] @ np.array([0.299, 0.587, 0.114])
    return images


def pixel_features(images: np.ndarray) -> np.ndarray:
    """Grey pixels in [0, 1] as one vector per image (N, H*W), float32."""
    return (_grey(images).reshape(len(images), -1) / 255.0).astype(np.float32)


def hog_features(images: np.ndarray, *, orientations: int = 9, cells: int = 7, verbose: bool = False) -> np.ndarray:
    """HOG descriptors (N, D) of grey images, with ``cells`` × ``cells`` cells per image whatever its size and
    2 × 2-cell blocks (scikit-image)."""
    from skimage.feature import hog

    grey = _grey(images)
    if grey.ndim != 3:
        raise ValueError(f"images must be (N, H, W[, C]), got shape {np.shape(images)}")
    ppc = (max(1, grey.shape[1] // cells), max(1, grey.shape[2] // cells))
    out = None
    for i in track(range(len(grey)), description="HOG descriptors", verbose=verbose):
        h = hog(grey[i], orientations=orientations, pixels_per_cell=ppc, cells_per_block=(2, 2))
        if out is None:
            out = np.empty((len(grey), h.size), np.float32)
        out[i] = h
    assert out is not None, "no images"
    return out


def handcrafted_features(name: str, images: np.ndarray, verbose: bool = False) -> np.ndarray:
    """The view ``name`` (one of :data:`HANDCRAFTED_VIEWS`) of uint8 images."""
    if name == "pixels":
        return pixel_features(images)
    if name == "hog":
        return hog_features(images, verbose=verbose)
    raise ValueError(f"unknown view {name!r}; hand-crafted views are {', '.join(HANDCRAFTED_VIEWS)}")
