"""What a clustering returns: one row per clustered image, plus what was skipped and how it went."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets import ImageFolder, SkippedFile, load_image
from ._write import write_run


@dataclass
class ClusterRun:
    """The result of :func:`~deepclust.cluster_images`: one row per clustered image, plus what was skipped and how it
    went.

    ``paths`` are relative to the input folder (for arrays: the image's index as a string). ``confidence`` is the
    largest cluster probability for methods that have them, else the margin ``1 - d1/d2`` between the distances to
    the nearest and the second-nearest centre. ``n_clusters`` is the number of clusters the labels use;
    ``n_clusters_fitted`` the number the method was fitted with (asked for, or chosen); they differ when clusters
    collapsed, which ``notes`` then says, with every warning the fit raised. ``cluster_names``: each cluster's
    ImageNet words (:func:`~deepclust.features.name_clusters`), when the method consumed the default extractor's
    pooled features.
    """

    paths: list[str]
    labels: np.ndarray
    distances: np.ndarray
    confidence: np.ndarray
    n_clusters: int
    params: dict
    timings: dict[str, float]
    metrics: dict[str, float]
    skipped: list[SkippedFile] = field(default_factory=list)
    k_selection: dict | None = None
    members: list[dict] | None = None  # an ensemble's members, each with its scores when labels were known
    labels_true: np.ndarray | None = None
    extraction: dict = field(default_factory=dict)
    source_info: dict = field(default_factory=dict)
    source: ImageFolder | np.ndarray | None = field(default=None, repr=False)
    indices: np.ndarray | None = field(default=None, repr=False)
    embedding: np.ndarray | None = field(default=None, repr=False)
    history: dict | None = field(default=None, repr=False)
    estimator: object = field(default=None, repr=False)
    n_clusters_fitted: int | None = None
    notes: list[str] = field(default_factory=list)
    metrics_undefined: dict[str, str] = field(default_factory=dict)  # why each score that is NaN has no value
    cluster_names: dict[int, list[dict]] | None = None  # ImageNet words per cluster (features.name_clusters)

    def __repr__(self) -> str:
        scores = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in self.metrics.items())
        return (f"ClusterRun(method={self.params.get('method')!r}, n_images={len(self.paths)}, "
                f"n_clusters={self.n_clusters}, skipped={len(self.skipped)}, metrics={{{scores}}})")

    def cluster_sizes(self) -> dict[int, int]:
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts)}

    def image(self, row: int, size: int = 96) -> np.ndarray:
        """The uint8 image of result row ``row`` (re-read from disk for folders)."""
        if isinstance(self.source, ImageFolder):
            return load_image(self.source.root / self.paths[row], size)
        if self.source is None:  # a run on embeddings whose images were not found
            raise ValueError("the run has no images")
        return np.asarray(self.source[self.indices[row]])

    def save(self, out: str | os.PathLike, *, overwrite: bool = False, command: list[str] | None = None,
             map: str | None = "umap", verbose: bool = False, started: float | None = None) -> Path:
        """Write the run folder with its ``report.html`` (see :func:`~deepclust.run.write_run`)."""
        return write_run(self, out, overwrite=overwrite, command=command, map=map, verbose=verbose, started=started)
