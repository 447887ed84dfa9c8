"""Assign new images to the clusters of an earlier run, for the methods that can ``predict``: the run folder keeps
the fitted estimator (``model.joblib``) and how its input was made, so new images are embedded as the run's were.

``predict`` gives every image a cluster, also an image of a kind the run never saw. Whether an image is like the
run's images at all is measured apart from the clusters, in CNN-feature space: the clustering space of a reduced
method cannot tell (UMAP places a new point among the training points it is nearest to, and a PCA fitted on the
run's images keeps only their directions), so a noise image lands inside a cluster there. An image farther from the
run's images than ``max_distance`` is left unassigned (cluster -1)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import SkippedFile, open_source
from .inputs import INPUTS, PREDICT_INPUTS, InputSettings, Runtime, takes_runtime
from .run import ASSIGNMENTS_FILE, RunFolder, renumbered

#: The record of an assign folder; it marks the folder as one that ``overwrite`` may replace.
ASSIGN_FILE = "assign.json"
#: Run images closer than this share of the run's own images to their nearest run images are assigned by default.
UNASSIGNED_PERCENTILE = 99.0
#: Neighbours whose mean distance is an image's ``feature_distance`` (more than one: a run image's copy is at 0).
N_NEIGHBORS = 5
#: Run images whose own feature distance sets the default threshold (a sample beyond this, for speed).
_REFERENCE_SAMPLE = 5000


@dataclass
class Assignment:
    """New images and the cluster each got (``paths`` relative to the folder, or array indices).

    ``labels`` is the cluster, -1 for an image left unassigned; ``nearest`` the cluster the run's model put it in all
    the same. ``distances`` and ``confidence`` are measured as in the run's ``assignments.csv`` (distance to the
    cluster's centre in the clustering space; largest cluster probability or the margin between the two nearest
    centres); ``feature_distances`` the mean distance to the ``N_NEIGHBORS`` nearest run images in L2-normalised
    CNN-feature space, which an image must not exceed (``max_distance``) to be assigned. ``max_distance`` is None
    (and ``feature_distances`` NaN) when the run's images cannot be read back (a run on an array given from Python,
    or one whose input folder is gone); ``threshold`` says how the threshold was chosen, or why there is none.
    ``clusters`` says which clusters the images were placed in: the run's, or those a person fixed.
    """

    paths: list[str]
    labels: np.ndarray
    distances: np.ndarray | None = None
    confidence: np.ndarray | None = None
    feature_distances: np.ndarray | None = None
    nearest: np.ndarray | None = None
    max_distance: float | None = None
    threshold: str = ""
    skipped: list[SkippedFile] = field(default_factory=list)
    run_dir: Path | None = None
    clusters: str = "as clustered"

    def __post_init__(self):
        n = len(self.labels)
        if self.nearest is None:
            self.nearest = np.asarray(self.labels).copy()
        for name in ("distances", "confidence", "feature_distances"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, np.nan))

    @property
    def n_unassigned(self) -> int:
        return int((np.asarray(self.labels) < 0).sum())

    def cluster_sizes(self) -> dict[int, int]:
        """Images per cluster of the run, the unassigned ones left out."""
        ids, counts = np.unique(self.labels[self.labels >= 0], return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts)}

    def to_csv(self) -> str:
        """``assignments.csv``: the run's columns (path, cluster, distance, confidence), then ``feature_distance``
        and ``nearest_cluster`` (the cluster an unassigned image, cluster -1, would have got)."""
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["path", "cluster", "distance", "confidence", "feature_distance", "nearest_cluster"])
        # __post_init__ filled the columns left out
        assert self.distances is not None and self.confidence is not None
        assert self.feature_distances is not None and self.nearest is not None
        for i, path in enumerate(self.paths):
            writer.writerow([path, int(self.labels[i]), f"{self.distances[i]:.6g}", f"{self.confidence[i]:.4f}",
                             f"{self.feature_distances[i]:.6g}", int(self.nearest[i])])
        return buf.getvalue()

    def save(self, out: str | os.PathLike, folder: str | os.PathLike | None = None) -> Path:
        """Write ``out/assignments.csv`` (see :meth:`to_csv`) and ``out/assign.json`` (the run, the ``folder`` of
        new images, counts, the threshold and how it was chosen, skipped files); returns ``out``. Check ``out``
        first with :func:`~deepclust._outputs.check_output_dir` (marker ``assign.json``)."""
        from ._atomic import write_json, write_text
        from ._version import __version__

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / ASSIGNMENTS_FILE, self.to_csv())
        write_json(out / ASSIGN_FILE, {
            "deepclust_version": __version__, "run": str(Path(self.run_dir).resolve()) if self.run_dir else None,
            "folder": str(Path(folder).resolve()) if folder is not None else None, "n_images": len(self.paths),
            "n_assigned": len(self.paths) - self.n_unassigned, "n_unassigned": self.n_unassigned,
            "max_distance": self.max_distance, "max_distance_from": self.threshold, "clusters": self.clusters,
            "feature_distance": f"mean distance to the {N_NEIGHBORS} nearest images of the run, L2-normalised CNN "
                                f"features",
            "cluster_sizes": self.cluster_sizes(),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped]})
        return out


def prepare_like_run(record, source, runtime: Runtime | None = None):
    """The method's input for ``source`` (a :class:`~deepclust.datasets.Source`, or a folder or array), made with
    the input settings the run recorded (``record``: its :class:`~deepclust.run.RunRecord`), run as ``runtime``
    says."""
    recorded = record.input_settings
    typical_size = int(recorded.pop("typical_size", 224))
    if recorded.get("views"):
        recorded["views"] = tuple(recorded["views"])
    kind = PREDICT_INPUTS.get(record.input, record.input)
    return INPUTS[kind](source, InputSettings(**recorded), runtime or Runtime(), typical_size)


def feature_space(record, source, prepared=None, runtime: Runtime | None = None):
    """The L2-normalised CNN features that images are compared in, whatever the method consumes: the run's own
    features when its input was ``features`` (``prepared``, when already made for ``source``, is used as it is),
    else EfficientNet-Lite0's pooled features at the size the run's images suggest. Returns a
    :class:`~deepclust.inputs.PreparedInput` whose ``X`` is normalised (``prepared`` itself is left as it was)."""
    from sklearn.preprocessing import normalize

    from .inputs import prepare_features

    if record.input == "features":
        if prepared is None:
            prepared = prepare_like_run(record, source, runtime)
    else:
        typical = int(record.input_settings.get("typical_size", 224))
        prepared = prepare_features(source, InputSettings(), runtime or Runtime(), typical)
    return dataclasses.replace(prepared, X=normalize(np.asarray(prepared.X, dtype=np.float32)))


def run_features(run, runtime: Runtime | None = None) -> np.ndarray:
    """The run's images in the space images are compared in (see :func:`feature_space`), one row per row of its
    ``assignments.csv``: the features it clustered, memory-mapped from the feature cache
    (:meth:`~deepclust.run.RunFolder.cached_features`), else made again from its images (``ValueError`` from
    :meth:`~deepclust.run.RunFolder.source` when they cannot be read back); a row whose image cannot be read any
    more is NaN."""
    from sklearn.preprocessing import normalize

    cached = run.cached_features()
    if cached is not None:
        return normalize(np.asarray(cached, dtype=np.float32))
    made = feature_space(run.record, run.source(), runtime=runtime)
    out = np.full((len(run.rows), made.X.shape[1]), np.nan, dtype=np.float32)
    out[made.indices] = made.X
    return out


def neighbor_distances(reference: np.ndarray, queries: np.ndarray | None = None, k: int = N_NEIGHBORS, *,
                       leave_one_out: bool | None = None) -> np.ndarray:
    """Mean Euclidean distance of each row of ``queries`` (default: ``reference``) to its ``k`` nearest rows of
    ``reference``; ``leave_one_out`` (default: when no ``queries`` are given) for queries that are rows of
    ``reference``, each not counted as its own neighbour."""
    from sklearn.neighbors import NearestNeighbors

    own = queries is None if leave_one_out is None else bool(leave_one_out)
    queries = reference if queries is None else queries
    k = max(1, min(k, len(reference) - own))
    nn = NearestNeighbors(n_neighbors=k + own, algorithm="brute").fit(reference)
    distances, _ = nn.kneighbors(queries)
    return distances[:, int(own):].mean(axis=1)


def place_like_run(spec, estimator, X, fixed: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster, distance and confidence of new samples ``X``, measured as the run measured its own (see
    :class:`~deepclust.methods.FittedClustering`), for the fitted ``estimator`` of the method ``spec``: the distance
    to the cluster's centre in the clustering space (``spec.embedding``), the largest cluster probability for
    methods that have them, else the margin ``1 - d1/d2``. ``fixed``: the clusters a person fixed and their centres
    in the clustering space (:meth:`RunFolder.centres <deepclust.run.RunFolder.centres>`), which then place each
    sample at its nearest centre (confidence: the margin)."""
    from .methods import measure_placement

    if fixed is not None:
        from sklearn.metrics import pairwise_distances_argmin

        ids, centres = fixed
        if not len(ids):
            raise ValueError("every image of the run was set aside in review: there is no cluster to assign to "
                             "(undo some of it, or assign to the run as clustered: original=True, --original)")
        embedding = np.asarray(estimator.predict_proba(X) if spec.embedding == "probabilities_"
                               else estimator.transform(X), dtype=np.float64)
        nearest = pairwise_distances_argmin(embedding, centres)  # in chunks: no n × k × d array
        _, distances, confidence = measure_placement(embedding, nearest, centres)
        return ids[nearest], distances, confidence
    labels = np.asarray(estimator.predict(X), dtype=np.int64)
    probabilities = None
    if spec.output(estimator, "probabilities_") is not None:  # the run's confidence came from them
        soft = getattr(estimator, "predict_proba", None)
        probabilities = np.asarray(soft(X)) if soft is not None else None
    if spec.embedding == "probabilities_":
        embedding = probabilities if probabilities is not None else np.asarray(estimator.predict_proba(X))
    else:
        embedding = np.asarray(estimator.transform(X))
    _, distances, confidence = measure_placement(embedding, labels, spec.output(estimator, "cluster_centers_"),
                                                 probabilities)
    return labels, distances, confidence


@takes_runtime
def assign_images(run_dir: str | os.PathLike, source, *, max_distance: float | None = None, original: bool = False,
                  **runtime_settings) -> Assignment:
    """Assign the images of ``source`` (a folder or a uint8 array; for a run on embeddings, new rows:
    :func:`~deepclust.datasets.load_embeddings`) to the clusters of the run in ``run_dir``.

    The images are prepared with the run's recorded input settings (extractor, layer, input size, views, image size)
    and given to the saved estimator's ``predict``. An image whose ``feature_distance`` (see :class:`Assignment`)
    exceeds ``max_distance`` is left unassigned (cluster -1); by default ``max_distance`` is the 99th percentile of
    the run's own images' feature distances, one threshold for all clusters: the distance to the nearest images is
    already local, and a per-cluster percentile of a small cluster would be its largest value. The run's images are
    read back for this (their features usually from the feature cache). When a person fixed the run's clusters
    (``deepclust review``), each image goes to the nearest centre of the fixed clusters in the run's clustering space
    instead of the model's prediction, unless ``original``.

    Raises ``ValueError`` for a run whose method cannot assign new images (agglomerative clustering is transductive)
    and :class:`~deepclust.run.NotARunFolderError` for a folder that is no run.

    Parameters
    ----------
    run_dir : the run folder.
    source : the images (or rows) to assign.
    max_distance : the feature distance beyond which an image is left unassigned (None: the run's own 99th
        percentile).
    original : place the images in the run's clusters as clustered, not in those a person fixed.
    {runtime}
    """

    if max_distance is not None and not max_distance >= 0:
        raise ValueError(f"max_distance must be a distance (0 or more), got {max_distance}")
    run = RunFolder.open(run_dir, original=original)
    record = run.record
    runtime = Runtime(**runtime_settings)
    estimator = run.load_model(runtime.device)  # ValueError, saying why, for a method that cannot assign new images
    no_reference = None
    if run.cached_features() is None:  # the run's images must be read back
        try:
            run.source()
        except ValueError as exc:
            no_reference = str(exc)
    if no_reference is not None and max_distance is not None:
        raise ValueError(f"max_distance cannot be applied, for there are no run images to compare new images with: "
                         f"{no_reference}")
    record.source.check_like(source)  # before a folder is scanned
    with runtime.connected():
        return _assign(run, estimator, open_source(source), max_distance, no_reference, runtime)


def _assign(run: RunFolder, estimator, source, max_distance, no_reference: str | None,
            runtime: Runtime) -> Assignment:
    from .methods import get_method

    record, skipped = run.record, list(source.skipped)
    assert record.method is not None, "a run that saved a model recorded its method"
    prepared = prepare_like_run(record, source, runtime)
    # the clusters a person fixed, where edits changed their images (a rename leaves the model's placement as it is)
    fixed = run.centres(run.labels()) if run.changed_clusters else None
    nearest, distances, confidence = place_like_run(get_method(record.method), estimator, prepared.X, fixed)
    if fixed is None:
        nearest = renumbered(record.parameters, nearest)  # in the run's numbers, when it kept an earlier run's
    names_of = source.paths
    paths = [names_of[i] for i in prepared.indices]
    result = Assignment(paths, nearest.copy(), distances, confidence, nearest=nearest,
                        skipped=skipped + prepared.failed, run_dir=run.path,
                        clusters=run.clusters_read + (", placed by their centres" if fixed is not None else ""))
    if no_reference is not None:
        result.threshold = f"not measured ({no_reference}); every image is assigned"
        return result

    reference = run_features(run, runtime)
    reference = reference[~np.isnan(reference).any(axis=1)]
    new = feature_space(record, source, prepared, runtime)
    rows = {int(i): r for r, i in enumerate(new.indices)}
    found = np.array([rows.get(int(i), -1) for i in prepared.indices])
    assert result.feature_distances is not None  # filled with NaN by Assignment.__post_init__
    result.feature_distances[found >= 0] = neighbor_distances(reference, new.X[found[found >= 0]])
    if max_distance is None:
        sample = reference
        if len(reference) > _REFERENCE_SAMPLE:
            sample = reference[np.random.RandomState(0).choice(len(reference), _REFERENCE_SAMPLE, replace=False)]
        own = neighbor_distances(reference, sample, leave_one_out=True)
        max_distance = float(np.percentile(own, UNASSIGNED_PERCENTILE))
        result.threshold = (f"the {UNASSIGNED_PERCENTILE:g}th percentile of the run's own {len(sample)} images' "
                            f"feature distances")
    else:
        result.threshold = "given"
    result.max_distance = float(max_distance)
    result.labels[result.feature_distances > max_distance] = -1
    return result
