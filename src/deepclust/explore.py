"""Look into a finished run folder: the images least like any cluster, the images most like a given one, and the
clusters as folders. Everything is read from the run folder (``run.json``, ``assignments.csv``, ``embedding.npy``)."""

from __future__ import annotations

import csv
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import write_json
from ._outputs import check_output_dir
from .report import NotARunFolderError

#: The record an export folder holds; it marks the folder as one that ``overwrite`` may replace.
EXPORT_FILE = "export.json"


@dataclass
class RunFolder:
    """A run folder read back: its record, one row per clustered image, and the clustering space."""

    path: Path
    info: dict
    rows: list[dict]
    embedding: np.ndarray

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunFolder:
        path = Path(path)
        for name in ("run.json", "assignments.csv", "embedding.npy"):
            if not (path / name).is_file():
                raise NotARunFolderError(f"{path} is not a run folder of deepclust (or one from an older version): "
                                         f"{name} is missing")
        with (path / "assignments.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        return cls(path, json.loads((path / "run.json").read_text()), rows, np.load(path / "embedding.npy"))

    @property
    def root(self) -> Path | None:
        """The input folder, for runs on a folder."""
        source = self.info.get("source", {})
        return Path(source["root"]) if source.get("kind") == "folder" else None

    def labels(self) -> np.ndarray:
        return np.array([int(r["cluster"]) for r in self.rows])

    def images(self, rows, size: int = 96) -> list[np.ndarray] | None:
        """The images of result rows ``rows``: re-read from the folder, or from the builtin data set the run
        clustered; None for a run on an array given from Python (the run folder does not keep the pixels)."""
        from .datasets import load_dataset, load_image

        if self.root is not None:
            return [load_image(self.root / self.rows[r]["path"], size) for r in rows]
        source = self.info.get("source", {})
        if not source.get("dataset"):
            return None
        X, _ = load_dataset(source["dataset"], split=source.get("split", "all"))
        return [X[int(self.rows[r]["path"])] for r in rows]


def find_outliers(run_dir, n: int = 20) -> list[dict]:
    """The ``n`` images least like their cluster: distance to the centre divided by the cluster's median distance
    (so a loose cluster does not fill the list), ties broken by low confidence. Each row: path, cluster, score."""
    run = RunFolder.open(run_dir)
    labels = run.labels()
    distance = np.array([float(r["distance"]) for r in run.rows])
    confidence = np.array([float(r["confidence"]) for r in run.rows])
    spread = {c: max(float(np.median(distance[labels == c])), 1e-12) for c in np.unique(labels)}
    score = distance / np.array([spread[c] for c in labels])
    order = np.lexsort((confidence, -score))[:n]
    return [{"row": int(i), "path": run.rows[i]["path"], "cluster": int(labels[i]),
             "score": round(float(score[i]), 4), "confidence": float(confidence[i])} for i in order]


def find_similar(run_dir, image, n: int = 10) -> tuple[list[dict], str]:
    """The ``n`` run images nearest to ``image`` in the run's clustering space, and how ``image`` was placed there.

    ``image`` is a path of the run (as in assignments.csv, or the file itself) or any other image file, which is
    embedded with the run's saved model and input settings (methods that can ``predict``).
    """
    from sklearn.neighbors import NearestNeighbors

    run = RunFolder.open(run_dir)
    row = _row_of(run, image)
    if row is not None:
        query, how, skip = run.embedding[row:row + 1], f"{run.rows[row]['path']} is an image of the run", row
    else:
        query, how, skip = _embed_new_image(run, Path(image)), "embedded with the run's model", None
    k = min(n + (skip is not None), len(run.rows))
    distances, neighbours = NearestNeighbors(n_neighbors=k).fit(run.embedding).kneighbors(query)
    out = [{"path": run.rows[j]["path"], "cluster": int(run.rows[j]["cluster"]), "distance": round(float(d), 6)}
           for d, j in zip(distances[0], neighbours[0]) if j != skip]
    return out[:n], how


def _row_of(run: RunFolder, image) -> int | None:
    text = str(image)
    candidates = {text, Path(text).as_posix()}
    if run.root is not None and Path(text).is_absolute():
        try:
            candidates.add(Path(text).resolve().relative_to(run.root.resolve()).as_posix())
        except ValueError:
            pass
    for i, r in enumerate(run.rows):
        if r["path"] in candidates:
            return i
    return None


def _embed_new_image(run: RunFolder, image: Path) -> np.ndarray:
    import joblib

    from .assign import MODEL_FILE, prepare_like_run
    from .datasets import ImageFolder
    from .methods import get_method

    if not image.is_file():
        raise FileNotFoundError(f"image not found: {image}")
    if not (run.path / MODEL_FILE).is_file():
        raise ValueError(f"{image} is not an image of the run, and the run has no saved model to place a new image "
                         f"({run.info.get('model_not_saved') or 'older run folder'})")
    estimator = joblib.load(run.path / MODEL_FILE)
    prepared = prepare_like_run(run.info, ImageFolder(image.parent, [image.name]), verbose=False)
    if len(prepared.indices) == 0:
        raise ValueError(f"cannot read the image {image}: {prepared.failed[0].reason if prepared.failed else '?'}")
    spec = get_method(run.info["parameters"]["method"])
    if spec.embedding == "probabilities_":
        return np.asarray(estimator.predict_proba(prepared.X))
    return np.asarray(estimator.transform(prepared.X))


def export_clusters(run_dir, to, *, mode: str = "symlink", overwrite: bool = False) -> dict[int, int]:
    """One folder per cluster under ``to`` (``cluster_000/`` …) with a symlink to (or a copy of) each image of a
    folder run, and ``export.json``; originals are never moved or deleted. ``to`` may not be, hold or lie inside the
    input or the run folder; ``overwrite`` replaces only an earlier export. Returns the number of images per cluster
    folder."""
    if mode not in ("symlink", "copy"):
        raise ValueError(f"mode must be symlink or copy, got {mode!r}")
    run = RunFolder.open(run_dir)
    if run.root is None:
        raise ValueError("this run clustered an array, not a folder: there are no image files to export")
    to = check_output_dir(to, overwrite, inputs=[run.root, run.path], marker=EXPORT_FILE, what="export folder")
    if to.is_dir():  # an earlier export (check_output_dir allows no other non-empty folder): its links go
        for old in to.glob("cluster_[0-9][0-9][0-9]"):
            shutil.rmtree(old)
    counts: dict[int, int] = {}
    for r in run.rows:
        src = run.root / r["path"]
        cluster = int(r["cluster"])
        folder = to / f"cluster_{cluster:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / r["path"].replace("/", "__")  # flat, and two files of the same name stay two files
        if target.exists() or target.is_symlink():
            target.unlink()
        if mode == "symlink":
            target.symlink_to(src.resolve())
        else:
            shutil.copy2(src, target)
        counts[cluster] = counts.get(cluster, 0) + 1
    counts = dict(sorted(counts.items()))
    write_json(to / EXPORT_FILE, {"run": str(run.path.resolve()), "mode": mode, "cluster_sizes": counts})
    return counts


@dataclass
class DuplicateGroup:
    """Images that are the same file (``exact``) or look alike to the extractor (``near``: cosine ≥ threshold)."""

    kind: str
    paths: list[str]
    similarity: float


def find_duplicates(run_dir, threshold: float = 0.99, *, cache_dir=None, verbose: bool = False) -> list[DuplicateGroup]:
    """Groups of duplicate images of a run: exact copies by file hash (folder runs), and near duplicates whose CNN
    features have cosine similarity ≥ ``threshold`` (connected through such pairs).

    The features are those the run used when its input was ``features`` (read back through the feature cache, so
    usually without extraction), else EfficientNet-Lite0's pooled features. Groups are connected through pairs, so a
    low threshold chains unlike images together (on MNIST-5k: 0.95 joins 1,206 digits in one group, 0.99 finds 3
    pairs); the group's ``similarity`` is its least similar pair, which shows such a chain.
    """
    import hashlib

    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import radius_neighbors_graph
    from sklearn.preprocessing import normalize

    from .assign import prepare_like_run
    from .datasets import ImageFolder, load_dataset
    from .inputs import InputSettings, prepare_features

    if not 0 < threshold <= 1:
        raise ValueError(f"the similarity threshold must be in (0, 1], got {threshold}")
    run = RunFolder.open(run_dir)
    paths = [r["path"] for r in run.rows]
    groups: list[DuplicateGroup] = []
    if run.root is not None:
        source = ImageFolder(run.root, paths)
        by_hash: dict[str, list[str]] = {}
        for p in paths:
            by_hash.setdefault(hashlib.sha256((run.root / p).read_bytes()).hexdigest(), []).append(p)
        groups += [DuplicateGroup("exact", ps, 1.0) for ps in by_hash.values() if len(ps) > 1]
    else:
        src = run.info.get("source", {})
        if not src.get("dataset"):
            raise ValueError("this run clustered an array given from Python: its pixels are not in the run folder")
        X, _ = load_dataset(src["dataset"], split=src.get("split", "all"))
        source = X[[int(p) for p in paths]]
    runtime = {"cache_dir": cache_dir, "verbose": verbose}
    if run.info.get("parameters", {}).get("input") == "features":
        prepared = prepare_like_run(run.info, source, **runtime)
    else:
        typical = int(run.info.get("parameters", {}).get("input_settings", {}).get("typical_size", 224))
        prepared = prepare_features(source, InputSettings(**runtime), typical)
    F = normalize(np.asarray(prepared.X, dtype=np.float32))
    graph = radius_neighbors_graph(F, radius=float(np.sqrt(max(2 - 2 * threshold, 0.0))), mode="distance")
    n_groups, member_of = connected_components(graph, directed=False)
    exact = {p for g in groups for p in g.paths}
    for g in range(n_groups):
        members = np.flatnonzero(member_of == g)
        names = [paths[prepared.indices[i]] for i in members]
        if len(members) < 2 or set(names) <= exact:
            continue
        sims = F[members] @ F[members].T
        groups.append(DuplicateGroup("near", names, round(float(sims[np.triu_indices(len(members), 1)].min()), 4)))
    return groups
