"""The main job: images in, the input the method consumes, a fitted method, scores out. The CLI and the Python API
both call :func:`cluster_images`; it wires the stages and never asks which method it runs."""

from __future__ import annotations

import inspect
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._device import resolve_device
from ._outputs import check_writable
from ._progress import say
from ._warnings import first_lines
from .datasets import ImageFolder, SkippedFile, image_size, load_image, scan_folder, subset_indices
from .features import close_dask, connect_dask, default_cache_dir
from .inputs import DEFAULT_VIEWS, INPUTS, InputSettings, check_settings, extract_view_arrays
from .methods import FittedClustering, get_method
from .metrics import score_clustering

#: Estimator parameters that are not worth recording in run.json (runtime switches).
_UNRECORDED = ("verbose",)


@dataclass
class ClusterRun:
    """The result of :func:`cluster_images`: one row per clustered image, plus what was skipped and how it went.

    ``paths`` are relative to the input folder (for arrays: the image's index as a string). ``confidence`` is the
    largest cluster probability for methods that have them, else the margin ``1 - d1/d2`` between the distances to
    the nearest and the second-nearest centre. ``n_clusters`` is the number of clusters the labels use;
    ``n_clusters_fitted`` the number the method was fitted with (asked for, or chosen); they differ when clusters
    collapsed, which ``notes`` then says, with every warning the fit raised.
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
        return np.asarray(self.source[self.indices[row]])

    def save(self, out: str | os.PathLike, *, overwrite: bool = False, command: list[str] | None = None,
             map: str | None = "umap", verbose: bool = False) -> Path:
        """Write the run folder with its ``report.html`` (see :func:`deepclust.runfolder.write_run`)."""
        from .runfolder import write_run

        return write_run(self, out, overwrite=overwrite, command=command, map=map, verbose=verbose)


def cluster_images(source, *, method: str = "kmeans", n_clusters: int | None = None, input: str | None = None,
                   extractor: str | None = None, layer: str | None = None, weights=None,
                   input_size: int | None = None, image_size: int | None = None, grayscale: bool | None = None,
                   views=None, augmentations: int | None = None, augment_flip: bool | None = None,
                   batch_size: int = 64, random_state: int = 0, device: str = "auto", cache_dir=None,
                   use_cache: bool = True, num_workers: int | None = None, labels_true=None, limit: int | None = None,
                   verbose: bool = True, runtime: str = "auto", dask=None, known=None, **options) -> ClusterRun:
    """Cluster images with any registered method (``deepclust methods`` lists them).

    Parameters
    ----------
    source : a folder path (streamed, recursive) or a uint8 array ``(N, H, W[, C])``.
    method : a registered method (any case): ``"kmeans"`` (default), ``"agglomerative-ward"``,
        ``"agglomerative-average"`` on CNN features; ``"scan"``/``"best"`` (clustering heads over several views);
        ``"consensus"`` (a co-association of several views and algorithms); ``"dec"``, ``"idec"``, ``"dcn"``,
        ``"dcec"``, ``"gapdcec"``, ``"deepcluster"``, ``"jule"`` (networks trained on the images); ``"dtc"``
        (novel classes, learning from labelled images of known ones first: ``known``).
    n_clusters : number of clusters; None lets a method that can choose k choose it (see ``ClusterRun.k_selection``).
    input : what the method consumes, when it can take several (``"pixels"`` or ``"features"`` for DEC/IDEC/DCN);
        default: the method's first.
    extractor, layer, weights, input_size : ``features`` and ``views`` inputs: the feature extractor (default
        ``efficientnet_lite0``, see ``deepclust extractors``); ``input_size`` None picks it from the images' size, so
        small images are not blown up to 224 px.
    image_size, grayscale : ``pixels`` input of a folder: images decoded at ``image_size`` (28), grey (True) or RGB;
        ``views`` input: the side of the grey images behind the ``pixels``/``hog`` views.
    views, augmentations, augment_flip : ``views`` input: the views joined (default ``DEFAULT_VIEWS``, or the
        method's own ``default_views``: consensus clusters more), each
        ``"EXTRACTOR:LAYER"`` or a hand-crafted ``"pixels"``/``"hog"``; augmented copies of every image (shift, and
        flip unless ``augment_flip=False``) whose views go to the method too (default 0).
    batch_size, device, cache_dir, use_cache, num_workers : how images are read and features extracted.
    runtime : how the extractor runs: ``"auto"`` (ONNX Runtime on CPU when the job pays for the export at its input
        size, see :func:`~deepclust.features._extractor.onnx_min_images`; else PyTorch),
        ``"torch"`` or ``"onnx"``.
    dask : extract the features on a Dask cluster: a ``distributed.Client``, ``"local:N"`` (N worker processes
        here) or a scheduler address ``"tcp://HOST:PORT"``; the clustering runs here.
    known : ``transfer`` input (``method="dtc"``): labelled images of known classes the method learns from, a
        folder with one subfolder per class or a pair ``(images, labels)``; ``source`` holds the images to cluster.
    labels_true : known classes, used only to score the result (for folders: None, or ``"subfolders"``: the first
        folder level; ``"subfolders:deepest"`` the image's own folder, ``"subfolders:N"`` the first N levels).
    limit : cluster only this many images, drawn at random with ``random_state`` (stratified by ``labels_true`` when
        given), never the first ones: data sets are often stored class by class.
    **options : the method's own options (``deepclust methods METHOD`` lists them), e.g. ``pretrain_epochs=50`` for
        DEC or ``n_heads=4`` for SCAN; an option the method does not have is an error that lists those it has.

    Examples
    --------
    >>> from deepclust import cluster_images, load_dataset
    >>> X, y = load_dataset("digits")
    >>> run = cluster_images(X[:300], n_clusters=10, labels_true=y[:300], verbose=False)  # doctest: +SKIP
    >>> run.metrics["acc"] > 0.5  # doctest: +SKIP
    True
    """
    spec = get_method(method)
    method = spec.name  # as registered: "DEC" is recorded as "dec"
    kind = input or spec.inputs[0]
    if kind not in spec.inputs:
        raise ValueError(f"method {method} consumes {' or '.join(spec.inputs)}, not {kind}")
    if n_clusters is not None and int(n_clusters) < 2:
        raise ValueError(f"the number of clusters must be at least 2, got {n_clusters}")
    if int(batch_size) < 1:
        raise ValueError(f"the batch size must be at least 1, got {batch_size}")
    if limit is not None and int(limit) < 2:
        raise ValueError(f"the image limit must be at least 2, got {limit}")
    resolve_device(device)
    settings = InputSettings(extractor=extractor, layer=layer, weights=weights, input_size=input_size,
                             image_size=image_size, grayscale=grayscale,
                             views=tuple(views) if views else getattr(spec.estimator, "default_views", None),
                             augmentations=augmentations, augment_flip=augment_flip, batch_size=batch_size,
                             device=device, cache_dir=cache_dir, use_cache=use_cache, num_workers=num_workers,
                             verbose=verbose, runtime=runtime, known=known)
    check_settings(kind, settings, method)
    if dask is not None and kind == "pixels":
        raise ValueError(f"--dask extracts features; method {method} on pixels has none to extract")
    estimator = spec.build(n_clusters, random_state=random_state, device=device, verbose=verbose, **options)
    if settings.augmentations and "augmented" not in inspect.signature(estimator.fit).parameters:
        raise ValueError(f"method {method} does not use augmented copies; leave augmentations out (they would be "
                         f"extracted and then dropped)")

    t0 = time.perf_counter()
    source, labels_true, typical_size, skipped = _open_source(source, labels_true)
    source_info = {}
    if limit is not None:
        source, labels_true, source_info = _take_subset(source, labels_true, int(limit), random_state)
    timings = {"scan": time.perf_counter() - t0}
    _check_enough_images(len(source), n_clusters, skipped, "found")
    if use_cache and kind in ("features", "views"):
        check_writable(cache_dir if cache_dir is not None else default_cache_dir(),
                       hint="choose another cache folder (cache_dir) or turn the cache off (use_cache=False)")
    client = connect_dask(dask) if dask is not None else None
    try:
        settings.dask = client
        prepared = INPUTS[kind](source, settings, typical_size)
    finally:
        if client is not None and client is not dask:
            close_dask(client)
    timings.update(prepared.timings)
    indices = prepared.indices
    _check_enough_images(len(indices), n_clusters, prepared.failed, "could be read")
    y = None if labels_true is None else np.asarray(labels_true)[indices]

    t = time.perf_counter()
    if verbose:
        say(f"clustering {len(indices)} images with {method} ({type(estimator).__name__} on {kind})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(prepared.X, y, **prepared.fit_kwargs)
    fitted = FittedClustering.of(spec, estimator)
    timings["cluster"] = time.perf_counter() - t
    n_fitted, n_used = int(len(fitted.centers)), int(len(np.unique(fitted.labels)))
    notes = first_lines(caught)
    if n_used < n_fitted:
        notes.insert(0, f"collapsed: {method} put the images in {n_used} of the {n_fitted} clusters it was fitted "
                        f"with; {n_fitted - n_used} stayed empty")
    for message in notes:  # raised again from here, once each, so that a caller sees them where it called
        warnings.warn(message, RuntimeWarning, stacklevel=2)

    params = dict(n_clusters=n_clusters, method=method, random_state=random_state, input=kind, **prepared.params)
    resolved = {k: prepared.params[k] for k in ("extractor", "layer", "input_size", "image_size", "grayscale")
                if k in prepared.params}  # the values used, defaults included, to embed new images alike
    params["input_settings"] = dict(settings.recorded(), **resolved, typical_size=int(typical_size))
    params.update({k: str(v) if isinstance(v, os.PathLike) else v for k, v in estimator.get_params().items()
                   if k not in _UNRECORDED},
                  device=prepared.params.get("device", resolve_device(device)))
    params.update(getattr(estimator, "run_details_", {}))  # what the method measured on the way (DTC: known ACC)
    t = time.perf_counter()
    scored = score_clustering(fitted.labels, y, fitted.embedding, random_state=random_state)
    metrics = scored.scores
    timings["evaluate"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    if isinstance(source, ImageFolder):
        paths = [source.paths[i] for i in indices]
    else:
        origin = source_info.get("indices", np.arange(len(source)))
        paths = [str(origin[i]) for i in indices]
    distances = np.linalg.norm(fitted.embedding - fitted.centers[fitted.labels], axis=1)
    return ClusterRun(paths=paths, labels=fitted.labels, distances=distances, confidence=fitted.confidence,
                      n_clusters=n_used, params=params, timings=timings, metrics=metrics,
                      skipped=skipped + prepared.failed, k_selection=fitted.k_selection, members=fitted.members,
                      labels_true=y,
                      extraction=prepared.extraction,
                      source_info={k: v for k, v in source_info.items() if k != "indices"}, source=source,
                      indices=indices, embedding=fitted.embedding, history=fitted.history, estimator=estimator,
                      n_clusters_fitted=n_fitted, notes=notes, metrics_undefined=scored.undefined)


def _open_source(source, labels_true):
    """A folder path becomes a scanned :class:`ImageFolder`; an array is checked. Returns the source, the labels,
    a typical image side (to choose the input size) and the files set aside while scanning."""
    if isinstance(source, (str, os.PathLike)):
        source = scan_folder(source)
        if len(source) == 0:
            raise ValueError(f"no image files found under {source.root}{_reasons(source.skipped)}")
        if isinstance(labels_true, str) and labels_true.partition(":")[0] == "subfolders":
            labels_true = source.labels_from_subfolders(labels_true.partition(":")[2] or "first")
            if labels_true is None:
                flat = next(p for p in source.paths if "/" not in p)
                raise ValueError(f"labels from subfolders were asked for, but some images lie directly in "
                                 f"{source.root} (e.g. {flat}): put every image in a class subfolder")
        return source, labels_true, _typical_folder_size(source), list(source.skipped)
    source = np.asarray(source)
    if source.dtype != np.uint8 or source.ndim not in (3, 4) or len(source) == 0:
        raise ValueError(f"images must be a non-empty uint8 array (N, H, W[, C]); got {source.dtype} {source.shape}")
    return source, labels_true, max(source.shape[1:3]), []


def _check_enough_images(n: int, n_clusters: int | None, set_aside: list[SkippedFile], how: str) -> None:
    """Two images at least, and no fewer than the clusters asked for: said before the work that would fail."""
    if n < 2:
        raise ValueError(f"only {n} image(s) {how}; need at least 2 to cluster{_reasons(set_aside)}")
    if n_clusters is not None and int(n_clusters) > n:
        raise ValueError(f"n_clusters is {n_clusters} but only {n} image(s) {how}: ask for at most {n} clusters"
                         f"{_reasons(set_aside)}")


def _reasons(set_aside: list[SkippedFile], shown: int = 3) -> str:
    """`` (N files set aside: a.png: reason; …)``: why files were not used, the first few by name."""
    if not set_aside:
        return ""
    named = "; ".join(f"{s.path}: {s.reason}" for s in set_aside[:shown])
    more = f"; and {len(set_aside) - shown} more" if len(set_aside) > shown else ""
    return f" ({len(set_aside)} file(s) set aside: {named}{more})"


def _take_subset(source, labels_true, limit: int, random_state):
    """``limit`` images of the source (see :func:`~deepclust.datasets.subset_indices`) and what run.json says of
    them; for arrays the original indices are kept, so ``paths`` still name the images of the whole array."""
    chosen, how = subset_indices(len(source), limit, labels_true, random_state)
    info = {"limit": limit, "subset": how, "n_found": len(source)}
    if labels_true is not None:
        labels_true = np.asarray(labels_true)[chosen]
    if isinstance(source, ImageFolder):
        return ImageFolder(source.root, [source.paths[i] for i in chosen], source.skipped), labels_true, info
    return source[chosen], labels_true, {**info, "indices": chosen}


def extract_views(source, views=DEFAULT_VIEWS, *, augment=None, input_size: int | None = None, image_size: int = 28,
                  device: str = "auto", batch_size: int = 64, cache_dir=None, use_cache: bool = True,
                  num_workers: int | None = None, verbose: bool = True):
    """The feature matrices of ``views`` (as ``cluster_images(method="scan")`` builds them, through the same cache)
    for an image array or folder (extractors with their default weights), and the indices of the images every view
    could read: the input of :class:`~deepclust.cluster.SCAN`. ``augment``: the views of an augmented copy."""
    source, _, typical_size, _ = _open_source(source, None)
    settings = InputSettings(input_size=input_size, image_size=image_size, device=device, batch_size=batch_size,
                             cache_dir=cache_dir, use_cache=use_cache, num_workers=num_workers, verbose=verbose)
    arrays, indices, _, _, _ = extract_view_arrays(source, views, settings, typical_size, {}, augment=augment)
    return arrays, indices


def _typical_folder_size(folder: ImageFolder, n: int = 32) -> int:
    """Median larger side of the first readable images (headers only), to pick the input size."""
    sizes = []
    for rel in folder.paths[:n]:
        try:
            sizes.append(max(image_size(folder.root / rel)))
        except Exception:  # unreadable files are reported by the extraction, not here
            continue
    return int(np.median(sizes)) if sizes else 224


