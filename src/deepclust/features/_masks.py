"""From a saliency or class activation map to an object's mask, its box and its crop: the steps that object focus
(``--focus object``, :class:`~deepclust.features.ObjectFocus`) and DTC's visual attention
(:func:`~deepclust.features.attend`) share. GrabCut is seeded here, so a mask depends on its image and map alone,
never on what ran before in the process."""

from __future__ import annotations

import numpy as np

from .._extras import require

#: Fewer object pixels than this (a fraction of the image) and a GrabCut mask is not trusted: the map's is kept.
MIN_OBJECT = 0.02


def threshold_map(smap: np.ndarray, threshold: float, side: int) -> np.ndarray:
    """The largest 8-connected region of the map (upsampled to ``side``, bilinear) at or above ``threshold``;
    the whole image when the map is flat."""
    cv2 = require("cv2")

    up = cv2.resize(np.asarray(smap, np.float32), (side, side), interpolation=cv2.INTER_LINEAR)
    mask = largest_component(up >= threshold)
    return mask if mask.any() else np.ones((side, side), bool)


def cam_mask(cam: np.ndarray, threshold: float) -> np.ndarray:
    """The CAM thresholded; the whole image when the map says nothing (all zero: no positive evidence at the
    layer, or no pixel below the threshold): attention then keeps the image as it is rather than blacking it out."""
    mask = cam >= threshold
    return mask if mask.any() and not mask.all() else np.ones_like(mask)


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of a boolean mask (the mask itself when it is empty)."""
    cv2 = require("cv2")

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def trimap_around_mask(mask: np.ndarray, band: float = 1 / 8) -> np.ndarray:
    """GrabCut's start from a mask: probable object inside it, probable background in a band of ``band`` of the
    side around its box, certain background beyond."""
    cv2 = require("cv2")

    h, w = mask.shape
    width = max(1, int(min(h, w) * band))
    ys, xs = np.nonzero(mask)
    start = np.full(mask.shape, cv2.GC_BGD, np.uint8)
    start[max(0, ys.min() - width):ys.max() + width + 1, max(0, xs.min() - width):xs.max() + width + 1] = \
        cv2.GC_PR_BGD
    start[mask] = cv2.GC_PR_FGD
    return start


def trimap_in_box(mask: np.ndarray, widen: float = 1 / 4, frame: float = 1 / 32) -> np.ndarray:
    """GrabCut's rectangle start from a mask: its bounding box, widened by ``widen`` of the side and kept off a
    frame of ``frame`` of it, is probable object, everything outside it certain background."""
    cv2 = require("cv2")

    h, w = mask.shape
    edge, margin = max(1, int(min(h, w) * frame)), int(min(h, w) * widen)
    ys, xs = np.nonzero(mask)
    start = np.full(mask.shape, cv2.GC_BGD, np.uint8)
    start[max(edge, ys.min() - margin):min(h - edge, ys.max() + margin + 1),
          max(edge, xs.min() - margin):min(w - edge, xs.max() + margin + 1)] = cv2.GC_PR_FGD
    return start


def grabcut(image: np.ndarray, start: np.ndarray, *, iterations: int = 5,
            largest: bool = False) -> np.ndarray | None:
    """GrabCut (OpenCV, Rother et al. 2004) of an RGB uint8 image from the trimap ``start``
    (:func:`trimap_around_mask`, :func:`trimap_in_box`): the object's pixels (its ``largest`` component only), or
    None when GrabCut fails (too few distinct colours for its Gaussian mixtures) or keeps under :data:`MIN_OBJECT`
    of the image."""
    cv2 = require("cv2")

    start = start.copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.setRNGSeed(0)  # its GMM start draws from OpenCV's RNG: each image alike, whatever came before
        cv2.grabCut(np.ascontiguousarray(image[..., ::-1]), start, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return None
    found = (start == cv2.GC_FGD) | (start == cv2.GC_PR_FGD)
    if largest:
        found = largest_component(found)
    return found if found.mean() >= MIN_OBJECT else None


def fill_background(images: np.ndarray, masks: np.ndarray, level: int = 0) -> np.ndarray:
    """``images`` (…, H, W[, C]) kept where ``masks`` (…, H, W) is true, grey ``level`` elsewhere."""
    images, masks = np.asarray(images), np.asarray(masks)
    return np.where(masks.reshape(masks.shape + (1,) * (images.ndim - masks.ndim)), images,
                    np.uint8(level)).astype(np.uint8)


def crop_box(mask: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    """``(top, left, height, width)``: the mask's bounding box widened by ``margin`` of its size on each side, with
    the mask's aspect ratio (a square for a square mask), inside the image (shifted, or shrunk when too large)."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return 0, 0, h, w
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    scale = max((y1 - y0) / h, (x1 - x0) / w) * (1 + 2 * margin)  # the crop's size as a fraction of the image's
    scale = min(max(scale, 8 / min(h, w)), 1.0)
    ch, cw = max(1, round(scale * h)), max(1, round(scale * w))
    top = int(np.clip(round((y0 + y1 - ch) / 2), 0, h - ch))
    left = int(np.clip(round((x0 + x1 - cw) / 2), 0, w - cw))
    return top, left, ch, cw


def crop_resize(image: np.ndarray, box) -> np.ndarray:
    """``image`` (H, W[, C]) uint8 cut to ``box`` ``(top, left, height, width)`` and resized back to (H, W)
    (area averaging when shrinking, bilinear when enlarging)."""
    cv2 = require("cv2")

    top, left, ch, cw = (int(v) for v in box)
    h, w = image.shape[:2]
    if (ch, cw) == (h, w):
        return image.copy()
    part = np.ascontiguousarray(image[top:top + ch, left:left + cw])
    out = cv2.resize(part, (w, h), interpolation=cv2.INTER_AREA if ch > h else cv2.INTER_LINEAR)
    return out.reshape(image.shape)


def resize_mask(mask: np.ndarray, h: int, w: int) -> np.ndarray:
    """A boolean mask at ``h × w`` (nearest neighbour)."""
    cv2 = require("cv2")

    if mask.shape == (h, w):
        return mask
    return cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
