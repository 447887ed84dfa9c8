"""What a clustering returns: one row per clustered image, plus what was skipped and how it went."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..cluster import ClusterTree, cluster_tree
from ..datasets import SkippedFile, Source, as_source
from ..methods import NO_CLUSTER
from ._record import RunRecord, SourceRecord
from ._write import write_run


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class ClusterRun:
    """The result of :func:`~deepclust.cluster_images`: one row per clustered image, plus what was skipped and how it
    went.

    ``paths`` are relative to the input folder (for arrays: the image's index as a string). ``confidence`` is the
    largest cluster probability for methods that have them, else the margin ``1 - d1/d2`` between the distances to
    the nearest and the second-nearest centre. ``n_clusters`` is the number of clusters the labels use;
    ``n_clusters_fitted`` the number the method was fitted with (asked for, or chosen); they differ when clusters
    collapsed, which ``notes`` then says, with every warning the fit raised. An image in no cluster (a density
    method's noise) has label -1 (:data:`~deepclust.methods.NO_CLUSTER`), the distance to its nearest centre and
    confidence 0: ``n_clusters`` does not count it, :meth:`cluster_sizes` lists it under -1, :attr:`n_unclustered`
    counts such images and ``notes`` says how many. ``cluster_names``: each cluster's ImageNet words
    (:func:`~deepclust.features.name_clusters`), when the method consumed the default extractor's pooled features.
    :attr:`tree`: the clusters' tree and super-clusters (those in no cluster left out); :attr:`record`: what
    run.json will hold of it.
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
    source: Source | None = field(default=None, repr=False)  # its images, to show (None: none to show)
    indices: np.ndarray | None = field(default=None, repr=False)
    embedding: np.ndarray | None = field(default=None, repr=False)
    history: dict | None = field(default=None, repr=False)
    estimator: object = field(default=None, repr=False)
    n_clusters_fitted: int | None = None
    notes: list[str] = field(default_factory=list)
    metrics_undefined: dict[str, str] = field(default_factory=dict)  # why each score that is NaN has no value
    cluster_names: dict[int, list[dict]] | None = None  # ImageNet words per cluster (features.name_clusters)
    created: str = field(default_factory=_now)

    def __post_init__(self):
        if self.source is not None:  # a run made by hand may give its images as an array or a folder path
            self.source = as_source(self.source)
            if self.indices is None:  # each row is that row of the source
                self.indices = np.arange(len(self.paths))

    def __repr__(self) -> str:
        scores = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in self.metrics.items())
        return (f"ClusterRun(method={self.params.get('method')!r}, n_images={len(self.paths)}, "
                f"n_clusters={self.n_clusters}, skipped={len(self.skipped)}, metrics={{{scores}}})")

    def cluster_sizes(self) -> dict[int, int]:
        """Images per cluster id (-1: those in no cluster, when there are any)."""
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts)}

    @property
    def n_unclustered(self) -> int:
        """How many images are in no cluster (label -1)."""
        return int(np.sum(np.asarray(self.labels) == NO_CLUSTER))

    @property
    def tree(self) -> ClusterTree | None:
        """The clusters' tree and super-clusters (:func:`~deepclust.cluster.cluster_tree`), from the embedding and
        the labels as they are now (None below three clusters or without an embedding)."""
        return cluster_tree(self.embedding, self.labels) if self.embedding is not None else None

    @property
    def record(self) -> RunRecord:
        """What run.json holds of this run; the writer adds what writing makes (figures, map, model, files) and the
        command that wrote it."""
        from ..features import NAMES_ABOUT
        from ..methods import k_options_of
        from ._record import machine, versions

        tree = self.tree
        # the pipeline's description; a ClusterRun made by hand: what its source is
        source = self.source_info if "kind" in self.source_info else {
            **(self.source.describe() if self.source is not None else {}), **self.source_info}
        return RunRecord(
            source=SourceRecord.from_dict(source), parameters=self.params,
            n_images=len(self.paths) + len(self.skipped), n_clustered=len(self.paths), n_clusters=self.n_clusters,
            n_clusters_fitted=self.n_clusters_fitted, cluster_sizes=self.cluster_sizes(), timings=dict(self.timings),
            metrics=self.metrics, metrics_undefined=self.metrics_undefined, extraction=self.extraction,
            k_selection=self.k_selection, k_options=tuple(k_options_of(self.params.get("method"))),
            members=self.members, notes=tuple(self.notes),
            cluster_tree=tree.to_dict() if tree is not None else None,
            names=self.cluster_names, names_about=NAMES_ABOUT if self.cluster_names else None,
            skipped=tuple({"path": s.path, "reason": s.reason} for s in self.skipped),
            created=self.created, versions=versions(), machine=machine())

    def image(self, row: int, size: int = 96) -> np.ndarray:
        """The uint8 image of result row ``row`` (re-read from disk for folders)."""
        if self.source is None:  # a run on embeddings whose images were not found
            raise ValueError("the run has no images")
        assert self.indices is not None, "a run's source comes with indices: each result row's row in it"
        return self.source.image(int(self.indices[row]), size)

    def save(self, out: str | os.PathLike, *, overwrite: bool = False, command: list[str] | None = None,
             map: str | None = "umap", verbose: bool = False, started: float | None = None) -> Path:
        """Write the run folder with its ``report.html`` (see :func:`~deepclust.run.write_run`)."""
        return write_run(self, out, overwrite=overwrite, command=command, map=map, verbose=verbose, started=started)
