"""Pictures of clusters: a grid of each cluster's most typical images (closest to its centre)."""

from __future__ import annotations

import numpy as np


def make_grid(images: list[np.ndarray], *, columns: int = 6, tile: int = 96, pad: int = 2,
              caption: str | None = None) -> np.ndarray:
    """Tile uint8 RGB/grey images into one uint8 RGB picture (``tile`` pixels a side, white padding), with an
    optional caption line above them so that the picture stands on its own."""
    from PIL import Image, ImageDraw

    rows = max(1, -(-len(images) // columns))
    top = 22 if caption else 0
    canvas = np.full((top + rows * (tile + pad) + pad, columns * (tile + pad) + pad, 3), 255, np.uint8)
    for n, img in enumerate(images):
        img = np.asarray(img, np.uint8)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        resample = Image.Resampling.NEAREST if max(img.shape[:2]) < tile // 2 else Image.Resampling.BILINEAR
        im = np.asarray(Image.fromarray(img[:, :, :3]).resize((tile, tile), resample))
        r, c = divmod(n, columns)
        y, x = top + pad + r * (tile + pad), pad + c * (tile + pad)
        canvas[y:y + tile, x:x + tile] = im
    if caption:
        picture = Image.fromarray(canvas)
        ImageDraw.Draw(picture).text((pad + 2, 4), caption, fill=(0, 0, 0))
        canvas = np.asarray(picture)
    return canvas


def typical_members(labels: np.ndarray, distances: np.ndarray, cluster: int, n: int) -> np.ndarray:
    """Positions of the ``n`` members of ``cluster`` closest to its centre."""
    members = np.flatnonzero(labels == cluster)
    return members[np.argsort(distances[members], kind="stable")[:n]]


def atypical_members(labels: np.ndarray, distances: np.ndarray, cluster: int, n: int) -> np.ndarray:
    """Positions of the ``n`` members of ``cluster`` farthest from its centre (its least typical images)."""
    members = np.flatnonzero(labels == cluster)
    return members[np.argsort(-distances[members], kind="stable")[:n]]


def save_png(path, array: np.ndarray) -> None:
    from PIL import Image

    from .._atomic import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")
