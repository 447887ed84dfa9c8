"""Take ``limit`` of ``n`` images without bias: a seeded random subset, stratified by label where labels exist,
so that a data set stored class by class does not shrink to its first classes."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state


def subset_indices(n: int, limit: int, labels=None, random_state=0) -> tuple[np.ndarray, str]:
    """Sorted indices of ``limit`` of ``n`` items and how they were drawn (for run.json).

    With ``labels``, every class keeps its share (scikit-learn's stratified split); a class too small to stratify
    falls back to a plain random draw, said so in the description.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if limit >= n:
        return np.arange(n), f"all {n} images (limit {limit} ≥ their number)"
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    if labels is not None:
        labels = np.asarray(labels)
        try:
            chosen, _ = train_test_split(np.arange(n), train_size=limit, stratify=labels, random_state=seed)
            return np.sort(chosen), f"{limit} of {n} images, random, stratified by label"
        except ValueError as exc:  # a class with one member, or more classes than the limit
            how = f"{limit} of {n} images, random (not stratified: {exc})"
    else:
        how = f"{limit} of {n} images, random"
    chosen = np.random.RandomState(seed).choice(n, limit, replace=False)
    return np.sort(chosen), how
