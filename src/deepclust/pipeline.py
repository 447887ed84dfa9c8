"""The main job: images in, the input the method consumes, a fitted method, scores out. The CLI and the Python API
both call :func:`cluster_images`; it wires the stages and never asks which method it runs."""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

from ._device import resolve_device
from ._outputs import check_writable
from ._progress import say
from ._warnings import first_lines
from .datasets import check_enough_images, holds_vectors, open_source, take_subset
from .features import default_cache_dir
from .inputs import (
    DEFAULT_VIEWS,
    INPUTS,
    InputSettings,
    Runtime,
    check_embedding_settings,
    check_settings,
    extract_view_arrays,
    split_settings,
    takes_runtime,
    takes_settings,
)
from .methods import NO_CLUSTER, RUN_N_CLUSTERS, FittedClustering, get_method
from .metrics import score_clustering
from .run import ClusterRun, RunFolder, keep_numbers

#: Estimator parameters that are not worth recording in run.json (runtime switches).
_UNRECORDED = ("verbose",)


@takes_settings  # the input settings: keyword-only in the signature, listed at {settings} in the docstring
def cluster_images(source, *, method: str = "kmeans", n_clusters: int | None = None, input: str | None = None,
                   random_state: int = 0, labels_true=None, limit: int | None = None,
                   method_options: dict | None = None, like=None, **kwargs) -> ClusterRun:
    """Cluster images with any registered method (``deepclust methods`` lists them).

    Parameters
    ----------
    source : a folder path (streamed, recursive), a uint8 array ``(N, H, W[, C])``, a builtin data set
        (:func:`~deepclust.datasets.open_dataset`: its labels score the run), or vectors made elsewhere
        (:func:`~deepclust.datasets.load_embeddings`), which methods that consume features take as their features.
    method : a registered method (any case): ``"kmeans"`` (default), ``"agglomerative-ward"``,
        ``"agglomerative-average"`` on CNN features; ``"hdbscan"`` (by density on the same features: it finds
        the number of clusters and puts images that fit none in no cluster, label -1); ``"scan"``/``"best"``
        (clustering heads over several views); ``"consensus"`` (a co-association of several views and
        algorithms); ``"dec"``, ``"idec"``, ``"dcn"``, ``"dcec"``, ``"gapdcec"``, ``"deepcluster"``, ``"jule"``
        (networks trained on the images); ``"dtc"`` (novel classes, learning from labelled images of known ones
        first: ``known``).
    n_clusters : number of clusters; None lets a method that can choose k choose it (see ``ClusterRun.k_selection``).
    input : what the method consumes, when it can take several (``"pixels"`` or ``"features"`` for DEC/IDEC/DCN);
        default: the method's first.
    random_state : the seed of the method and of ``limit``'s draw.
    labels_true : known classes, used only to score the result (for folders: None, or ``"subfolders"``: the first
        folder level; ``"subfolders:deepest"`` the image's own folder, ``"subfolders:N"`` the first N levels).
    limit : cluster only this many images, drawn at random with ``random_state`` (stratified by ``labels_true`` when
        given), never the first ones: data sets are often stored class by class.
    method_options : the method's options as a dict; needed for an option whose name is also an input setting
        (DEC's training ``batch_size`` against the extraction's ``batch_size``). The CLI's ``-o`` passes them here.
    like : an earlier run folder (a path or :class:`~deepclust.run.RunFolder`) whose cluster numbers and names the
        clusters that are still there keep (see :func:`~deepclust.run.keep_numbers`; ``params["like"]`` says how).
    {settings}
    **options : the method's own options (``deepclust methods METHOD`` lists them), e.g. ``pretrain_epochs=50`` for
        DEC or ``n_heads=4`` for SCAN; an option the method does not have is an error that lists those it has.
        The names above them, from ``extractor`` on, are the fields of :class:`~deepclust.inputs.InputSettings`
        (what the input the method consumes is) and, from ``device`` on, of :class:`~deepclust.inputs.Runtime`
        (how the work runs), listed here from their declarations; a setting that the method's input does not read
        is an error.

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
    if like is not None and not isinstance(like, RunFolder):
        like = RunFolder.open(like)  # not a run folder: said before the work
    given = holds_vectors(source)
    kind = input or (_embeddings_input(spec) if given else spec.inputs[0])
    if kind not in spec.inputs:
        raise ValueError(f"method {method} consumes {' or '.join(spec.inputs)}, not {kind}")
    if given and kind not in ("features", "views"):
        raise ValueError(f"embeddings are vectors, and method {method} on {kind} needs the images; use {kind} "
                         f"from a folder, or a method that consumes features")
    if n_clusters is not None and not RUN_N_CLUSTERS.holds(n_clusters):
        raise ValueError(f"the number of clusters must be {RUN_N_CLUSTERS}, got {n_clusters!r}")
    settings, runtime, options = split_settings(kwargs)
    options.update(method_options or {})
    if limit is not None and int(limit) < 2:
        raise ValueError(f"the image limit must be at least 2, got {limit}")
    device, verbose = runtime.device, runtime.verbose
    resolve_device(device)
    settings.views = settings.views or (None if given else spec.input_defaults.get("views"))
    if given:
        check_embedding_settings(settings, kind, method)
    if kind == "pixels":  # a method's own defaults for its images (adapt: RGB at the extractor's size)
        settings.image_size = settings.image_size or spec.input_defaults.get("image_size")
        if settings.grayscale is None:
            settings.grayscale = spec.input_defaults.get("grayscale")
    check_settings(kind, settings, method, spec.fit_args, runtime)
    estimator = spec.build(n_clusters, random_state=random_state, device=device, verbose=verbose, **options)

    t0 = time.perf_counter()
    source = open_source(source, labels_true)
    typical_size = source.typical_size  # of the whole input (a folder's first files), as before any subset
    subset: dict = {}
    if limit is not None:
        source, subset = take_subset(source, int(limit), random_state)
    timings = {"scan": time.perf_counter() - t0}
    skipped = list(source.skipped)
    check_enough_images(len(source), n_clusters, skipped, "found")
    if runtime.use_cache and kind in ("features", "views") and not given:
        check_writable(runtime.cache_dir if runtime.cache_dir is not None else default_cache_dir(),
                       hint="choose another cache folder (cache_dir) or turn the cache off (use_cache=False)")
    with runtime.connected():
        prepared = INPUTS[kind](source, settings, runtime, typical_size)
    timings.update(prepared.timings)
    indices = prepared.indices
    check_enough_images(len(indices), n_clusters, prepared.failed, "could be read")
    y = None if source.labels is None else np.asarray(source.labels)[indices]

    t = time.perf_counter()
    if verbose:
        say(f"clustering {len(indices)} images with {method} ({type(estimator).__name__} on {kind})")
    import torch

    threads = torch.get_num_threads()  # labels of a network's training can depend on it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec.fit(estimator, prepared.X, y, **prepared.fit_kwargs)
    fitted = FittedClustering.of(spec, estimator)
    timings["cluster"] = time.perf_counter() - t
    n_fitted, n_used = int(len(fitted.centers)), int(len(np.setdiff1d(fitted.labels, [NO_CLUSTER])))
    notes = first_lines(caught)
    n_out = int(np.sum(fitted.labels == NO_CLUSTER))
    if n_out:  # the share left out of the scores: a method must not look better for leaving its hard images out
        notes.insert(0, f"{n_out} of {len(fitted.labels)} images ({n_out / len(fitted.labels):.1%}) are in no cluster "
                        f"(cluster {NO_CLUSTER}): {method} found them in none of its {n_used} clusters; the scores "
                        f"are of the images in clusters, and 'unclustered' is the share left out")
    if source.images is None:
        notes.append(f"{source.why_no_images()}: the run has no montages or thumbnails")
    if n_used < n_fitted and not any("collapsed" in note for note in notes):  # the DEC family says it itself
        notes.insert(0, f"collapsed: {method} put the images in {n_used} of the {n_fitted} clusters it was fitted "
                        f"with; {n_fitted - n_used} stayed empty")
    for message in notes:  # raised again from here, once each, so that a caller sees them where it called
        warnings.warn(message, RuntimeWarning, stacklevel=2)

    params = dict(n_clusters=n_clusters, method=method, random_state=random_state, input=kind, **prepared.params)
    resolved = {k: prepared.params[k] for k in ("extractor", "layer", "input_size", "focus", "image_size", "grayscale")
                if k in prepared.params}  # the values used, defaults included, to embed new images alike
    params["input_settings"] = dict(settings.recorded(), **resolved, typical_size=int(typical_size))
    params.update({k: str(v) if isinstance(v, os.PathLike) else v for k, v in estimator.get_params().items()
                   if k not in _UNRECORDED},
                  device=prepared.params.get("device", resolve_device(device)),
                  torch_threads=spec.output(estimator, "torch_threads_") or threads)  # JULE, DTC: fewer on busy cores
    # what the method resolved or measured on the way (the DEC family's recipe, DTC's known ACC)
    params.update(spec.output(estimator, "run_details_") or {})
    t = time.perf_counter()
    names = _cluster_names(kind, prepared, settings, fitted.labels)
    if names is not None:
        timings["names"] = time.perf_counter() - t
    t = time.perf_counter()
    scored = score_clustering(fitted.labels, y, fitted.embedding, random_state=random_state)
    metrics = scored.scores
    timings["evaluate"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    names_of = source.paths
    run = ClusterRun(paths=[names_of[i] for i in indices], labels=fitted.labels, distances=fitted.distances,
                     confidence=fitted.confidence,
                     n_clusters=n_used, params=params, timings=timings, metrics=metrics,
                     skipped=skipped + prepared.failed, k_selection=fitted.k_selection, members=fitted.members,
                     labels_true=y, extraction=prepared.extraction,
                     source_info={**source.describe(), **subset}, source=source.images,
                     indices=indices, embedding=fitted.embedding, history=fitted.history, estimator=estimator,
                     n_clusters_fitted=n_fitted, notes=notes, metrics_undefined=scored.undefined,
                     cluster_names=names)
    return keep_numbers(run, like) if like is not None else run


def _cluster_names(kind: str, prepared, settings: InputSettings, labels) -> dict | None:
    """Each cluster's ImageNet names (:func:`~deepclust.features.name_clusters`) when the method consumed the default
    extractor's pooled features, as such or as one of its views; None otherwise (nothing is extracted for them)."""
    from .features import class_probabilities, head_applies, name_clusters

    if kind == "features":  # the weights given are the extractor's
        found = [(prepared.params.get("extractor"), prepared.params.get("layer"), settings.weights, prepared.X)]
    elif kind == "views":  # they are those of the views of the extractor named
        found = [(v.get("extractor"), v.get("layer"), settings.weights if v.get("extractor") == settings.extractor
                  else None, X) for v, X in zip(prepared.params.get("view_details", []), prepared.X)]
    else:
        return None
    for extractor, layer, weights, X in found:
        if head_applies(extractor, layer, weights):
            return name_clusters(class_probabilities(np.asarray(X), extractor), np.asarray(labels))
    return None


def _embeddings_input(spec) -> str:
    """What a method consumes when the embeddings are given: features, or one view for the views methods."""
    for kind in ("features", "views"):
        if kind in spec.inputs:
            return kind
    return spec.inputs[0]  # refused by the caller, with the reason


@takes_runtime
def extract_views(source, views=DEFAULT_VIEWS, *, augment=None, input_size: int | None = None, image_size: int = 28,
                  **runtime):
    """The feature matrices of ``views`` (as ``cluster_images(method="scan")`` builds them, through the same cache)
    for an image array or folder (extractors with their default weights), and the indices of the images every view
    could read: the input of :class:`~deepclust.cluster.SCAN`.

    Parameters
    ----------
    source : a folder path, a uint8 image array or a :class:`~deepclust.datasets.Source`.
    views : the views' names (``EXTRACTOR:LAYER``, ``pixels``, ``hog``).
    augment : the views of this augmented copy instead (see :func:`~deepclust.features.augmented_copies`).
    input_size : the extractors' input side (default from the images' size).
    image_size : the side folder images are decoded at for the ``pixels`` and ``hog`` views.
    {runtime}
    """
    source = open_source(source)
    settings = InputSettings(input_size=input_size, image_size=image_size)
    with Runtime(**runtime).connected() as ready:
        arrays, indices, *_ = extract_view_arrays(source, views, settings, ready, source.typical_size, {},
                                                  augment=augment)
    return arrays, indices
