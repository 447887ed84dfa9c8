"""UMAP (McInnes et al. 2018), imported quietly, and made faster for large n.

At import umap warns that ParametricUMAP needs TensorFlow, which deepclust never uses. Every path that may import
umap goes through :func:`quiet_umap_import`, which silences that one message for the duration of the import: building
a UMAP (:func:`make_umap`), loading a pickled model that holds one (``joblib.load`` of ``model.joblib``), reading
umap's version. Nothing is filtered globally.

Faster for large n:

- the k-nearest-neighbour graph comes from faiss (exact search; 7 s for 70,000 × 50 on 2 cores against 20–35 s for
  UMAP's own NN-descent, whose recall there is 0.995), and faiss answers ``transform``'s queries too;
- from :data:`FEW_EPOCHS_FROM` images on, the layout runs 100 epochs instead of UMAP's 200 (measured on the 70,000
  Fashion-MNIST features: 24 s instead of 55 s, k-means ACC 0.743 / NMI 0.683 against 0.744 / 0.684);
- umap's and pynndescent's numba kernels are cached on disk (numba's own cache, as ``@njit(cache=True)`` would):
  they compiled again in every process, 6 of the 8 s that placing 11 new images took in ``deepclust assign`` (0.3 s
  from the cache; timed once by hand), and seconds of every run's UMAP;
- a fitted UMAP is pickled with faiss's exact search in place of UMAP's own NN-descent index: pickling that index
  prepares its search graph and compiles it with numba: 76 s of the 85 s that writing a 5,000-image run took
  (profiled once by hand, cProfile on ``write_run``), and loading it compiled again in every ``assign``. The fit is
  unchanged; new points are placed with exact neighbours.
"""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

#: From this many samples the neighbours come from faiss (below it UMAP's own search is quick, and UMAP computes
#: all pairs itself under 4,096).
FAISS_KNN_FROM = 10_000
FEW_EPOCHS_FROM = 10_000
FEW_EPOCHS = 100


#: The notice umap's ``__init__`` gives through ``warnings.warn(..., ImportWarning)`` when TensorFlow is missing.
TENSORFLOW_NOTICE = r"Tensorflow not installed; ParametricUMAP will be unavailable"


@contextmanager
def quiet_umap_import() -> Iterator[None]:
    """Within the block, umap's import says nothing about ParametricUMAP and TensorFlow; any other warning passes.

    Wrap whatever may import umap first: ``with quiet_umap_import(): estimator = joblib.load(path)`` (unpickling a
    UMAP imports umap). Python ignores ``ImportWarning`` by default, but deepclust's CLI records every warning
    (``simplefilter("always")``) to print it, which would show this notice to the user.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=TENSORFLOW_NOTICE, category=ImportWarning)
        yield
    if "umap" in sys.modules:
        _cache_numba_kernels()


#: Kernels numba cannot cache (they hold dynamic globals): asked to, it warns at every compilation.
UNCACHEABLE_KERNELS = frozenset({"nn_descent", "nn_descent_internal"})
#: The modules whose numba kernels are cached (umap's, and pynndescent's nearest-neighbour search).
KERNEL_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.sparse", "umap.distances", "umap.spectral",
                  "pynndescent.pynndescent_", "pynndescent.utils", "pynndescent.distances", "pynndescent.rp_trees",
                  "pynndescent.sparse")


def _cache_numba_kernels() -> None:
    """Turn numba's on-disk cache on for the compiled functions of :data:`KERNEL_MODULES` that have none, once per
    process. numba keys each entry on the function's source file and the CPU, and writes it beside the module (or
    under ``NUMBA_CACHE_DIR``); a kernel it cannot cache (a closure) simply stays uncached. numba does not see a
    change in a function that a cached kernel calls from another file: after upgrading pynndescent alone, clear
    umap's ``__pycache__/*.nbi`` and ``*.nbc`` (reinstalling umap does)."""
    global _kernels_cached
    if _kernels_cached:
        return
    _kernels_cached = True
    try:
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher
    except ImportError:  # another numba: compiled each time, as before
        return
    for name in KERNEL_MODULES:
        module = sys.modules.get(name)
        for kernel_name, kernel in list(vars(module).items()) if module is not None else []:
            if (isinstance(kernel, CPUDispatcher) and isinstance(getattr(kernel, "_cache", None), NullCache)
                    and kernel_name not in UNCACHEABLE_KERNELS):
                try:
                    kernel.enable_caching()
                except Exception:  # noqa: BLE001 (numba refuses some kernels; they compile as before)
                    pass


_kernels_cached = False


def make_umap(**params):
    """A new ``umap.UMAP(**params)``."""
    with quiet_umap_import():
        from umap import UMAP
    return UMAP(**params)


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class FaissNeighbours:
    """Exact Euclidean nearest neighbours of the training points with faiss, behind the ``query`` interface that
    ``umap.UMAP.transform`` asks of its search index. Pickles as its data (faiss indexes do not pickle)."""

    _angular_trees = False  # read by UMAP.transform

    def __init__(self, data: np.ndarray):
        self.data = np.ascontiguousarray(data, dtype=np.float32)
        self._build()

    def _build(self):
        faiss = _faiss()
        if faiss is None:  # a model saved where faiss was installed, loaded where it is not: exact search by sklearn
            from sklearn.neighbors import NearestNeighbors

            self.index = NearestNeighbors(algorithm="brute").fit(self.data)
            return
        self.index = faiss.IndexFlatL2(self.data.shape[1])
        self.index.add(self.data)

    def query(self, X, k: int, epsilon=None):
        """``(indices, distances)`` of the ``k`` training points nearest to each row of ``X``."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not hasattr(self.index, "search"):
            distances, indices = self.index.kneighbors(X, int(k))
            return indices.astype(np.int32), distances.astype(np.float32)
        squared, indices = self.index.search(X, int(k))
        return indices.astype(np.int32), np.sqrt(np.maximum(squared, 0)).astype(np.float32)

    def __getstate__(self):
        return {"data": self.data}

    def __setstate__(self, state):
        self.data = state["data"]
        self._build()


class UMAPReducer(TransformerMixin, BaseEstimator):
    """UMAP with faiss neighbours and fewer epochs for large n (see the module's docstring); the same parameters
    as ``umap.UMAP`` for those it has. ``n_epochs=None``: 100 from 10,000 samples on, else UMAP's default."""

    def __init__(self, n_components: int = 10, n_neighbors: int = 15, min_dist: float = 0.0, n_epochs=None,
                 random_state=None):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_epochs = n_epochs
        self.random_state = random_state

    def fit(self, X, y=None):
        X = np.ascontiguousarray(X, dtype=np.float32)
        n = len(X)
        epochs = self.n_epochs if self.n_epochs is not None else (FEW_EPOCHS if n >= FEW_EPOCHS_FROM else None)
        params = dict(n_components=self.n_components, n_neighbors=self.n_neighbors, min_dist=self.min_dist,
                      n_epochs=epochs, random_state=self.random_state, n_jobs=1)
        self.neighbours_from_ = "umap"
        if n >= FAISS_KNN_FROM and _faiss() is not None:
            search = FaissNeighbours(X)
            indices, distances = search.query(X, self.n_neighbors)
            params["precomputed_knn"] = (indices, distances, search)
            self.neighbours_from_ = "faiss (exact)"
        self.umap_ = make_umap(**params)
        with warnings.catch_warnings():
            # umap warns that a search index other than its own cannot transform; ours can (tested), so it is noise
            warnings.filterwarnings("ignore", message=".*knn_search_index.*is not an NNDescent object.*")
            # its spectral start says when scikit-learn's eigensolver falls back to another: nothing to act on
            warnings.filterwarnings("ignore", message="ARPACK has failed, falling back to LOBPCG",
                                    category=RuntimeWarning)
            self.embedding_ = self.umap_.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        return self.fit(X).embedding_

    def __getstate__(self):
        state = dict(super().__getstate__())  # object's own is the instance's __dict__ itself
        fitted = state.get("umap_")
        index = getattr(fitted, "_knn_search_index", None)
        if fitted is not None and index is not None and not isinstance(index, FaissNeighbours) \
                and _faiss() is not None:
            fitted = copy.copy(fitted)  # the estimator in use keeps its own index
            fitted._knn_search_index = FaissNeighbours(fitted._raw_data)
            state["umap_"] = fitted
        return state

    def transform(self, X):
        check_is_fitted(self, "umap_")
        return self.umap_.transform(np.ascontiguousarray(X, dtype=np.float32))
