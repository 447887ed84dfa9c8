"""What a method consumes, prepared from a :class:`~deepclust.datasets.Source`: each registered method names one of
these input kinds (``MethodSpec.inputs``) and the pipeline calls its preparer without knowing which method it runs.

- ``features``: the CNN features of one extractor at one layer (through the feature cache);
- ``views``: several feature matrices of the same images (CNN layers, pixels, HOG), optionally with augmented copies;
- ``pixels``: the images themselves as uint8 (N, S, S[, C]), for methods that train a network on them;
- ``transfer``: the unlabelled images as uint8 pixels, and labelled images of known classes (``known``) passed to
  ``fit`` as ``X_known``/``y_known``, for methods that learn from known classes first (DTC).

A new kind of input is one more preparer in ``INPUTS``; each takes the source, the :class:`InputSettings`, the
:class:`Runtime` and a typical image side."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from .._device import resolve_device
from .._progress import track
from ..datasets import SkippedFile, Source, as_source, check_disjoint, open_known
from ..features import (
    HANDCRAFTED_VIEWS,
    augmented_copies,
    auto_input_size,
    create_extractor,
    create_focus,
    extract_features,
    get_extractor_spec,
    handcrafted_features,
    list_extractors,
)
from ._runtime import Runtime
from ._settings import InputSettings


@dataclass
class PreparedInput:
    """A method's input: ``X`` for ``fit`` (and ``fit_kwargs``), the source indices of its rows, the images that could
    not be read, what to record in run.json (``params``, ``extraction``) and the time each step took."""

    X: object
    indices: np.ndarray
    failed: list[SkippedFile]
    params: dict = field(default_factory=dict)
    fit_kwargs: dict = field(default_factory=dict)
    extraction: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)



def prepare_features(source, settings: InputSettings, runtime: Runtime, typical_size: int) -> PreparedInput:
    """CNN features of one extractor and layer, through the feature cache; of the crops around the images' objects
    with ``focus="object"`` (:class:`~deepclust.features.ObjectFocus`). :class:`~deepclust.datasets.Embeddings`
    are the features already: they are used as given."""
    source = as_source(source)
    if source.vectors is not None:
        return given_embeddings(source)
    settings = settings.for_kind("features")
    extractor = settings.extractor
    assert extractor is not None  # for_kind filled in the default
    t = time.perf_counter()
    spec = get_extractor_spec(extractor)
    size = int(settings.input_size) if settings.input_size else auto_input_size(spec, typical_size)
    model = create_extractor(extractor, settings.layer, settings.weights, runtime.device, size, runtime.runtime)
    focus = create_focus(settings.focus, model.device)
    timings = {"load_model": time.perf_counter() - t}
    feats = extract_features(source, model, augment=focus, **runtime.extraction())
    timings["extract"] = feats.seconds if not feats.from_cache else 0.0
    params = dict(extractor=extractor, layer=model.layer, input_size=size,
                  weights=str(settings.weights) if settings.weights else spec.weights_source, device=model.device,
                  batch_size=runtime.batch_size, focus=settings.focus)
    extraction = dict(images_per_s=feats.images_per_second if not feats.from_cache else None,
                      from_cache=feats.from_cache, cache_file=str(feats.cache_path) if feats.cache_path else None,
                      runtime=feats.runtime, on_dask=runtime.client is not None and not feats.from_cache)
    return PreparedInput(np.asarray(feats.features, dtype=np.float32), feats.indices, feats.failed, params,
                         extraction=extraction, timings=timings)


def given_embeddings(source: Source) -> PreparedInput:
    """Vectors given (embeddings) as a method's input, every row kept; run.json records their width."""
    assert source.vectors is not None, "a source of vectors (embeddings)"
    return PreparedInput(source.vectors, np.arange(len(source)), [], dict(embedding_dim=int(source.vectors.shape[1])))


def prepare_pixels(source, settings: InputSettings, runtime: Runtime, typical_size: int) -> PreparedInput:
    """The images as uint8: arrays as given, folders decoded at ``image_size``, grey unless ``grayscale=False``;
    with ``focus="object"``, each cropped to its object (:class:`~deepclust.features.ObjectFocus`)."""
    settings = settings.for_kind("pixels")
    assert settings.image_size is not None  # for_kind filled in the default
    t = time.perf_counter()
    X, indices, failed = as_source(source).pixels(settings.image_size, bool(settings.grayscale), runtime.batch_size,
                                                  runtime.num_workers, runtime.verbose)
    timings = {"load_images": time.perf_counter() - t}
    focus = create_focus(settings.focus, resolve_device(runtime.device))
    if focus is not None:
        t = time.perf_counter()
        step = runtime.batch_size
        X = np.concatenate([focus(X[a:a + step]) for a in track(
            range(0, len(X), step), total=-(-len(X) // step), description=focus.description,
            verbose=runtime.verbose)])
        timings["focus"] = time.perf_counter() - t
    params = dict(image_size=int(X.shape[1]), grayscale=bool(X.ndim == 3 or X.shape[-1] == 1),
                  focus=settings.focus)
    return PreparedInput(X, indices, failed, params, timings=timings)


def prepare_views(source, settings: InputSettings, runtime: Runtime, typical_size: int) -> PreparedInput:
    """One feature matrix per view, and the same views of ``augmentations`` fixed copies (passed to ``fit`` as
    ``augmented``; fixed so that their features are cached once for every seed). :class:`~deepclust.datasets.Embeddings`
    are the one view."""
    source = as_source(source)
    if source.vectors is not None:  # (check_embedding_settings refused augmented copies: no images)
        prepared = given_embeddings(source)
        return dataclasses.replace(prepared, X=[prepared.X], params=dict(prepared.params, views=["embeddings"]))
    settings = settings.for_kind("views")
    assert settings.views is not None and settings.augmentations is not None  # for_kind filled in the defaults
    views, n_copies, flip = tuple(settings.views), int(settings.augmentations), bool(settings.augment_flip)
    timings: dict[str, float] = {}
    X, indices, failed, view_info, grey = extract_view_arrays(source, views, settings, runtime, typical_size, timings)
    augmented = []
    for augment in augmented_copies(n_copies, seed=0, flip=flip):
        A, idx, _, _, grey = extract_view_arrays(source, views, settings, runtime, typical_size, timings,
                                                 augment=augment, grey=grey)
        if not np.array_equal(idx, indices):  # the same files fail for every copy; guard all the same
            raise RuntimeError("an augmented copy could not read the same images as the original")
        augmented.append(A)
    side = int(grey[0].shape[1]) if grey is not None else settings.image_size  # arrays keep their size
    params = dict(views=list(views), view_details=view_info, image_size=side,
                  augmentations=n_copies, augment_flip=flip)
    return PreparedInput(X, indices, failed, params, fit_kwargs={"augmented": augmented} if augmented else {},
                         timings=timings)


def prepare_transfer(source, settings: InputSettings, runtime: Runtime, typical_size: int) -> PreparedInput:
    """The unlabelled images and the labelled known ones, both as uint8 pixels (RGB unless ``grayscale``; folders
    decoded at ``image_size``, default 64). A folder of known images is labelled by its subfolders. Known and
    unlabelled images that are the same files are refused: the method would be scored on what it was taught."""
    known = settings.known
    if known is None:
        raise ValueError("this method learns from labelled images of known classes: give known=FOLDER (one "
                         "subfolder per class) or known=(images, labels); on the command line: deepclust discover "
                         "--known FOLDER --unknown FOLDER")
    settings = settings.for_kind("transfer")
    assert settings.image_size is not None  # for_kind filled in the default
    size, grayscale = int(settings.image_size), bool(settings.grayscale)
    t = time.perf_counter()
    source, known_source = as_source(source), open_known(known)
    check_disjoint(known_source, source)
    X_known, idx, _ = known_source.pixels(size, grayscale, runtime.batch_size, runtime.num_workers, runtime.verbose)
    y_known = np.asarray(known_source.labels)[idx]
    known_info = {"known": known_source.name}
    n_classes = len(np.unique(y_known))
    if n_classes < 2:
        raise ValueError(f"the known images hold {n_classes} class; a classifier needs at least two to learn from")
    X, indices, failed = source.pixels(size, grayscale, runtime.batch_size, runtime.num_workers, runtime.verbose)
    params = dict(image_size=int(X.shape[1]), grayscale=grayscale, n_known_images=int(len(X_known)),
                  n_known_classes=int(n_classes), known_classes=[str(c) for c in np.unique(y_known)], **known_info)
    return PreparedInput(X, indices, failed, params, fit_kwargs={"X_known": X_known, "y_known": y_known},
                         timings={"load_images": time.perf_counter() - t})


INPUTS = {"features": prepare_features, "pixels": prepare_pixels, "views": prepare_views,
          "transfer": prepare_transfer}
#: What a fitted method predicts from, where that is not what it was fitted on (transfer: the new images alone).
PREDICT_INPUTS = {"transfer": "pixels"}


def extract_view_arrays(source, views, settings: InputSettings, runtime: Runtime, typical_size: int, timings: dict, *,
                        augment=None,
                   grey=None):
    """One feature matrix per view, on the images that every view could read. The CNN views of one extractor are
    extracted together (one forward pass for all their layers where the backbone allows) through the feature cache
    (``settings.weights`` applies to the views of ``settings.extractor``); hand-crafted views are computed from grey
    images (folders: resized to ``image_size``; pass ``grey`` to reuse them). ``augment``: the views of an augmented
    copy instead."""
    if not views:
        raise ValueError("the views input needs at least one view")
    source = as_source(source)
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
        size = int(settings.input_size) if settings.input_size else auto_input_size(spec, typical_size)
        weights = settings.weights if name == settings.extractor else None
        model = create_extractor(name, "+".join(wanted), weights, runtime.device, size, runtime.runtime)
        feats = extract_features(source, model, augment=augment, **runtime.extraction())
        features = np.asarray(feats.features, dtype=np.float32)  # read the cache once, then split by layer
        edges = np.cumsum([0] + [spec.layers[layer] for layer in wanted])
        for layer, a, b in zip(wanted, edges[:-1], edges[1:]):
            info = {"extractor": name, "layer": layer, "input_size": size, "from_cache": feats.from_cache,
                    "runtime": feats.runtime}
            found[f"{name}:{layer}"] = (features[:, a:b], feats.indices, feats.failed, info)
        timings[f"views {name}:{model.layer}{copy}"] = time.perf_counter() - t
    for view in keys:
        if view not in found:  # a hand-crafted view
            t = time.perf_counter()
            if grey is None:
                grey = source.pixels(settings.for_kind("views").image_size, True, runtime.batch_size,
                                     runtime.num_workers, runtime.verbose)
            images, idx, fails = grey
            if augment is not None:
                images = augment(images, idx)
            found[view] = (handcrafted_features(view, images, verbose=runtime.verbose), idx, fails, {})
            timings[f"view {view}{copy}"] = time.perf_counter() - t
    parts = [found[key] for key in keys]
    common = parts[0][1]
    for _, idx, _, _ in parts[1:]:
        common = np.intersect1d(common, idx)
    arrays = [a[np.searchsorted(idx, common)] for a, idx, _, _ in parts]
    failed = {f.path: f for _, _, fails, _ in parts for f in fails}
    details = [{"view": view, **extra} for view, (_, _, _, extra) in zip(views, parts)]
    return arrays, common, list(failed.values()), details, grey

