"""UMAP (McInnes et al. 2018), imported in one place: at import umap says that ParametricUMAP needs TensorFlow, which
deepclust never uses, so that one message is silenced there and nowhere else."""

from __future__ import annotations

import warnings


def make_umap(**params):
    """A new ``umap.UMAP(**params)``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Tensorflow not installed.*")
        from umap import UMAP
    return UMAP(**params)
