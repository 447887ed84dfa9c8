"""The main job: images in, features, clusters, scores out. The CLI and the Python API both call
:func:`cluster_images`."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cluster import FeatureClustering
from .datasets import ImageFolder, SkippedFile, load_image, scan_folder
from .features import auto_input_size, create_extractor, extract_features, get_extractor_spec
from .metrics import evaluate_clustering

METHODS = ("kmeans", "agglomerative-ward", "agglomerative-average")


@dataclass
class ClusterRun:
    """The result of :func:`cluster_images`: one row per clustered image, plus what was skipped and how it went.

    ``paths`` are relative to the input folder (for arrays: the image's index as a string).
    ``confidence`` is the margin ``1 - d1/d2`` between the distances to the nearest and the second-nearest centre.
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
    labels_true: np.ndarray | None = None
    extraction: dict = field(default_factory=dict)
    source_info: dict = field(default_factory=dict)
    source: ImageFolder | np.ndarray | None = field(default=None, repr=False)
    indices: np.ndarray | None = field(default=None, repr=False)
    embedding: np.ndarray | None = field(default=None, repr=False)

    def cluster_sizes(self) -> dict[int, int]:
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts)}

    def image(self, row: int, size: int = 96) -> np.ndarray:
        """The uint8 image of result row ``row`` (re-read from disk for folders)."""
        if isinstance(self.source, ImageFolder):
            return load_image(self.source.root / self.paths[row], size)
        return np.asarray(self.source[self.indices[row]])

    def save(self, out: str | os.PathLike, *, overwrite: bool = False, command: list[str] | None = None) -> Path:
        """Write the run folder (see :func:`deepclust.runfolder.write_run`)."""
        from .runfolder import write_run

        return write_run(self, out, overwrite=overwrite, command=command)


def _margin(embedding: np.ndarray, centers: np.ndarray) -> np.ndarray:
    if len(centers) < 2:
        return np.ones(len(embedding))
    d = np.sqrt(((embedding[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
    d.sort(axis=1)
    return 1.0 - d[:, 0] / np.maximum(d[:, 1], 1e-12)


def cluster_images(source, *, n_clusters: int | None = None, method: str = "kmeans",
                   extractor: str = "efficientnet_lite0", layer: str | None = None, weights=None,
                   input_size: int | None = None, batch_size: int = 64, l2_normalize: bool = True,
                   pca_components: int | None = 50, umap_components: int | None = 10, k_max: int = 20,
                   random_state: int = 0, device: str = "auto", cache_dir=None, use_cache: bool = True,
                   num_workers: int | None = None, labels_true=None, verbose: bool = True) -> ClusterRun:
    """Cluster images with pretrained-CNN features and a classical clustering algorithm.

    Parameters
    ----------
    source : a folder path (streamed, recursive) or a uint8 array ``(N, H, W[, C])``.
    n_clusters : number of clusters, or None to choose it by the silhouette (see ``ClusterRun.k_selection``).
    method : ``"kmeans"``, ``"agglomerative-ward"`` or ``"agglomerative-average"``.
    extractor, layer, weights, input_size : the feature extractor (see ``deepclust extractors``); ``input_size``
        None picks it from the images' size, so small images are not blown up to 224 px.
    l2_normalize, pca_components, umap_components : the reduction before clustering.
    labels_true : known classes, used only to score the result (for folders: None, or ``"subfolders"``).

    Examples
    --------
    >>> from deepclust import cluster_images, load_dataset
    >>> X, y = load_dataset("digits")
    >>> run = cluster_images(X[:300], n_clusters=10, labels_true=y[:300], verbose=False)  # doctest: +SKIP
    >>> run.metrics["acc"] > 0.5  # doctest: +SKIP
    True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if isinstance(source, (str, os.PathLike)):
        source = scan_folder(source)
        if len(source) == 0:
            raise ValueError(f"no image files found under {source.root} ({len(source.skipped)} other files skipped)")
        if isinstance(labels_true, str) and labels_true == "subfolders":
            labels_true = source.labels_from_subfolders()
        typical_size = _typical_folder_size(source)
        scan_skipped = list(source.skipped)
    else:
        source = np.asarray(source)
        if source.dtype != np.uint8 or source.ndim not in (3, 4) or len(source) == 0:
            raise ValueError(f"images must be a non-empty uint8 array (N, H, W[, C]); got {source.dtype} "
                             f"{source.shape}")
        typical_size = max(source.shape[1:3])
        scan_skipped = []
    timings["scan"] = time.perf_counter() - t0

    t = time.perf_counter()
    spec = get_extractor_spec(extractor)
    size = int(input_size) if input_size else auto_input_size(spec, typical_size)
    model = create_extractor(extractor, layer, weights, device, size)
    timings["load_model"] = time.perf_counter() - t

    feats = extract_features(source, model, batch_size=batch_size, cache_dir=cache_dir, use_cache=use_cache,
                             num_workers=num_workers, verbose=verbose)
    timings["extract"] = feats.seconds if not feats.from_cache else 0.0
    if len(feats.indices) < 2:
        raise ValueError(f"only {len(feats.indices)} image(s) could be read; need at least 2 to cluster")

    t = time.perf_counter()
    if verbose:
        _say(f"clustering {len(feats.indices)} images ({method}, reduction: "
             f"{'L2 + ' if l2_normalize else ''}PCA {pca_components} + UMAP {umap_components})")
    model_c = FeatureClustering(n_clusters, algorithm=method, l2_normalize=l2_normalize,
                                pca_components=pca_components, umap_components=umap_components, k_max=k_max,
                                random_state=random_state)
    model_c.fit(np.asarray(feats.features, dtype=np.float32))
    timings["cluster"] = time.perf_counter() - t

    t = time.perf_counter()
    y = None if labels_true is None else np.asarray(labels_true)[feats.indices]
    metrics = evaluate_clustering(model_c.labels_, y, model_c.embedding_, random_state=random_state)
    timings["evaluate"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    paths = ([source.paths[i] for i in feats.indices] if isinstance(source, ImageFolder)
             else [str(i) for i in feats.indices])
    params = dict(n_clusters=n_clusters, method=method, extractor=extractor, layer=model.layer,
                  weights=str(weights) if weights else spec.weights_source, input_size=size, batch_size=batch_size,
                  l2_normalize=l2_normalize, pca_components=pca_components, umap_components=umap_components,
                  k_max=k_max, random_state=random_state, device=model.device)
    extraction = dict(images_per_s=feats.images_per_second if not feats.from_cache else None,
                      from_cache=feats.from_cache, cache_file=str(feats.cache_path) if feats.cache_path else None)
    return ClusterRun(paths=paths, labels=model_c.labels_, distances=model_c.distances_,
                      confidence=_margin(model_c.embedding_, model_c.cluster_centers_), n_clusters=model_c.n_clusters_,
                      params=params, timings=timings, metrics=metrics, skipped=scan_skipped + feats.failed,
                      k_selection=model_c.k_selection_.to_dict() if model_c.k_selection_ else None,
                      labels_true=y, extraction=extraction, source=source, indices=feats.indices,
                      embedding=model_c.embedding_)


def _typical_folder_size(folder: ImageFolder, n: int = 32) -> int:
    """Median larger side of the first readable images (headers only), to pick the input size."""
    from PIL import Image

    sizes = []
    for rel in folder.paths[:n]:
        try:
            with Image.open(folder.root / rel) as im:
                sizes.append(max(im.size))
        except Exception:  # unreadable files are reported by the extraction, not here
            continue
    return int(np.median(sizes)) if sizes else 224


def _say(text: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold]deepclust[/bold] {text}")
