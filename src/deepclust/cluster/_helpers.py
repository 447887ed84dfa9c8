"""Helpers shared by clustering methods, shallow and deep: rows scaled to unit length, and k-means that never
leaves a cluster empty (DeepCluster's re-clustering; torch is imported only where it runs)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state


def l2_rows(Z: np.ndarray) -> np.ndarray:
    """Every row scaled to unit L2 norm, as float32 (rows of zeros stay zero)."""
    Z = np.asarray(Z, dtype=np.float32)
    return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)


def kmeans_without_empty(Z: np.ndarray, k: int, *, n_iter: int = 20, random_state=0, device: str = "cpu"):
    """Lloyd's k-means (``n_iter`` iterations from ``k`` distinct random rows, as the faiss k-means of the reference)
    that never leaves a cluster empty: as the paper does, an empty cluster takes the centre of a non-empty cluster
    (drawn with probability proportional to its size less one) with a small random perturbation, the donor keeps the
    opposite perturbation, and the donor's points go to the nearer of the two. Returns labels and centres.
    (faiss, which the reference calls, does the same inside; this one runs where faiss is not installed, and on
    CUDA through PyTorch.)"""
    import torch

    rs = check_random_state(random_state)
    X = torch.as_tensor(np.asarray(Z, np.float32), device=device)
    n = len(X)
    if not 1 <= k <= n:
        raise ValueError(f"k-means with k={k} needs between 1 and {n} points' worth of clusters")
    centers = X[torch.as_tensor(rs.choice(n, k, replace=False), device=device)].clone()
    squared = (X * X).sum(1)
    labels = None
    for _ in range(max(1, int(n_iter))):
        labels = _nearest(X, squared, centers)
        labels = split_into_empty(X, labels, centers, rs)
        sums = torch.zeros_like(centers).index_add_(0, labels, X)
        counts = torch.bincount(labels, minlength=k).clamp_min(1)
        centers = sums / counts[:, None].to(X.dtype)
    labels = split_into_empty(X, _nearest(X, squared, centers), centers, rs)
    return labels.cpu().numpy().astype(np.int64), centers.cpu().numpy()


def _nearest(X, squared, centers):
    """The nearest centre of every row of X, with ``squared`` the rows' squared norms (torch tensors)."""
    d = squared[:, None] - 2 * X @ centers.T + (centers * centers).sum(1)[None]
    return d.argmin(1)


def split_into_empty(X, labels, centers, rs, eps: float = 1.0 / 1024):
    """Fill every empty cluster by splitting a non-empty one (see :func:`kmeans_without_empty`); changes
    ``centers`` in place and returns the new labels."""
    import torch

    k = len(centers)
    counts = torch.bincount(labels, minlength=k)
    for empty in torch.nonzero(counts == 0).flatten().tolist():
        sizes = (counts - 1).clamp_min(0).double().cpu().numpy()  # a cluster of one point cannot give any
        donor = int(rs.choice(k, p=sizes / sizes.sum()))
        noise = torch.as_tensor(rs.normal(size=centers.shape[1]), dtype=centers.dtype, device=centers.device)
        noise *= eps * max(float(centers[donor].norm()), 1.0) / max(float(noise.norm()), 1e-12)
        centers[empty] = centers[donor] + noise
        centers[donor] = centers[donor] - noise
        members = torch.nonzero(labels == donor).flatten()
        pair = torch.stack([centers[donor], centers[empty]])
        nearer = ((X[members, None, :] - pair[None]) ** 2).sum(-1).argmin(1)
        if not bool((nearer == 1).any()):  # the donor's points all coincide: one of them goes over
            nearer[0] = 1
        labels[members[nearer == 1]] = empty
        counts = torch.bincount(labels, minlength=k)
    return labels
