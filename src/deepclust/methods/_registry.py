"""The method registry: every clustering method is an estimator class with one ``@register_method`` line.

The entry says what the pipeline needs to know and nothing else: the method's name, the paper it follows, what it
consumes (CNN features of one extractor, several views, or the images' pixels; see :mod:`deepclust.inputs`), and which
fitted attribute is the space its clusters live in. Its options are the estimator's own ``__init__`` parameters."""

from __future__ import annotations

import difflib
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._options import MethodOption, MethodOptionError, find_option, options_of, summary_of

#: Parameters every method gets from the pipeline, not from the user's method options.
COMMON_PARAMETERS = ("n_clusters", "random_state", "device", "verbose")

#: The label of an image in no cluster: one a density method (``hdbscan``) finds in no dense region, as scikit-learn's
#: ``HDBSCAN`` and ``DBSCAN`` label noise, and the same value a person's review gives images set aside and ``assign``
#: gives new images too far from the run. Counts of clusters leave it out; a run's centres, its tree and its scores
#: are those of the real clusters.
NO_CLUSTER = -1

_METHODS: dict[str, MethodSpec] = {}

#: What a fitted method may offer beyond ``labels_`` and its embedding, and what a run makes of each; a method
#: declares those it sets (``outputs=`` on :func:`register_method`), and the run reads only those.
OUTPUTS = {
    "cluster_centers_": "the centres its distances are measured to (else the corners of its probabilities' simplex)",
    "probabilities_": "soft assignments: each image's confidence is its largest",
    "history_": "the training curves (training.json, figures/training.png)",
    "pretrain_history_": "the pretraining curve, beside them",
    "k_selection_": "how k was chosen (run.json's k_selection, figures/k_selection.png)",
    "members_": "an ensemble's members, with their scores",
    "run_details_": "values resolved or measured at fit time, recorded with the parameters",
    "torch_threads_": "the threads its training used (its labels can depend on them), recorded",
}


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    Attributes
    ----------
    name : the name users give (``--method NAME``).
    estimator : the estimator class; its ``__init__`` declares the options.
    inputs : what the method consumes, the default first (``"features"``, ``"views"``, ``"pixels"``).
    family : a word to group methods in listings (``"classical"``, ``"deep"``, ``"heads"``).
    paper : the publication the method follows.
    fixed : estimator parameters the name fixes (``kmeans`` is ``FeatureClustering(algorithm="kmeans")``).
    aliases : other names of options on the command line (``heads`` for ``n_heads``).
    embedding : the fitted attribute holding the space the clusters live in (distances, confidence, maps).
    chooses_k : whether ``n_clusters=None`` lets the method choose k.
    k_options : the options that only shape that choice (``k_min``, ``k_max``): given with ``n_clusters`` they
        would do nothing, so they are refused.
    input_defaults : the method's own defaults of input settings (``views`` for consensus; ``image_size`` and
        ``grayscale`` for adapt's pixels), used where the user gives none.
    symbols : the paper's symbols of options (``lambda`` for DCN's ``kmeans_weight``), shown beside them and
        accepted as their names.
    outputs : the fitted attributes of :data:`OUTPUTS` the method sets (read through :meth:`output`).
    fit_args : the arguments ``fit`` takes besides ``X`` and ``y``, which its input may bring (``augmented``
        copies of the views for SCAN, ``X_known``/``y_known`` for DTC); the pipeline passes these and no others, and
        refuses settings that would make another (``augmentations`` for a method without ``augmented``).
    """

    name: str
    estimator: type
    inputs: tuple[str, ...]
    family: str
    paper: str
    fixed: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)
    embedding: str = "embedding_"
    chooses_k: bool = False
    fit_args: tuple[str, ...] = ()
    k_options: tuple[str, ...] = ()
    input_defaults: dict = field(default_factory=dict)
    symbols: dict = field(default_factory=dict)
    outputs: tuple[str, ...] = ("cluster_centers_",)

    def output(self, estimator, name: str):
        """The fitted ``estimator``'s output ``name`` (one of :data:`OUTPUTS`) when the method declares it, else
        None."""
        if name not in OUTPUTS:
            raise KeyError(f"{name} is not a method output; they are {', '.join(OUTPUTS)}")
        return getattr(estimator, name, None) if name in self.outputs else None

    def undeclared_outputs(self, estimator) -> list[str]:
        """Outputs the fitted ``estimator`` sets that its registry entry does not declare (a run ignores them)."""
        return [name for name in OUTPUTS if name not in self.outputs and getattr(estimator, name, None) is not None]

    @property
    def summary(self) -> str:
        """The first sentence of the estimator's docstring, as plain text."""
        return summary_of(self.estimator)

    @property
    def options(self) -> tuple[MethodOption, ...]:
        return options_of(self.estimator, skip=COMMON_PARAMETERS + tuple(self.fixed),
                          symbols=tuple(sorted(self.symbols.items())))

    def option(self, name: str) -> MethodOption:
        """The option called ``name`` (or one of its aliases); a clear error listing the options otherwise."""
        name = self.aliases.get(name, name)
        found = find_option(self.options, name)
        if found is not None:
            return found
        names = [o.cli_name for o in self.options] + list(self.aliases)
        raise MethodOptionError(f"method {self.name} has no option {name!r}{_did_you_mean(name, names)}; its "
                                f"options: {', '.join(o.cli_name for o in self.options) or 'none'}")

    def check_options(self, options: dict) -> dict:
        """Options given from Python, each checked against its type hint (aliases resolved)."""
        checked = {}
        for name, value in options.items():
            option = self.option(name)
            checked[option.name] = option.check(value)
        return checked

    def build(self, n_clusters=None, *, random_state=0, device="auto", verbose=False, **options):
        """A new, unfitted estimator with the common parameters it takes and the given options."""
        if n_clusters is None and not self.chooses_k:
            raise ValueError(f"{self.name} needs the number of clusters (n_clusters, -k)")
        takes = self.estimator().get_params()
        if n_clusters is not None and "n_clusters" not in takes:  # never dropped in silence
            raise MethodOptionError(f"{self.name} finds the number of clusters itself and takes none: leave out "
                                    f"n_clusters={n_clusters} (-k)")
        unused = [name for name in options if self.aliases.get(name, name) in self.k_options]
        if n_clusters is not None and unused:
            verb = "shape" if len(unused) > 1 else "shapes"
            raise MethodOptionError(f"{' and '.join(unused)} {verb} only the choice of k, and n_clusters={n_clusters} "
                                    f"fixes k: drop one or the other")
        common = {"n_clusters": n_clusters, "random_state": random_state, "device": device, "verbose": verbose}
        params = {k: v for k, v in common.items() if k in takes}
        estimator = self.estimator(**params, **self.fixed, **self.check_options(options))
        check = getattr(estimator, "_check_params", None)
        if check is not None:  # values the type allows but the method does not (k_max=1): before any long work
            try:
                check()
            except ValueError as exc:
                raise MethodOptionError(f"{self.name}: {exc}") from None
        return estimator

    def fit(self, estimator, X, y=None, **fit_args):
        """``estimator.fit(X, y, **fit_args)``; an argument the entry does not declare is an error, never dropped."""
        undeclared = sorted(set(fit_args) - set(self.fit_args))
        if undeclared:
            raise TypeError(f"method {self.name} takes no {', '.join(undeclared)} in fit (its registry entry "
                            f"declares {', '.join(self.fit_args) or 'none'}): fit_args=... on @register_method")
        return estimator.fit(X, y, **fit_args)


@dataclass
class FittedClustering:
    """What every fitted method gives the pipeline, whatever the method.

    ``embedding`` (N, d) is the space the clusters live in; ``centers``, ``distances`` and ``confidence`` are
    measured there by :func:`measure_placement`.
    """

    labels: np.ndarray
    embedding: np.ndarray
    centers: np.ndarray
    distances: np.ndarray
    confidence: np.ndarray
    history: dict | None = None
    k_selection: dict | None = None
    members: list[dict] | None = None

    @classmethod
    def of(cls, spec: MethodSpec, estimator) -> FittedClustering:
        """What ``estimator`` (fitted) gives through the outputs its method declares; a warning names any it sets
        without declaring them, which are not used."""
        undeclared = spec.undeclared_outputs(estimator)
        if undeclared:
            warnings.warn(f"method {spec.name} sets {', '.join(undeclared)} without declaring them (outputs= on "
                          f"@register_method): the run does not use them", RuntimeWarning, stacklevel=2)
        labels = np.asarray(estimator.labels_, dtype=np.int64)
        embedding = np.asarray(getattr(estimator, spec.embedding))
        centers, distances, confidence = measure_placement(
            embedding, labels, spec.output(estimator, "cluster_centers_"), spec.output(estimator, "probabilities_"))
        history = None
        if spec.output(estimator, "history_") is not None:
            history = {"clustering": estimator.history_, "pretraining": spec.output(estimator, "pretrain_history_")}
        selection = spec.output(estimator, "k_selection_")
        return cls(labels, embedding, centers, distances, confidence, history,
                   selection.to_dict() if selection is not None else None, spec.output(estimator, "members_"))


def measure_placement(embedding, labels, centers=None, probabilities=None):
    """``(centers, distances, confidence)`` of samples placed at ``embedding`` in clusters ``labels``, as every run
    measures them, its own images and new ones alike: the centres (the corners of the simplex for a method whose
    embedding is cluster probabilities and has none), each sample's distance to its cluster's centre, and its
    confidence: the largest cluster probability where the method has them, else :func:`margin`. A sample in no
    cluster (:data:`NO_CLUSTER`) is at the distance of its nearest centre, with confidence 0.

    >>> centers, distances, confidence = measure_placement(np.array([[0.0], [3.0]]), np.array([0, -1]),
    ...                                                    np.array([[0.0], [1.0]]))
    >>> distances.tolist(), confidence.tolist()
    ([0.0, 2.0], [1.0, 0.0])
    """
    embedding, labels = np.asarray(embedding), np.asarray(labels)
    centers = np.eye(embedding.shape[1], dtype=np.float32) if centers is None else np.asarray(centers)
    placed = labels != NO_CLUSTER
    distances = np.empty(len(embedding), dtype=np.float64)
    distances[placed] = np.linalg.norm(embedding[placed] - centers[labels[placed]], axis=1)
    if not placed.all():
        distances[~placed] = nearest_distance(embedding[~placed], centers) if len(centers) else np.inf
    confidence = np.asarray(probabilities).max(1) if probabilities is not None else margin(embedding, centers)
    confidence = np.where(placed, confidence, 0.0)
    return centers, distances, confidence


def nearest_distance(embedding: np.ndarray, centers: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Each row's distance to its nearest centre (rows taken ``chunk`` at a time: no N × k × d array)."""
    out = np.empty(len(embedding), dtype=np.float64)
    for a in range(0, len(embedding), chunk):
        d = ((embedding[a:a + chunk, None, :] - centers[None, :, :]) ** 2).sum(-1)
        out[a:a + chunk] = np.sqrt(d.min(1))
    return out


def margin(embedding: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """``1 - d1/d2`` per sample, with d1, d2 the distances to its nearest and second-nearest centre."""
    if len(centers) < 2:
        return np.ones(len(embedding))
    d = np.sqrt(((embedding[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
    d.sort(axis=1)
    return 1.0 - d[:, 0] / np.maximum(d[:, 1], 1e-12)


def register_method(name: str, *, inputs: tuple[str, ...], family: str, paper: str, fixed: dict | None = None,
                    aliases: dict | None = None, embedding: str = "embedding_", chooses_k: bool = False,
                    fit_args: tuple[str, ...] | None = None, k_options: tuple[str, ...] = (),
                    input_defaults: dict | None = None, symbols: dict | None = None,
                    outputs: tuple[str, ...] = ("cluster_centers_",)):
    """Class decorator: register the estimator as method ``name`` (stack it to register one class under several
    names with different ``fixed`` parameters). A name registered twice is an error, also when the two differ
    only in case or in ``_`` against ``-`` (:func:`get_method` could not tell them apart). ``fit_args``: the
    arguments ``fit`` takes besides ``X`` and ``y`` (see :class:`MethodSpec`); omitted, the named parameters of
    ``fit`` after them; given, each must be one of those. ``k_options``, ``input_defaults``, ``symbols``,
    ``outputs``: see :class:`MethodSpec`."""

    def decorate(cls):
        taken = next((spec for spec in _METHODS.values() if _method_key(spec.name) == _method_key(name)), None)
        if taken is not None:
            raise ValueError(f"a method named {taken.name!r} is already registered ({taken.estimator.__name__})")
        takes = _fit_parameters(cls)
        declared = takes if fit_args is None else tuple(fit_args)
        missing = [arg for arg in declared if arg not in takes]
        if missing:
            raise ValueError(f"method {name}: {cls.__name__}.fit takes no {', '.join(missing)} (fit_args)")
        unknown = [o for o in outputs if o not in OUTPUTS]
        if unknown:
            raise ValueError(f"method {name}: {', '.join(unknown)} is no method output ({', '.join(OUTPUTS)})")
        _METHODS[name] = MethodSpec(name, cls, tuple(inputs), family, paper, dict(fixed or {}), dict(aliases or {}),
                                    embedding, chooses_k, declared, tuple(k_options), dict(input_defaults or {}),
                                    dict(symbols or {}), tuple(outputs))
        return cls

    return decorate


def _fit_parameters(cls) -> tuple[str, ...]:
    """The named parameters of ``cls.fit`` after ``X`` and ``y``."""
    fit = getattr(cls, "fit", None)
    if fit is None:
        return ()
    params = list(inspect.signature(fit).parameters.values())[1:]  # less self
    named = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return tuple(n for n in named if n not in ("X", "y"))


def unregister_method(name: str) -> None:
    """Remove a method (for tests and plug-ins that replace one)."""
    _METHODS.pop(name, None)


#: Functions that import modules whose methods register themselves, run before the first lookup: the builtin
#: methods' loader is added by the package above (``deepclust/__init__.py``), so that the registry imports nothing
#: of what it lists.
_LOADERS: list[Callable[[], None]] = []


def add_method_loader(load: Callable[[], None]) -> None:
    """Run ``load`` (which imports modules that call :func:`register_method`) before the registry is first read."""
    _LOADERS.append(load)


def _load_builtin_methods() -> None:
    while _LOADERS:
        load = _LOADERS.pop(0)  # taken first: a lookup made while it imports does not run it again
        try:
            load()
        except BaseException:
            _LOADERS.insert(0, load)  # tried again at the next lookup, with its error then
            raise


def k_options_of(method: str | None) -> tuple[str, ...]:
    """The options of ``method`` that only shape the choice of k (:attr:`MethodSpec.k_options`); none for a method
    this process does not know (a plugin's, not loaded here)."""
    try:
        return get_method(method or "").k_options
    except ValueError:
        return ()


def list_methods() -> list[str]:
    """Names of the registered methods, in registration order."""
    _load_builtin_methods()
    return list(_METHODS)


def get_method(name: str) -> MethodSpec:
    """The registered method ``name``, in any case and with ``_`` or ``-`` alike (``DEC``, ``agglomerative_ward``);
    an unknown name is an error that suggests the closest method and lists them all."""
    _load_builtin_methods()
    if name in _METHODS:
        return _METHODS[name]
    by_key = {_method_key(registered): spec for registered, spec in _METHODS.items()}
    spec = by_key.get(_method_key(name))
    if spec is None:
        close = difflib.get_close_matches(_method_key(name), list(by_key), n=1, cutoff=0.6)
        hint = f" (did you mean {by_key[close[0]].name!r}?)" if close else ""
        raise ValueError(f"unknown method {name!r}{hint}; methods: {', '.join(_METHODS)} (see `deepclust methods`)")
    return spec


def _method_key(name: str) -> str:
    """How names compare: the README writes ``DEC``, the registry ``dec``; ``_`` and ``-`` are one."""
    return str(name).strip().lower().replace("_", "-")


def _did_you_mean(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
