"""What a method consumes, prepared from an image source: each registered method names one of these input kinds
(``MethodSpec.inputs``) and the pipeline calls its preparer without knowing which method it runs.

- ``features``: the CNN features of one extractor at one layer (through the feature cache);
- ``views``: several feature matrices of the same images (CNN layers, pixels, HOG), optionally with augmented copies;
- ``pixels``: the images themselves as uint8 (N, S, S[, C]), for methods that train a network on them.

- ``transfer``: the unlabelled images as uint8 pixels, and labelled images of known classes (``known``) passed to
  ``fit`` as ``X_known``/``y_known``, for methods that learn from known classes first (DTC).

A new kind of input is one more preparer in ``INPUTS``. A new setting is one :class:`InputSettings` field with its
:class:`Setting`: ``cluster_images``' signature and docs, :data:`INPUT_SETTINGS`, :data:`RECORDED` and the command
line's option are read from it."""

from __future__ import annotations

import dataclasses
import inspect
import os
import textwrap
import time
import typing
from dataclasses import dataclass, field, fields
from typing import Literal

import numpy as np

from ._device import resolve_device
from ._progress import track
from .datasets import SkippedFile, Source, as_source, check_disjoint, open_known
from .features import (
    FOCUS_MODES,
    HANDCRAFTED_VIEWS,
    RUNTIMES,
    augmented_copies,
    auto_input_size,
    create_extractor,
    create_focus,
    extract_features,
    get_extractor_spec,
    handcrafted_features,
    list_extractors,
)
from .methods import literal_values, type_name

DEFAULT_VIEWS = ("efficientnet_lite0:pool", "efficientnet_lite0:stage4", "pixels")


#: The input kinds (each with a preparer in ``INPUTS``).
KINDS = ("features", "pixels", "views", "transfer")


@dataclass(frozen=True)
class Setting:
    """What one input setting is, declared once beside its :class:`InputSettings` field; the Python signature and
    docs of :func:`~deepclust.cluster_images`, the settings each input kind reads (:data:`INPUT_SETTINGS`), what
    run.json records (:data:`RECORDED`) and the command line's options are all read from it.

    Attributes
    ----------
    help : one line of help, as the command line shows it.
    kinds : the input kinds that read it; empty: how any input is made (batches, device, workers), read by every
        kind. The extraction's own (runtime, cache, Dask) are read by the kinds that extract features.
    recorded : whether it decides the input's values (not only how fast they are made): recorded in run.json so that
        new images can be embedded as the run's were (``deepclust assign``).
    flag : its command-line flag when that is not ``--name-with-dashes`` (``--color`` for ``grayscale``); None: no
        option of its own (``verbose`` is every command's ``--quiet``).
    group : where the command line lists it: ``"features"`` (what the method consumes), ``"runtime"`` or
        ``"input"``.
    values : command-line words for its values, where they are not the values (``--color gray`` is
        ``grayscale=True``).
    min : the smallest number it takes.
    fit_arg : the ``fit`` argument a value of it produces (``augmentations`` → ``augmented``): a method whose
        registry entry does not take that argument refuses the setting.
    cli_type : the command line's type, where the field's type hint is not one (a ``dask`` client is given as
        text).
    doc : what the Python API adds to ``help`` (other kinds of value, defaults that depend on the method).
    """

    help: str
    kinds: tuple[str, ...] = ()
    recorded: bool = False
    flag: str | None = ""
    group: str = "features"
    values: dict | None = None
    min: int | None = None
    fit_arg: str | None = None
    cli_type: object = None
    doc: str = ""

    def flag_of(self, name: str) -> str | None:
        """The command-line flag of the setting called ``name``."""
        return ("--" + name.replace("_", "-")) if self.flag == "" else self.flag


def _setting(default=None, **info):
    return field(default=default, metadata={"setting": Setting(**info)})


_DEEP = ("features", "views")


@dataclass
class InputSettings:
    """How to prepare a method's input. ``None`` means the input kind's default. Each field's :class:`Setting`
    (``setting_info(name)``) says which input kinds read it; the list below is generated from them."""

    extractor: str | None = _setting(
        help="Feature extractor (see `deepclust extractors`; default: EfficientNet-Lite0).", kinds=_DEEP,
        recorded=True)
    layer: str | None = _setting(help="Extractor layer (default from the extractor).", kinds=("features",),
                                 recorded=True)
    weights: str | os.PathLike | None = _setting(
        help="Local weights file for the extractor.", kinds=_DEEP, recorded=True,
        doc="views: it applies to the views of ``extractor``.")
    input_size: int | None = _setting(
        help="Extractor input side in pixels (default from the images' size).", kinds=_DEEP, recorded=True, min=1)
    focus: Literal[FOCUS_MODES] | None = _setting(
        help="Embed the object each image shows, cropped and its background greyed: object (objects on cluttered "
             "backgrounds; adds 0.1-0.25 s per image on CPU) or none (default).", kinds=("features", "pixels"),
        recorded=True,
        doc="See :class:`~deepclust.features.ObjectFocus`.")
    image_size: int | None = _setting(
        help="pixels input and pixels/hog views: resize folder images to this side (28).",
        kinds=("pixels", "views", "transfer"), recorded=True, min=1, doc="transfer: default 64.")
    grayscale: bool | None = _setting(
        help="pixels input of a folder: gray (default) or rgb.", kinds=("pixels", "transfer"), recorded=True,
        flag="--color", values={"gray": True, "rgb": False},
        doc="Python: True (grey) or False (RGB); transfer: default RGB.")
    views: tuple[str, ...] | None = _setting(
        help="views input: EXTRACTOR:LAYER, pixels or hog (repeat; default: see README).", kinds=("views",),
        recorded=True, flag="--view",
        doc="Python: a sequence of names; default DEFAULT_VIEWS, or the method's registry entry's ``input_defaults``.")
    augmentations: int | None = _setting(
        help="views input: augmented copies of every image (default 0).", kinds=("views",), min=0,
        fit_arg="augmented")
    augment_flip: bool | None = _setting(
        help="views input: mirror the augmented copies (--no-flip for digits and text).", kinds=("views",),
        flag="--flip")
    device: str = _setting("auto", help="auto, cpu or cuda.", group="runtime")
    batch_size: int = _setting(64, help="Images per batch when reading and extracting.", group="runtime", min=1)
    num_workers: int | None = _setting(help="Image decoding processes (default: spare cores).", group="runtime",
                                       flag="--workers", min=0)
    runtime: Literal[RUNTIMES] = _setting(
        "auto", help="features and views inputs: how the extractor runs: auto (ONNX Runtime on CPU when the job pays "
                     "for its export: ~700 images at 224 px, ~12,000 at 64 px), torch or onnx.", kinds=_DEEP,
        group="runtime")
    dask: object = _setting(
        help="features and views inputs: extract on a Dask cluster: local:N (N worker processes here) or "
             "tcp://HOST:PORT.",
        kinds=_DEEP, group="runtime", cli_type=str,
        doc="Python: also a ``distributed.Client``; the clustering runs here.")
    cache_dir: str | os.PathLike | None = _setting(
        help="features and views inputs: the feature cache folder (default: see `deepclust cache`).", kinds=_DEEP,
        group="runtime")
    use_cache: bool = _setting(True, help="features and views inputs: reuse and store features in the cache.",
                               kinds=_DEEP, group="runtime", flag="--cache")
    verbose: bool = _setting(True, help="Progress bars.", group="runtime", flag=None,
                             doc="The command line's --quiet turns them off.")
    known: str | os.PathLike | tuple | None = _setting(
        help="Folder of labelled images of the known classes, one subfolder per class.", kinds=("transfer",),
        group="input", flag="--known", doc="Python: also a pair ``(images, labels)``; ``source`` holds the images "
                                            "to cluster.")

    def __post_init__(self):
        if self.views is not None and not isinstance(self.views, tuple):
            self.views = tuple(self.views)

    def recorded(self) -> dict:
        """The settings given that :data:`RECORDED` names, as run.json holds them."""
        return {k: (str(v) if k == "weights" and v is not None else list(v) if k == "views" and v else v)
                for k in RECORDED if (v := getattr(self, k)) is not None}

    @classmethod
    def split(cls, kwargs: dict) -> tuple[InputSettings, dict]:
        """Input settings (by field name) out of ``kwargs``, and what is left (a method's options)."""
        names = set(setting_names())
        return cls(**{k: v for k, v in kwargs.items() if k in names}), {k: v for k, v in kwargs.items()
                                                                        if k not in names}


def setting_default(name: str):
    """The default of setting ``name`` (``None`` for most)."""
    return _DEFAULTS[name]


def is_given(settings: InputSettings, name: str) -> bool:
    """Whether setting ``name`` was given: neither None (the input kind's default) nor its declared default."""
    value = getattr(settings, name)
    return value is not None and value != setting_default(name)


def setting_names() -> tuple[str, ...]:
    """Every input setting, in declaration order."""
    return tuple(f.name for f in fields(InputSettings))


def setting_info(name: str) -> Setting:
    """The declaration of input setting ``name``."""
    return _INFO[name]


_INFO = {f.name: f.metadata["setting"] for f in fields(InputSettings)}
_DEFAULTS = {f.name: f.default for f in fields(InputSettings)}
#: What decides the input's values (not how fast it is made): recorded in run.json so that new images can be
#: embedded as the run's were (``deepclust assign``).
RECORDED = tuple(name for name, info in _INFO.items() if info.recorded)
#: The settings each input kind reads; a setting given for another kind is an error.
INPUT_SETTINGS = {kind: tuple(name for name, info in _INFO.items() if kind in info.kinds) for kind in KINDS}


def settings_doc(indent: str = "    ") -> str:
    """The settings as numpydoc parameters: name, type and default, then the inputs that read it and its help."""
    hints = typing.get_type_hints(InputSettings)
    lines = []
    for f in fields(InputSettings):
        info = _INFO[f.name]
        kinds = ", ".join(info.kinds) + " input" if info.kinds else "every input"
        lines.append(f"{indent}{f.name} : {type_name(hints[f.name])}, default={f.default!r}")
        lines += textwrap.wrap(f"Read by {kinds}. {info.help} {info.doc}".rstrip(), 116 - len(indent),
                               initial_indent=indent + "    ", subsequent_indent=indent + "    ",
                               break_on_hyphens=False)
    return "\n".join(lines)


def takes_settings(func):
    """Decorator: ``func(..., **kwargs)`` takes the input settings in ``kwargs`` (see :meth:`InputSettings.split`);
    its signature shows them, keyword-only, before ``**options``, and its docstring lists them at ``{settings}``."""
    sig = inspect.signature(func)
    hints = typing.get_type_hints(InputSettings)
    settings = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name])
                for f in fields(InputSettings)]
    named = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    rest = inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD)
    func.__signature__ = sig.replace(parameters=named + settings + [rest])
    func.__doc__ = (func.__doc__ or "").replace("{settings}", settings_doc("    ").lstrip())
    return func


InputSettings.__doc__ += "\n\n    Parameters\n    ----------\n" + settings_doc()


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


class InapplicableSettingsError(ValueError):
    """Settings given that the method's input kind does not read; ``str()`` names them as the Python API does,
    :meth:`message` as another interface does (the CLI: ``--color`` for ``grayscale``)."""

    def __init__(self, names: list[str], method: str, kind: str, source: str | None = None):
        self.names, self.method, self.kind, self.source = names, method, kind, source
        super().__init__(self.message())

    def message(self, spelling=None) -> str:
        spell = spelling or (lambda name: name)
        names = ", ".join(spell(n) for n in self.names)
        verb = "does" if len(self.names) == 1 else "do"
        if self.source is not None:
            return (f"{names} {verb} not apply to {self.source}: they are already the {self.kind} method "
                    f"{self.method} reads")
        reads = ", ".join(spell(n) for n in INPUT_SETTINGS[self.kind])
        return f"{names} {verb} not apply to method {self.method} on {self.kind}, which reads {reads}"


def check_settings(kind: str, settings: InputSettings, method: str, fit_args: tuple[str, ...] | None = None) -> None:
    """Refuse settings that the input kind does not read, and (given the ``fit`` arguments the method takes, from
    its registry entry) settings that make a ``fit`` argument the method does not take: either would be prepared,
    or ignored, without a word."""
    if kind not in INPUTS:
        raise ValueError(f"unknown input {kind!r}; inputs: {', '.join(INPUTS)}")
    ignored = [name for kind_, names in INPUT_SETTINGS.items() if kind_ != kind for name in names
               if name not in INPUT_SETTINGS[kind] and is_given(settings, name)]
    if ignored:
        raise InapplicableSettingsError(sorted(set(ignored)), method, kind)
    hints = typing.get_type_hints(InputSettings)
    for name in setting_names():  # a Literal hint is the list of a setting's values
        value, choices = getattr(settings, name), literal_values(hints[name])
        if choices and value is not None and value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    for name, info in _INFO.items():
        if fit_args is not None and info.fit_arg and getattr(settings, name) and info.fit_arg not in fit_args:
            raise ValueError(f"method {method} does not use {info.fit_arg} copies; leave {name} out (they would be "
                             f"made and then dropped)")


def prepare_features(source, settings: InputSettings, typical_size: int) -> PreparedInput:
    """CNN features of one extractor and layer, through the feature cache; of the crops around the images' objects
    with ``focus="object"`` (:class:`~deepclust.features.ObjectFocus`). :class:`~deepclust.datasets.Embeddings`
    are the features already: they are used as given."""
    source = as_source(source)
    if source.vectors is not None:
        return given_embeddings(source)
    extractor = settings.extractor or "efficientnet_lite0"
    t = time.perf_counter()
    spec = get_extractor_spec(extractor)
    size = int(settings.input_size) if settings.input_size else auto_input_size(spec, typical_size)
    model = create_extractor(extractor, settings.layer, settings.weights, settings.device, size, settings.runtime)
    focus = create_focus(settings.focus, model.device)
    timings = {"load_model": time.perf_counter() - t}
    feats = extract_features(source, model, batch_size=settings.batch_size, cache_dir=settings.cache_dir,
                             use_cache=settings.use_cache, num_workers=settings.num_workers, verbose=settings.verbose,
                             dask=settings.dask, augment=focus)
    timings["extract"] = feats.seconds if not feats.from_cache else 0.0
    params = dict(extractor=extractor, layer=model.layer, input_size=size,
                  weights=str(settings.weights) if settings.weights else spec.weights_source, device=model.device,
                  batch_size=settings.batch_size, focus=settings.focus or "none")
    extraction = dict(images_per_s=feats.images_per_second if not feats.from_cache else None,
                      from_cache=feats.from_cache, cache_file=str(feats.cache_path) if feats.cache_path else None,
                      runtime=feats.runtime, on_dask=settings.dask is not None and not feats.from_cache)
    return PreparedInput(np.asarray(feats.features, dtype=np.float32), feats.indices, feats.failed, params,
                         extraction=extraction, timings=timings)


def given_embeddings(source: Source) -> PreparedInput:
    """Vectors given (embeddings) as a method's input, every row kept; run.json records their width."""
    return PreparedInput(source.vectors, np.arange(len(source)), [], dict(embedding_dim=int(source.vectors.shape[1])))


def check_embedding_settings(settings: InputSettings, kind: str, method: str) -> None:
    """Settings that make the input from images (extractor, layer, views …) have nothing to act on when the
    embeddings are given: an error rather than silence. The runtime ones (device, cache …) are harmless."""
    given = [name for name, info in _INFO.items() if info.group != "runtime" and getattr(settings, name) is not None]
    if given:
        raise InapplicableSettingsError(given, method, kind, source="given embeddings")


def prepare_pixels(source, settings: InputSettings, typical_size: int) -> PreparedInput:
    """The images as uint8: arrays as given, folders decoded at ``image_size``, grey unless ``grayscale=False``;
    with ``focus="object"``, each cropped to its object (:class:`~deepclust.features.ObjectFocus`)."""
    grayscale = True if settings.grayscale is None else bool(settings.grayscale)
    t = time.perf_counter()
    X, indices, failed = as_source(source).pixels(settings.image_size or 28, grayscale, settings.batch_size,
                                                  settings.num_workers, settings.verbose)
    timings = {"load_images": time.perf_counter() - t}
    focus = create_focus(settings.focus, resolve_device(settings.device))
    if focus is not None:
        t = time.perf_counter()
        X = np.concatenate([focus(X[a:a + settings.batch_size]) for a in track(
            range(0, len(X), settings.batch_size), total=-(-len(X) // settings.batch_size),
            description=focus.description, verbose=settings.verbose)])
        timings["focus"] = time.perf_counter() - t
    params = dict(image_size=int(X.shape[1]), grayscale=bool(X.ndim == 3 or X.shape[-1] == 1),
                  focus=settings.focus or "none")
    return PreparedInput(X, indices, failed, params, timings=timings)


def prepare_views(source, settings: InputSettings, typical_size: int) -> PreparedInput:
    """One feature matrix per view, and the same views of ``augmentations`` fixed copies (passed to ``fit`` as
    ``augmented``; fixed so that their features are cached once for every seed). :class:`~deepclust.datasets.Embeddings`
    are the one view."""
    source = as_source(source)
    if source.vectors is not None:  # (check_embedding_settings refused augmented copies: no images)
        prepared = given_embeddings(source)
        return dataclasses.replace(prepared, X=[prepared.X], params=dict(prepared.params, views=["embeddings"]))
    views = tuple(settings.views) if settings.views else DEFAULT_VIEWS
    n_copies = int(settings.augmentations or 0)
    flip = True if settings.augment_flip is None else bool(settings.augment_flip)
    timings: dict[str, float] = {}
    X, indices, failed, view_info, grey = extract_view_arrays(source, views, settings, typical_size, timings)
    augmented = []
    for augment in augmented_copies(n_copies, seed=0, flip=flip):
        A, idx, _, _, grey = extract_view_arrays(source, views, settings, typical_size, timings, augment=augment,
                                                 grey=grey)
        if not np.array_equal(idx, indices):  # the same files fail for every copy; guard all the same
            raise RuntimeError("an augmented copy could not read the same images as the original")
        augmented.append(A)
    side = int(grey[0].shape[1]) if grey is not None else settings.image_size or 28  # arrays keep their size
    params = dict(views=list(views), view_details=view_info, image_size=side,
                  augmentations=n_copies, augment_flip=flip)
    return PreparedInput(X, indices, failed, params, fit_kwargs={"augmented": augmented} if augmented else {},
                         timings=timings)


def prepare_transfer(source, settings: InputSettings, typical_size: int) -> PreparedInput:
    """The unlabelled images and the labelled known ones, both as uint8 pixels (RGB unless ``grayscale``; folders
    decoded at ``image_size``, default 64). A folder of known images is labelled by its subfolders. Known and
    unlabelled images that are the same files are refused: the method would be scored on what it was taught."""
    known = settings.known
    if known is None:
        raise ValueError("this method learns from labelled images of known classes: give known=FOLDER (one "
                         "subfolder per class) or known=(images, labels); on the command line: deepclust discover "
                         "--known FOLDER --unknown FOLDER")
    size = int(settings.image_size or 64)
    grayscale = bool(settings.grayscale) if settings.grayscale is not None else False
    t = time.perf_counter()
    source, known = as_source(source), open_known(known)
    check_disjoint(known, source)
    X_known, idx, _ = known.pixels(size, grayscale, settings.batch_size, settings.num_workers, settings.verbose)
    y_known = np.asarray(known.labels)[idx]
    known_info = {"known": known.name}
    n_classes = len(np.unique(y_known))
    if n_classes < 2:
        raise ValueError(f"the known images hold {n_classes} class; a classifier needs at least two to learn from")
    X, indices, failed = source.pixels(size, grayscale, settings.batch_size, settings.num_workers, settings.verbose)
    params = dict(image_size=int(X.shape[1]), grayscale=grayscale, n_known_images=int(len(X_known)),
                  n_known_classes=int(n_classes), known_classes=[str(c) for c in np.unique(y_known)], **known_info)
    return PreparedInput(X, indices, failed, params, fit_kwargs={"X_known": X_known, "y_known": y_known},
                         timings={"load_images": time.perf_counter() - t})


INPUTS = {"features": prepare_features, "pixels": prepare_pixels, "views": prepare_views,
          "transfer": prepare_transfer}
#: What a fitted method predicts from, where that is not what it was fitted on (transfer: the new images alone).
PREDICT_INPUTS = {"transfer": "pixels"}


def extract_view_arrays(source, views, settings: InputSettings, typical_size: int, timings: dict, *, augment=None,
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
        model = create_extractor(name, "+".join(wanted), weights, settings.device, size, settings.runtime)
        feats = extract_features(source, model, batch_size=settings.batch_size, cache_dir=settings.cache_dir,
                                 use_cache=settings.use_cache, num_workers=settings.num_workers, augment=augment,
                                 verbose=settings.verbose, dask=settings.dask)
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
                grey = source.pixels(settings.image_size or 28, True, settings.batch_size, settings.num_workers,
                                     settings.verbose)
            images, idx, fails = grey
            if augment is not None:
                images = augment(images, idx)
            found[view] = (handcrafted_features(view, images, verbose=settings.verbose), idx, fails, {})
            timings[f"view {view}{copy}"] = time.perf_counter() - t
    parts = [found[key] for key in keys]
    common = parts[0][1]
    for _, idx, _, _ in parts[1:]:
        common = np.intersect1d(common, idx)
    arrays = [a[np.searchsorted(idx, common)] for a, idx, _, _ in parts]
    failed = {f.path: f for _, _, fails, _ in parts for f in fails}
    info = [{"view": view, **extra} for view, (_, _, _, extra) in zip(views, parts)]
    return arrays, common, list(failed.values()), info, grey
