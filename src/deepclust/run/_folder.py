"""The run folder's one schema: the names of its files, reading them back, and the files that commands add to a
finished run (scores, outliers, duplicates). Every other module reads and writes run files through
:class:`RunFolder`."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from functools import cached_property
from pathlib import Path

import numpy as np

from .._outputs import RUN_FILE
from ._figures import figures_in_folder
from ._model import MODEL_FILE, load_model
from ._record import RunRecord
from ._review import ASIDE, REVIEW_FILE, Replayed, changed_clusters, read_log, replay

ASSIGNMENTS_FILE = "assignments.csv"
EMBEDDING_FILE = "embedding.npy"
EMBEDDING_2D_FILE = "embedding_2d.npy"
TRAINING_FILE = "training.json"
FIGURES = "figures"
EVALUATION_FILE = "evaluation.json"
CONFUSION_FILE = "confusion.csv"
OUTLIERS_FILE = "outliers.csv"
OUTLIERS_FIGURE = "figures/outliers.png"
DUPLICATES_FILE = "duplicates.csv"


def montage_file(cluster: int, atypical: bool = False) -> str:
    """The montage of a cluster's most typical images (``atypical``: its least typical), relative to the run."""
    return f"{FIGURES}/cluster_{int(cluster):03d}{'_atypical' if atypical else ''}.png"


class NotARunFolderError(FileNotFoundError):
    """The folder is not a run folder of deepclust: a file every run folder holds is missing."""

    def __init__(self, path: str | os.PathLike, missing: str):
        super().__init__(f"{path} is not a run folder of deepclust (or one from an older version): {missing} is "
                         f"missing")
        self.path, self.missing = Path(path), missing


class RunFolder:
    """A run folder read back: its record (:attr:`record`, a :class:`~deepclust.run.RunRecord` from run.json; the
    file's raw content is ``info``), one row per clustered image (``rows``, from assignments.csv) and, read when first
    used, the clustering space (``embedding``).

    When a person fixed the clusters (``deepclust review``: an edit log, review.jsonl, in the folder), the folder is
    read with them (:attr:`review` says how many edits), unless it is opened with ``original=True``: ``rows`` carry
    the fixed cluster of each image (:data:`~deepclust.run.ASIDE` for those set aside), its name, and its distance
    to and confidence in that cluster measured again for the clusters the edits changed; :attr:`record` has the
    fixed clusters' sizes and a note. Every command reads runs this way, so each uses the fixed clusters.

    Examples
    --------
    >>> run = RunFolder.open("runs/digits-demo")  # doctest: +SKIP
    >>> run.labels()[:5], run.record.n_clusters  # doctest: +SKIP
    """

    #: The file of a cluster's montage (``atypical=True``: its least typical members), and of the outliers' montage.
    montage_file = staticmethod(montage_file)
    outliers_figure = OUTLIERS_FIGURE

    def __init__(self, path: str | os.PathLike, info: dict, rows: list[dict]):
        self.path, self.info, self.rows = Path(path), info, rows
        self.original_rows = rows
        #: The person's edits in effect (None: the run as clustered, or no edits).
        self.review: Replayed | None = None

    @classmethod
    def open(cls, path: str | os.PathLike, *, original: bool = False) -> RunFolder:
        """Read ``path``'s run.json and assignments.csv, with the clusters a person fixed (its review.jsonl) unless
        ``original``; :class:`NotARunFolderError` when either file is missing."""
        path = Path(path)
        for name in (RUN_FILE, ASSIGNMENTS_FILE):
            if not (path / name).is_file():
                raise NotARunFolderError(path, name)
        with (path / ASSIGNMENTS_FILE).open(newline="") as f:
            rows = list(csv.DictReader(f))
        run = cls(path, json.loads((path / RUN_FILE).read_text()), rows)
        if not original:
            run._apply_review()
        return run

    def __repr__(self) -> str:
        fixed = f", review={self.review.describe()!r}" if self.review is not None else ""
        return f"RunFolder({str(self.path)!r}, n_images={len(self.rows)}{fixed})"

    def _apply_review(self) -> None:
        """Read the review log, when there is one, and show the fixed clusters in :attr:`rows`."""
        edits, _ = read_log(self.path / REVIEW_FILE)
        fixed = replay(self.original_labels(), edits)
        if not fixed.done:
            return
        changed = changed_clusters(self.original_labels(), fixed.labels)
        names = self.fixed_names(fixed)
        distances, confidence = self.placement(fixed.labels)
        rows = []
        for i, (r, c) in enumerate(zip(self.original_rows, fixed.labels.tolist())):
            row = {**r, "cluster": str(c)}
            if c in changed or int(r["cluster"]) in changed:
                row["distance"], row["confidence"] = f"{distances[i]:.6g}", f"{confidence[i]:.4f}"
            if names or "cluster_name" in r:
                row["cluster_name"] = names.get(c, "")
            rows.append(row)
        self.rows, self.review = rows, fixed

    def fixed_names(self, fixed: Replayed) -> dict[int, str]:
        """The name of each cluster of ``fixed``: the person's, else the one the run gave it (its first ImageNet
        word) while the cluster is there."""
        present = set(np.unique(fixed.labels).tolist())
        return {c: n for c, n in self._run_names.items() if c in present} | fixed.names

    @cached_property
    def _run_names(self) -> dict[int, str]:
        """Each cluster's name as the run gave it (assignments.csv's cluster_name), read once: the review app asks
        at every edit."""
        return {int(r["cluster"]): r["cluster_name"] for r in self.original_rows if r.get("cluster_name")}

    def placement(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each image's distance to its cluster's centre and its confidence for clusters ``labels`` (fixed by a
        person): the run's own values for the clusters it made, measured again in the clustering space for those
        the edits changed, as a run measures new images placed by centres
        (:func:`~deepclust.methods.measure_placement`: set-aside images at their nearest centre, confidence 0); the
        run's own everywhere when the folder has no embedding."""
        from ..methods import measure_placement

        distances, confidence = self._original_placement
        changed = np.isin(labels, list(changed_clusters(self.original_labels(), labels)))
        if not changed.any() or not (self.path / EMBEDDING_FILE).is_file():
            return distances, confidence
        ids, centres = self.centres(labels)
        if not len(ids):  # every image set aside: no centre to measure from
            return distances, np.where(changed, 0.0, confidence)
        moved = labels[changed]
        position = np.where(moved == ASIDE, ASIDE, np.searchsorted(ids, moved))  # the centre's row, per image
        _, d, c = measure_placement(np.asarray(self.embedding, dtype=np.float64)[changed], position, centres)
        distances, confidence = distances.copy(), confidence.copy()
        distances[changed], confidence[changed] = d, c
        return distances, confidence

    def centres(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The clusters of ``labels`` (set-aside images left out) and their centres in the clustering space: where
        ``assign`` places new images in clusters a person fixed."""
        embedding = np.asarray(self.embedding, dtype=np.float64)
        ids = np.array(sorted(set(np.unique(labels).tolist()) - {ASIDE}), dtype=np.int64)
        return ids, np.array([embedding[labels == c].mean(0) for c in ids]).reshape(len(ids), embedding.shape[1])

    @cached_property
    def _original_placement(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([float(r["distance"]) for r in self.original_rows]),
                np.array([float(r["confidence"]) for r in self.original_rows]))

    @cached_property
    def record(self) -> RunRecord:
        """run.json, typed (written by any version of deepclust that wrote run folders)."""
        record = RunRecord.from_json(self.info)
        if record.schema_version == 1:  # its figures are those of its files
            record = dataclasses.replace(record, figures=figures_in_folder(record, self.info.get("method_figures"),
                                                                           self.path))
        if self.review is not None:
            sizes = dict(zip(*(v.tolist() for v in np.unique(self.review.labels, return_counts=True))))
            record = dataclasses.replace(
                record, cluster_sizes=sizes, n_clusters=len(set(sizes) - {ASIDE}),
                notes=(*record.notes, f"The clusters are those a person fixed: {self.review.describe()} over the run "
                                      f"as clustered ({sizes.get(ASIDE, 0):,} images set aside); `--original` "
                                      f"for the run as clustered."))
        return record

    @cached_property
    def embedding(self) -> np.ndarray:
        """The clustering space, one row per image (embedding.npy)."""
        if not (self.path / EMBEDDING_FILE).is_file():
            raise NotARunFolderError(self.path, EMBEDDING_FILE)
        return np.load(self.path / EMBEDDING_FILE)

    def cached_features(self) -> np.ndarray | None:
        """The CNN features the run clustered, one row per image, memory-mapped from the feature cache entry run.json
        names (``extraction.cache_file``: its rows for the images that were read, in the run's order); None when
        the run consumed something else or the entry is gone (``deepclust cache clear``, ``--no-cache``)."""
        if self.record.input != "features":
            return None
        cache_file = self.record.extraction.get("cache_file")
        if not cache_file:
            return None
        meta_file = Path(cache_file).with_suffix(".json")
        if not (meta_file.is_file() and Path(cache_file).is_file()):
            return None
        try:
            indices = np.asarray(json.loads(meta_file.read_text())["indices"], dtype=np.int64)
            stored = np.load(cache_file, mmap_mode="r")
        except (OSError, ValueError, KeyError):  # a torn or foreign file: the caller extracts again
            return None
        if len(indices) != len(self.rows) or (len(indices) and indices.max() >= len(stored)):
            return None
        return stored if len(indices) == len(stored) else stored[indices]

    @property
    def root(self) -> Path | None:
        """The input folder, for runs on a folder (and on embeddings whose images were found there)."""
        return self.record.source.input_root

    def labels(self) -> np.ndarray:
        """Each image's cluster: the fixed one when a person fixed the clusters (see :attr:`review`)."""
        return np.array([int(r["cluster"]) for r in self.rows])

    def original_labels(self) -> np.ndarray:
        """Each image's cluster as the run clustered it."""
        return self._original_labels.copy()

    @cached_property
    def _original_labels(self) -> np.ndarray:
        return np.array([int(r["cluster"]) for r in self.original_rows], dtype=np.int64)

    def cluster_names(self) -> dict[int, str]:
        """Each named cluster's name: the person's (``deepclust review``), else the run's first ImageNet word."""
        return {int(r["cluster"]): r["cluster_name"] for r in self.rows if r.get("cluster_name")}

    def shows_original(self, cluster: int) -> bool:
        """Whether ``cluster`` holds the images the run put there (its montages show it)."""
        return cluster not in self.changed_clusters

    @cached_property
    def changed_clusters(self) -> set[int]:
        """The clusters whose images a person's edits changed (none for the run as clustered, or after renames)."""
        return set() if self.review is None else changed_clusters(self._original_labels, self.review.labels)

    @property
    def clusters_read(self) -> str:
        """Which clusters this reading of the run holds, as commands say it: ``as clustered``, or ``fixed by a
        person: 3 edits (review.jsonl)``."""
        return "as clustered" if self.review is None else f"fixed by a person: {self.review.describe()}"

    def has(self, name: str) -> bool:
        """Whether the run folder holds the file ``name`` (relative, e.g. ``"figures/training.png"``)."""
        return (self.path / name).is_file()

    def source(self, rows=None):
        """What the run clustered (``rows``: those of these result rows), in the order of assignments.csv, opened
        again to read or embed (a :class:`~deepclust.datasets.Source`: see
        :meth:`~deepclust.datasets.SourceRecord.reopen`). ``ValueError`` that says why when it cannot be (the
        folder or file is gone; an array given from Python, whose pixels the run folder does not keep)."""
        paths = [r["path"] for r in self.rows] if rows is None else [self.rows[int(r)]["path"] for r in rows]
        return self.record.source.reopen(paths)

    def images(self, rows, size: int = 96) -> list[np.ndarray] | None:
        """The images of result rows ``rows``: re-read from the folder (of a folder run, or where embeddings' images
        were found), or from the builtin data set the run clustered; None where the run folder cannot show images
        (an array given from Python, embeddings without images, the novel classes of a data set split by class)."""
        shown = self.record.source.reopen_images([self.rows[int(r)]["path"] for r in rows])
        return None if shown is None else [shown.image(i, size) for i in range(len(shown))]

    # the model

    @property
    def has_model(self) -> bool:
        return self.has(MODEL_FILE)

    def load_model(self, device: str | None = None):
        """The fitted estimator (model.joblib); ``device`` moves a network's estimator to it. ``ValueError`` that
        says why when the run saved none (a transductive method)."""
        if not self.has_model:
            why = self.record.model_not_saved or "the run folder has no saved model (written by an older deepclust)"
            raise ValueError(f"the run's method {self.record.method} cannot assign new "
                             f"images: {why}; cluster the old and new images together instead")
        estimator = load_model(self.path)
        if device is not None and hasattr(estimator, "device"):
            estimator.set_params(device=device)
        return estimator

    # files that commands add to a finished run

    def evaluation(self) -> dict | None:
        """What ``deepclust evaluate`` wrote (evaluation.json), None before it ran."""
        return json.loads((self.path / EVALUATION_FILE).read_text()) if self.has(EVALUATION_FILE) else None

    def confusion(self) -> list[list[str]] | None:
        """The cluster-by-class counts that ``deepclust evaluate`` wrote, header first; None before it ran."""
        name = (self.evaluation() or {}).get("confusion_csv", CONFUSION_FILE)
        if not self.has(name):
            return None
        with (self.path / name).open(newline="") as f:
            return [r for r in csv.reader(f) if r]

    def outliers(self) -> list[dict] | None:
        """The rows of outliers.csv, None before ``deepclust outliers`` ran."""
        return self._read_csv(OUTLIERS_FILE)

    def duplicates(self) -> list[dict] | None:
        """The rows of duplicates.csv (group, kind, similarity, hamming, path), None before ``deepclust duplicates``
        ran."""
        return self._read_csv(DUPLICATES_FILE)

    def _read_csv(self, name: str) -> list[dict] | None:
        if not self.has(name):
            return None
        with (self.path / name).open(newline="") as f:
            return list(csv.DictReader(f))

    def write_evaluation(self, record: dict, classes: list[str], counts: dict) -> None:
        """evaluation.json (``record``: labels, scores, counts of images) and confusion.csv (``counts``: cluster →
        one count per class of ``classes``)."""
        from .._atomic import write_csv, write_json

        write_csv(self.path / CONFUSION_FILE, ["cluster", *classes],
                  ([c, *map(int, row)] for c, row in counts.items()))
        write_json(self.path / EVALUATION_FILE, {**record, "confusion_csv": CONFUSION_FILE})

    def write_outliers(self, found: list[dict], images: list[np.ndarray] | None = None) -> list[str]:
        """outliers.csv (``found``: rows with path, cluster, score, confidence) and, with ``images``, their montage
        figures/outliers.png; returns the files written."""
        from .._atomic import write_csv
        from ..report import make_grid, save_png

        write_csv(self.path / OUTLIERS_FILE, ["path", "cluster", "score", "confidence"],
                  ([f["path"], f["cluster"], f["score"], f"{f['confidence']:.4f}"] for f in found))
        if not images:
            return [OUTLIERS_FILE]
        save_png(self.path / OUTLIERS_FIGURE, make_grid(images, caption=f"{len(found)} least typical images"))
        return [OUTLIERS_FILE, OUTLIERS_FIGURE]

    def write_duplicates(self, groups) -> None:
        """duplicates.csv: one row per image of each group (:class:`~deepclust.explore.DuplicateGroup`)."""
        from .._atomic import write_csv

        write_csv(self.path / DUPLICATES_FILE, ["group", "kind", "similarity", "hamming", "path"],
                  ([i, g.kind, _number(g.similarity), _number(g.hamming), p]
                   for i, g in enumerate(groups) for p in g.paths))

    def write_report(self) -> Path:
        """Render report.html from the folder's files (see :func:`~deepclust.report.write_report`)."""
        from ..report import write_report

        return write_report(self)


def _number(value) -> str:
    return "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

