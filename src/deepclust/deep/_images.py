"""The image input of the methods that train a convnet on pixels (DeepCluster, JULE, DTC): one check, one layout."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array

from ..datasets import check_uint8_images


def check_images(estimator, X, *, fit: bool, min_side: int = 1, purpose: str, uint8: bool = False) -> np.ndarray:
    """``X`` (N, H, W[, C]) checked. By default as float32 (N, H, W, C), uint8 scaled to [0, 1]; with ``fit`` the
    shape is recorded in ``estimator.input_shape_``, afterwards other shapes are refused. With ``uint8`` the images
    must be uint8 and come back as they are (DTC resizes and normalises them as its pretrained network expects), and
    no shape is recorded. ``purpose`` starts the error messages ("JULE trains a CNN", "the novel images")."""
    if uint8:
        return check_uint8_images(X, purpose)
    X = check_array(X, dtype="numeric", allow_nd=True, ensure_min_samples=2 if fit else 1)
    if X.ndim not in (3, 4):
        raise ValueError(f"{purpose} on images (N, H, W[, C]); got an array of shape {X.shape}")
    Xf = X.astype(np.float32) / 255.0 if X.dtype == np.uint8 else X.astype(np.float32)
    if Xf.ndim == 3:
        Xf = Xf[..., None]
    if min(Xf.shape[1:3]) < min_side:
        raise ValueError(f"{purpose.split()[0]}'s network needs images of at least {min_side}×{min_side} pixels, "
                         f"got {Xf.shape[1:3]}; resize them (image_size)")
    if fit:
        estimator.input_shape_ = tuple(int(d) for d in Xf.shape[1:])
    elif tuple(Xf.shape[1:]) != estimator.input_shape_:
        raise ValueError(f"images of shape {Xf.shape[1:]} given, {estimator.input_shape_} fitted")
    return Xf
