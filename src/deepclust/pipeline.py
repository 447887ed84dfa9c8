"""The main job: images in, features, clusters, scores out. The CLI and the Python API both call
:func:`cluster_images`."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cluster import ALGORITHMS, SCAN, FeatureClustering
from ._device import resolve_device
from ._progress import track
from .datasets import ImageFolder, SkippedFile, iter_folder_batches, load_image, scan_folder
from .features import (HANDCRAFTED_VIEWS, augmented_copies, auto_input_size, create_extractor, extract_features,
                       get_extractor_spec, handcrafted_features, list_extractors)
from .metrics import evaluate_clustering

HEAD_METHODS = ("scan", "best")  # "best": our most accurate method, whatever it is built on (now SCAN)
BEST_AUGMENTATIONS = 0  # augmented copies for "best": 4 helped MNIST-5k a little but cost Fashion-MNIST 70k 2 points
DEFAULT_VIEWS = ("efficientnet_lite0:pool", "efficientnet_lite0:stage4", "pixels")


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
    history: dict | None = field(default=None, repr=False)

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


def _soft_max(embedding: np.ndarray, centers: np.ndarray, alpha: float) -> np.ndarray:
    """Largest Student's t soft assignment of each sample (the deep methods' confidence)."""
    import torch

    from .deep import soft_assignment

    q = soft_assignment(torch.from_numpy(embedding.astype(np.float32)), torch.from_numpy(centers), alpha)
    return q.max(dim=1).values.numpy()


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
                   deep_input: str = "pixels", image_size: int = 28, grayscale: bool = True,
                   deep_params: dict | None = None, views=DEFAULT_VIEWS, head_params: dict | None = None,
                   augmentations: int | None = None, augment_flip: bool = True,
                   random_state: int = 0, device: str = "auto", cache_dir=None,
                   use_cache: bool = True, num_workers: int | None = None, labels_true=None,
                   verbose: bool = True) -> ClusterRun:
    """Cluster images with pretrained-CNN features and a classical algorithm, or with a deep clustering method.

    Parameters
    ----------
    source : a folder path (streamed, recursive) or a uint8 array ``(N, H, W[, C])``.
    n_clusters : number of clusters, or None to choose it by the silhouette (classical methods; see
        ``ClusterRun.k_selection``). Deep methods need it.
    method : ``"kmeans"``, ``"agglomerative-ward"``, ``"agglomerative-average"`` on CNN features, a deep method
        ``"dec"``, ``"idec"``, ``"dcn"``, ``"dcec"``, ``"gapdcec"`` (see :mod:`deepclust.deep`), or ``"scan"``
        (alias ``"best"``): a clustering head over several views (:class:`~deepclust.cluster.SCAN`).
    extractor, layer, weights, input_size : the feature extractor (see ``deepclust extractors``); ``input_size``
        None picks it from the images' size, so small images are not blown up to 224 px.
    l2_normalize, pca_components, umap_components, k_max : the classical reduction and choice of k.
    deep_input : deep methods: ``"pixels"`` (default) or ``"features"`` (DEC/IDEC/DCN on CNN features).
    image_size, grayscale : deep methods on a folder: images are resized to ``image_size`` pixels, grey or RGB.
    deep_params : extra keyword arguments for the deep estimator (``pretrain_epochs``, ``maxiter``, …).
    views : ``scan``: the views joined, each ``"EXTRACTOR:LAYER"`` or a hand-crafted view ``"pixels"``/``"hog"``
        (hand-crafted views of a folder are taken from images resized to ``image_size``, grey).
    head_params : extra keyword arguments for :class:`~deepclust.cluster.SCAN` (``n_heads``, ``epochs``, …).
    augmentations : ``scan``: augmented copies of every image (shift + flip) whose views train the heads and the
        self-labelling; each costs one more extraction. None: ``BEST_AUGMENTATIONS`` for ``"best"``, 0 for ``"scan"``.
    augment_flip : whether the augmented copies are mirrored at random (False for digits and text).
    labels_true : known classes, used only to score the result (for folders: None, or ``"subfolders"``).

    Examples
    --------
    >>> from deepclust import cluster_images, load_dataset
    >>> X, y = load_dataset("digits")
    >>> run = cluster_images(X[:300], n_clusters=10, labels_true=y[:300], verbose=False)  # doctest: +SKIP
    >>> run.metrics["acc"] > 0.5  # doctest: +SKIP
    True
    """
    from .deep import DEEP_METHODS

    methods = ALGORITHMS + tuple(DEEP_METHODS) + HEAD_METHODS
    if method not in methods:
        raise ValueError(f"method must be one of {', '.join(methods)}, got {method!r}")
    deep, head = method in DEEP_METHODS, method in HEAD_METHODS
    if (deep or head) and n_clusters is None:
        raise ValueError(f"{method} needs the number of clusters (--n-clusters)")
    if deep_input not in ("pixels", "features"):
        raise ValueError(f"deep_input must be 'pixels' or 'features', got {deep_input!r}")
    if deep and deep_input == "features" and DEEP_METHODS[method].network == "conv":
        raise ValueError(f"{method} is convolutional and clusters pixels; use deep_input='pixels'")
    if deep and deep_input == "features" and (deep_params or {}).get("augment"):
        raise ValueError("augment shifts and rotates images; it needs deep_input='pixels', not CNN features")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    source, labels_true, typical_size, skipped = _open_source(source, labels_true)
    timings["scan"] = time.perf_counter() - t0
    params = dict(n_clusters=n_clusters, method=method, random_state=random_state)
    extraction: dict = {}

    if head:
        t = time.perf_counter()
        n_copies = (BEST_AUGMENTATIONS if method == "best" else 0) if augmentations is None else int(augmentations)
        view_args = dict(extractor=extractor, weights=weights, input_size=input_size, typical_size=typical_size,
                         image_size=image_size, device=device, batch_size=batch_size, cache_dir=cache_dir,
                         use_cache=use_cache, num_workers=num_workers, timings=timings, verbose=verbose)
        X, indices, failed, view_info, grey = _extract_views(source, views, **view_args)
        augmented = []
        # fixed copies: cached once for every seed
        for augment in augmented_copies(n_copies, seed=0, flip=augment_flip):
            A, idx, _, _, grey = _extract_views(source, views, augment=augment, grey=grey, **view_args)
            if not np.array_equal(idx, indices):  # the same files fail for every copy; guard all the same
                raise RuntimeError("an augmented copy could not read the same images as the original")
            augmented.append(A)
        params.update(views=list(views), view_details=view_info, image_size=image_size, augmentations=n_copies,
                      augment_flip=bool(augment_flip))
    elif deep and deep_input == "pixels":
        t = time.perf_counter()
        X, indices, failed = _pixels(source, image_size, grayscale, batch_size, num_workers, verbose)
        timings["load_images"] = time.perf_counter() - t
        params.update(deep_input="pixels", image_size=int(X.shape[1]), grayscale=bool(X.ndim == 3 or X.shape[-1] == 1))
    else:
        t = time.perf_counter()
        spec = get_extractor_spec(extractor)
        size = int(input_size) if input_size else auto_input_size(spec, typical_size)
        model = create_extractor(extractor, layer, weights, device, size)
        timings["load_model"] = time.perf_counter() - t
        feats = extract_features(source, model, batch_size=batch_size, cache_dir=cache_dir, use_cache=use_cache,
                                 num_workers=num_workers, verbose=verbose)
        timings["extract"] = feats.seconds if not feats.from_cache else 0.0
        X, indices, failed = np.asarray(feats.features, dtype=np.float32), feats.indices, feats.failed
        params.update(extractor=extractor, layer=model.layer, input_size=size,
                      weights=str(weights) if weights else spec.weights_source, device=model.device)
        extraction = dict(images_per_s=feats.images_per_second if not feats.from_cache else None,
                          from_cache=feats.from_cache, cache_file=str(feats.cache_path) if feats.cache_path else None)
    if len(indices) < 2:
        raise ValueError(f"only {len(indices)} image(s) could be read; need at least 2 to cluster")
    y = None if labels_true is None else np.asarray(labels_true)[indices]

    t = time.perf_counter()
    if head:
        estimator = SCAN(int(n_clusters), random_state=random_state, device=device, verbose=verbose,
                         **(head_params or {}))
        if verbose:
            _say(f"clustering {len(indices)} images with SCAN heads over {len(views)} views")
        estimator.fit(X, y, augmented=augmented)
        # the heads' probabilities are the embedding; a cluster's ideal member is its one-hot corner
        embedding, labels = estimator.probabilities_, estimator.labels_
        centers = np.eye(int(n_clusters), dtype=np.float32)
        confidence = embedding.max(1)
        k_selection, history = None, {"clustering": estimator.history_, "pretraining": None,
                                      "head_losses": estimator.head_losses_.tolist(), "head": estimator.head_}
        params.update({k: v for k, v in estimator.get_params().items() if k != "verbose"},
                      device=resolve_device(device))
    elif deep:
        if deep_input == "features":
            params["deep_input"] = "features"
        estimator = DEEP_METHODS[method](int(n_clusters), random_state=random_state, device=device,
                                         verbose=verbose, **(deep_params or {}))
        if verbose:
            _say(f"clustering {len(indices)} images with {type(estimator).__name__}")
        estimator.fit(X, y)
        embedding = estimator.transform(X)  # encode once; the soft assignment follows from it and the centres
        centers = estimator.cluster_centers_
        labels = estimator.labels_
        confidence = _soft_max(embedding, centers, getattr(estimator, "alpha", 1.0))
        k_selection, history = None, {"clustering": estimator.history_, "pretraining": estimator.pretrain_history_}
        params.update({k: v for k, v in estimator.get_params().items() if k not in ("verbose", "autoencoder")},
                      device=resolve_device(device))
    else:
        if verbose:
            _say(f"clustering {len(indices)} images ({method}, reduction: "
                 f"{'L2 + ' if l2_normalize else ''}PCA {pca_components} + UMAP {umap_components})")
        estimator = FeatureClustering(n_clusters, algorithm=method, l2_normalize=l2_normalize,
                                      pca_components=pca_components, umap_components=umap_components, k_max=k_max,
                                      random_state=random_state).fit(X)
        embedding, centers, labels = estimator.embedding_, estimator.cluster_centers_, estimator.labels_
        confidence = _margin(embedding, centers)
        k_selection = estimator.k_selection_.to_dict() if estimator.k_selection_ else None
        history = None
        params.update(l2_normalize=l2_normalize, pca_components=pca_components, umap_components=umap_components,
                      k_max=k_max, batch_size=batch_size)
    timings["cluster"] = time.perf_counter() - t

    t = time.perf_counter()
    metrics = evaluate_clustering(labels, y, embedding, random_state=random_state)
    timings["evaluate"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    paths = ([source.paths[i] for i in indices] if isinstance(source, ImageFolder) else [str(i) for i in indices])
    distances = np.linalg.norm(embedding - centers[labels], axis=1)
    return ClusterRun(paths=paths, labels=labels, distances=distances, confidence=confidence,
                      n_clusters=int(len(centers)), params=params, timings=timings, metrics=metrics,
                      skipped=skipped + failed, k_selection=k_selection, labels_true=y, extraction=extraction,
                      source=source, indices=indices, embedding=embedding, history=history)


def _open_source(source, labels_true):
    """A folder path becomes a scanned :class:`ImageFolder`; an array is checked. Returns the source, the labels,
    a typical image side (to choose the input size) and the files set aside while scanning."""
    if isinstance(source, (str, os.PathLike)):
        source = scan_folder(source)
        if len(source) == 0:
            raise ValueError(f"no image files found under {source.root} ({len(source.skipped)} other files skipped)")
        if isinstance(labels_true, str) and labels_true == "subfolders":
            labels_true = source.labels_from_subfolders()
        return source, labels_true, _typical_folder_size(source), list(source.skipped)
    source = np.asarray(source)
    if source.dtype != np.uint8 or source.ndim not in (3, 4) or len(source) == 0:
        raise ValueError(f"images must be a non-empty uint8 array (N, H, W[, C]); got {source.dtype} {source.shape}")
    return source, labels_true, max(source.shape[1:3]), []


def extract_views(source, views=DEFAULT_VIEWS, *, augment=None, input_size: int | None = None, image_size: int = 28,
                  device: str = "auto", batch_size: int = 64, cache_dir=None, use_cache: bool = True,
                  num_workers: int | None = None, verbose: bool = True):
    """The feature matrices of ``views`` (as ``cluster_images(method="scan")`` builds them, through the same cache)
    for an image array or folder (extractors with their default weights), and the indices of the images every view
    could read: the input of :class:`~deepclust.cluster.SCAN`. ``augment``: the views of an augmented copy."""
    source, _, typical_size, _ = _open_source(source, None)
    arrays, indices, _, _, _ = _extract_views(
        source, views, extractor=None, weights=None, input_size=input_size, typical_size=typical_size,
        image_size=image_size, device=device, batch_size=batch_size, cache_dir=cache_dir, use_cache=use_cache,
        num_workers=num_workers, timings={}, verbose=verbose, augment=augment)
    return arrays, indices


def _extract_views(source, views, *, extractor, weights, input_size, typical_size, image_size, device, batch_size,
                   cache_dir, use_cache, num_workers, timings, verbose, augment=None, grey=None):
    """One feature matrix per view, on the images that every view could read. The CNN views of one extractor are
    extracted together (one forward pass for all their layers where the backbone allows) through the feature cache
    (``weights`` applies to the views of ``extractor``); hand-crafted views are computed from grey images (folders:
    resized to ``image_size``; pass ``grey`` to reuse them). ``augment``: the views of an augmented copy instead."""
    if not views:
        raise ValueError("scan needs at least one view")
    layers: dict[str, list[str]] = {}  # extractor → its views' layers, in the views' order
    keys = []  # each view as "EXTRACTOR:LAYER" (default layer filled in) or a hand-crafted name
    for view in views:  # every name checked before any long extraction starts
        if view in HANDCRAFTED_VIEWS:
            keys.append(view)
            continue
        name, _, layer = view.partition(":")
        if name not in list_extractors():
            raise ValueError(f"unknown view {view!r}: use EXTRACTOR[:LAYER] ({', '.join(list_extractors())}) or one "
                             f"of {', '.join(HANDCRAFTED_VIEWS)}")
        spec = get_extractor_spec(name)
        layer = layer or spec.default_layer
        if layer not in spec.layers:
            raise ValueError(f"{name} has no layer {layer!r}; layers: {', '.join(spec.layers)}")
        if layer not in layers.setdefault(name, []):
            layers[name].append(layer)
        keys.append(f"{name}:{layer}")
    copy = f" (augmented copy {augment.copy + 1})" if augment is not None else ""
    found = {}  # view → (features, indices, failed, info)
    for name, wanted in layers.items():
        t = time.perf_counter()
        spec = get_extractor_spec(name)
        size = int(input_size) if input_size else auto_input_size(spec, typical_size)
        model = create_extractor(name, "+".join(wanted), weights if name == extractor else None, device, size)
        feats = extract_features(source, model, batch_size=batch_size, cache_dir=cache_dir, use_cache=use_cache,
                                 num_workers=num_workers, augment=augment, verbose=verbose)
        features = np.asarray(feats.features, dtype=np.float32)  # read the cache once, then split by layer
        edges = np.cumsum([0] + [spec.layers[layer] for layer in wanted])
        for layer, a, b in zip(wanted, edges[:-1], edges[1:]):
            info = {"extractor": name, "layer": layer, "input_size": size, "from_cache": feats.from_cache}
            found[f"{name}:{layer}"] = (features[:, a:b], feats.indices, feats.failed, info)
        timings[f"views {name}:{model.layer}{copy}"] = time.perf_counter() - t
    for view in keys:
        if view not in found:  # a hand-crafted view
            t = time.perf_counter()
            if grey is None:
                grey = _pixels(source, image_size, True, batch_size, num_workers, verbose)
            images, idx, fails = grey
            if augment is not None:
                images = augment(images, idx)
            found[view] = (handcrafted_features(view, images, verbose=verbose), idx, fails, {})
            timings[f"view {view}{copy}"] = time.perf_counter() - t
    parts = [found[key] for key in keys]
    common = parts[0][1]
    for _, idx, _, _ in parts[1:]:
        common = np.intersect1d(common, idx)
    arrays = [a[np.searchsorted(idx, common)] for a, idx, _, _ in parts]
    failed = {f.path: f for _, _, fails, _ in parts for f in fails}
    info = [{"view": view, **extra} for view, (_, _, _, extra) in zip(views, parts)]
    return arrays, common, list(failed.values()), info, grey


def _pixels(source, image_size: int, grayscale: bool, batch_size: int, num_workers, verbose):
    """The images as one uint8 array (N, S, S, C) for the deep methods: arrays as given, folders decoded at
    ``image_size`` (small: a deep method's input is a few KB per image)."""
    if not isinstance(source, ImageFolder):
        return source, np.arange(len(source)), []
    X = np.zeros((len(source), image_size, image_size, 1 if grayscale else 3), np.uint8)
    ok = np.zeros(len(source), bool)
    failed = []
    for batch in track(iter_folder_batches(source, image_size, batch_size, num_workers), total=len(source),
                       description="loading images", verbose=verbose):
        if len(batch.indices):
            imgs = batch.images
            if grayscale:  # ITU-R 601 luma
                imgs = np.round(imgs @ np.array([0.299, 0.587, 0.114]))[..., None].astype(np.uint8)
            X[batch.indices], ok[batch.indices] = imgs, True
        failed += [SkippedFile(source.paths[i], reason) for i, reason in batch.failed]
    indices = np.flatnonzero(ok)
    return X[indices], indices, failed


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
