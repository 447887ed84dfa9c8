"""Look into a finished run folder: the images least like any cluster, the images most like a given one, and the
clusters as folders. Everything is read from the run folder through :class:`~deepclust.run.RunFolder`."""

from __future__ import annotations

import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import write_json
from ._outputs import check_output_dir
from ._version import __version__
from .inputs import Runtime, takes_runtime
from .run import RunFolder

#: The record an export folder holds; it marks the folder as one that ``overwrite`` may replace.
EXPORT_FILE = "export.json"


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
    """The ``n`` run images nearest to ``image``, and how ``image`` was found.

    Distances are between L2-normalised CNN features (:func:`~deepclust.assign.run_features`: 0 for the same
    image, 2 at most), not in the clustering space, where UMAP moves identical files apart. ``image`` is an image of
    the run, by its path in assignments.csv or any path to the same file (relative to the working folder,
    absolute, through a symlink), or any other image file, whose features are made as the run's were.
    """
    from sklearn.neighbors import NearestNeighbors

    from .assign import run_features

    run = RunFolder.open(run_dir)
    row = _row_of(run, image)
    try:
        features, space = run_features(run, Runtime(verbose=False)), "CNN features"
    except ValueError:  # an array given from Python, or an input folder gone: the run keeps its clustering space
        if row is None:
            raise
        features, space = run.embedding, "the clustering space (the run's images cannot be read back)"
    readable = np.flatnonzero(~np.isnan(features).any(axis=1))
    if len(readable) == 0:
        raise ValueError(f"none of the run's images can be read any more (input folder {run.root})")
    if row is not None and np.isnan(features[row]).any():
        raise ValueError(f"{run.rows[row]['path']} is an image of the run that can no longer be read")
    if row is not None:
        query, how, skip = features[row:row + 1], f"{run.rows[row]['path']} is an image of the run; {space}", row
    else:
        query, how, skip = _features_of_new_image(run, Path(image)), "a new image; CNN features", None
    k = min(n + (skip is not None), len(readable))
    distances, found = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(features[readable]).kneighbors(query)
    out = [{"path": run.rows[j]["path"], "cluster": int(run.rows[j]["cluster"]),
            "distance": round(float(d), 4)} for d, j in zip(distances[0], readable[found[0]]) if j != skip]
    return out[:n], how


def _row_of(run: RunFolder, image) -> int | None:
    """The row of the run image that ``image`` names: its path as in assignments.csv, or a path of the same file
    from anywhere (relative to the working folder, absolute, through symlinks)."""
    text = str(image)
    candidates = {text, Path(text).as_posix()}
    if run.root is not None and Path(text).exists():
        try:
            candidates.add(Path(text).resolve().relative_to(run.root.resolve()).as_posix())
        except ValueError:  # outside the input folder: maybe a symlink into it, or a new image
            pass
    for i, r in enumerate(run.rows):
        if r["path"] in candidates:
            return i
    return None


def _features_of_new_image(run: RunFolder, image: Path) -> np.ndarray:
    """The L2-normalised CNN features of an image that is not in the run, made as the run's were."""
    from .assign import feature_space
    from .datasets import ImageFolder

    if not image.is_file():
        raise FileNotFoundError(f"image not found: {image}")
    if run.record.source.holds_vectors:
        raise ValueError(f"{image} is not an image of the run, and this run clustered embeddings made elsewhere, "
                         f"which deepclust cannot make for a new image; give a path of the run, or assign new rows "
                         f"with `deepclust assign RUN NEW.npy`")
    prepared = feature_space(run.record, ImageFolder(image.parent, [image.name]), runtime=Runtime(verbose=False))
    if len(prepared.indices) == 0:
        raise ValueError(f"cannot read the image {image}: {prepared.failed[0].reason if prepared.failed else '?'}")
    return prepared.X


def _folder_name(cluster: int, name: str | None) -> str:
    """``cluster_003``, or with the name the report shows ``cluster_003_tabby_cat`` (safe on any file system)."""
    slug = re.sub(r"[^\w-]+", "_", name or "", flags=re.ASCII).strip("_")[:40]
    return f"cluster_{cluster:03d}" + (f"_{slug}" if slug else "")


def export_clusters(run_dir, to, *, mode: str = "symlink", overwrite: bool = False,
                    original: bool = False) -> dict[int, int]:
    """One folder per cluster under ``to`` (``cluster_000/``, ``cluster_003_tabby_cat/`` with the cluster's name:
    the one a person gave in ``deepclust review``, else the one the report shows) … with a symlink to (or a copy of)
    each image of a folder run, and ``export.json``; originals are never moved or deleted. The clusters are those a
    person fixed, unless ``original``; images set aside are left out. ``to`` may not be, hold or lie inside the
    input or the run folder; ``overwrite`` replaces only an earlier export. Returns the number of images per cluster
    folder."""
    if mode not in ("symlink", "copy"):
        raise ValueError(f"mode must be symlink or copy, got {mode!r}")
    run = RunFolder.open(run_dir, original=original)
    if run.root is None:
        what = ("embeddings whose images were not found" if run.record.source.holds_vectors
                else "an array, not a folder")
        raise ValueError(f"this run clustered {what}: there are no image files to export")
    to = check_output_dir(to, overwrite, inputs=[run.root, run.path], marker=EXPORT_FILE, what="export folder")
    if to.is_dir():  # an earlier export (check_output_dir allows no other non-empty folder): its links go
        for old in to.iterdir():
            if old.is_dir() and not old.is_symlink() and re.fullmatch(r"cluster_\d{3,}(_.+)?", old.name):
                shutil.rmtree(old)
    counts: dict[int, int] = {}
    missing = 0
    for r in _exported(run):
        src = run.root / r["path"]
        if not src.is_file():  # a run on embeddings names images that need not all exist
            missing += 1
            continue
        cluster = int(r["cluster"])
        folder = to / _folder_name(cluster, r.get("cluster_name"))
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
    write_json(to / EXPORT_FILE, {"deepclust_version": __version__, "run": str(run.path.resolve()), "mode": mode,
                                  "cluster_sizes": counts, "missing_files": missing, **_clusters_record(run)})
    return counts


def export_csv(run_dir, path, *, overwrite: bool = False, original: bool = False) -> dict[int, int]:
    """A CSV at ``path`` of each image's path (as in assignments.csv: relative to the input folder), cluster and
    cluster name, to train on: the clusters a person fixed (``deepclust review``) unless ``original``, images set
    aside left out. ``FileExistsError`` when ``path`` exists and ``overwrite`` is false. Returns the number of images
    per cluster."""
    from ._atomic import write_csv

    run = RunFolder.open(run_dir, original=original)
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    if path.resolve().parent == run.path.resolve():
        raise ValueError(f"{path} is in the run folder, whose files are the run's own: write it elsewhere")
    rows = _exported(run)
    write_csv(path, ["path", "cluster", "name"], ([r["path"], r["cluster"], r.get("cluster_name", "")] for r in rows))
    counts: dict[int, int] = {}
    for r in rows:
        counts[int(r["cluster"])] = counts.get(int(r["cluster"]), 0) + 1
    return dict(sorted(counts.items()))


def _exported(run: RunFolder) -> list[dict]:
    """The rows an export holds: every image but those set aside in review (or left in no cluster)."""
    from .run import ASIDE

    return [r for r in run.rows if int(r["cluster"]) != ASIDE]


def _clusters_record(run: RunFolder) -> dict:
    """What an export records of the clusters it used, and of the images it left out."""
    from .run import ASIDE

    return {"clusters": run.clusters_read, "set_aside": sum(1 for r in run.rows if int(r["cluster"]) == ASIDE)}


#: Default largest Hamming distance (of 64 bits) between the perceptual hashes of two copies of one image; chosen
#: with ``benchmarks/duplicates_planted.py`` (results in ``benchmarks/results/duplicates_planted.md``).
HASH_DISTANCE = 10
#: Default cosine similarity of CNN features from which two images are near duplicates (same benchmark).
COSINE_THRESHOLD = 0.99
#: Images whose smaller side is under this many pixels are not hashed: the hash's 32 × 32 grey low frequencies of a
#: small image are mostly its silhouette (among the 5,000 distinct digits of MNIST-5k, 76,872 pairs are within 10
#: bits); the CNN cosine compares them.
HASH_MIN_SIDE = 64


@dataclass
class DuplicateGroup:
    """Images that are the same file (``exact``), copies of one picture by their perceptual hash (``perceptual``:
    resized, re-encoded, slightly edited), or alike to the CNN extractor (``near``: cosine ≥ threshold); a group
    connected only through both kinds of pair is ``perceptual+near``.

    ``similarity`` is the cosine similarity of the group's least similar pair (None where the features were not
    compared), ``hamming`` the largest Hamming distance between two of its perceptual hashes (None where not hashed).
    """

    kind: str
    paths: list[str]
    similarity: float | None
    hamming: int | None = None


def perceptual_hashes(source, *, min_side: int = HASH_MIN_SIDE, verbose: bool = False,
                      num_workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit perceptual hash (pHash: the signs of the low frequencies of the image's DCT, at 32 × 32 grey) of
    every readable image of ``source`` (an :class:`~deepclust.datasets.ImageFolder` or a uint8 array) whose smaller
    side is ``min_side`` pixels or more, and the indices of those images; unreadable and smaller images are left
    out. JPEG files are decoded at a reduced scale."""
    from .datasets import as_source

    hashes = as_source(source).map_images(_phash, mode="L", min_side=min_side, reduce_to=128, num_workers=num_workers,
                                          verbose=verbose, description="perceptual hashes")
    indices = np.array([i for i, h in enumerate(hashes) if h is not None], dtype=np.int64)
    return np.array([hashes[i] for i in indices], dtype=np.uint64), indices


def _phash(im) -> int:
    import imagehash

    bits = imagehash.phash(im).hash.ravel()
    return int(np.packbits(bits).view(">u8")[0])


def hamming_pairs(hashes: np.ndarray, max_distance: int, block_size: int = 2**24) -> np.ndarray:
    """Pairs ``(i, j, distance)`` (i < j, an ``(M, 3)`` int array) of 64-bit hashes at most ``max_distance`` bits
    apart, compared all against all in blocks of about ``block_size`` pairs (128 MiB of XORs)."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    found = []
    chunk = max(1, block_size // max(len(hashes), 1))
    for start in range(0, len(hashes), chunk):
        block = hashes[start:start + chunk]
        d = np.bitwise_count(block[:, None] ^ hashes[None, start:])
        i, j = np.nonzero(d <= max_distance)
        keep = j > i  # the block against itself and the rows after it: each pair once
        found.append(np.stack([i[keep] + start, j[keep] + start, d[i[keep], j[keep]]], axis=1))
    return np.concatenate(found).astype(np.int64) if found else np.zeros((0, 3), dtype=np.int64)


def cosine_pairs(features: np.ndarray, threshold: float) -> np.ndarray:
    """Pairs ``(i, j)`` (i < j) of rows of L2-normalised ``features`` whose cosine similarity is ``threshold`` or
    more."""
    from sklearn.neighbors import radius_neighbors_graph

    graph = radius_neighbors_graph(features, radius=float(np.sqrt(max(2 - 2 * threshold, 0.0))), mode="distance")
    graph = graph.tocoo()
    keep = graph.col > graph.row
    return np.stack([graph.row[keep], graph.col[keep]], axis=1).astype(np.int64)


@takes_runtime(verbose=False)
def find_duplicates(run_dir, threshold: float | None = COSINE_THRESHOLD, *,
                    hash_distance: int | None = HASH_DISTANCE, **runtime_settings) -> list[DuplicateGroup]:
    """Groups of duplicate images of a run: exact copies by file hash (folder runs); copies by perceptual hash
    (pHash within ``hash_distance`` bits: resized, re-encoded, lightly cropped or brightened copies); and near
    duplicates whose CNN features have cosine similarity ≥ ``threshold``. ``None`` turns either comparison off.

    Images under :data:`HASH_MIN_SIDE` pixels are not hashed (the run of a builtin data set of digits: none).
    Groups are connected through pairs of either kind. The defaults come from ``benchmarks/duplicates_planted.py``:
    the hash finds the JPEG re-encodes and half-size copies the cosine misses at 0.99 (0.984 for a quality-60
    re-encode), while lowering the cosine to 0.95 to catch them groups different crops of one photo. A low threshold
    chains unlike images together (on MNIST-5k: cosine 0.95 joins 1,206 digits in one group, 0.99 finds 3 pairs); a
    group's ``similarity`` (least similar pair) and ``hamming`` (farthest hashes) show such a chain.

    The features are those the run used when its input was ``features`` (read back through the feature cache under
    ``cache_dir``, so usually without extraction), else EfficientNet-Lite0's pooled features.

    Parameters
    ----------
    run_dir : the run folder.
    threshold : the cosine similarity from which two images are near duplicates (None: not compared).
    hash_distance : the largest Hamming distance of two perceptual copies (None: not compared).
    {runtime}
    """
    import hashlib

    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from .assign import feature_space

    if threshold is not None and not 0 < threshold <= 1:
        raise ValueError(f"the similarity threshold must be in (0, 1], got {threshold}")
    if hash_distance is not None and not 0 <= int(hash_distance) <= 64:
        raise ValueError(f"the hash distance must be 0 to 64 bits, got {hash_distance}")
    runtime = Runtime(**runtime_settings)
    run = RunFolder.open(run_dir)
    paths = [r["path"] for r in run.rows]
    source = run.source()
    groups: list[DuplicateGroup] = []
    if run.record.source.holds_vectors:  # vectors, and images that need not all exist: only the vectors are compared
        if hash_distance is not None:
            warnings.warn("a run on embeddings: near duplicates by its vectors only (exact and perceptual copies "
                          "need the images)", RuntimeWarning, stacklevel=2)
        hash_distance = None
    elif run.root is not None:
        by_hash: dict[str, list[str]] = {}
        for p in paths:
            by_hash.setdefault(hashlib.sha256((run.root / p).read_bytes()).hexdigest(), []).append(p)
        groups += [DuplicateGroup("exact", ps, 1.0, 0) for ps in by_hash.values() if len(ps) > 1]

    n = len(paths)
    edges = {}  # kind -> (M, 2) pairs of rows of the run
    hashes = features = None
    if hash_distance is not None:
        hashes_found, hashed = perceptual_hashes(source, verbose=runtime.verbose, num_workers=runtime.num_workers)
        hashes = dict(zip(hashed.tolist(), hashes_found.tolist()))
        pairs = hamming_pairs(hashes_found, int(hash_distance))
        edges["perceptual"] = hashed[pairs[:, :2]] if len(pairs) else np.zeros((0, 2), dtype=np.int64)
    if threshold is not None:
        with runtime.connected():
            prepared = feature_space(run.record, source, runtime=runtime)
        features = dict(zip(prepared.indices.tolist(), prepared.X))
        pairs = cosine_pairs(prepared.X, threshold)
        edges["near"] = prepared.indices[pairs] if len(pairs) else np.zeros((0, 2), dtype=np.int64)

    every = np.concatenate([e for e in edges.values()] + [np.zeros((0, 2), dtype=np.int64)])
    graph = coo_matrix((np.ones(len(every)), (every[:, 0], every[:, 1])), shape=(n, n))
    n_groups, member_of = connected_components(graph, directed=False)
    same_file = {p: i for i, g in enumerate(groups) for p in g.paths}
    for g in range(n_groups):
        members = np.flatnonzero(member_of == g)
        names = [paths[i] for i in members]
        if len(members) < 2 or len({same_file.get(p, p) for p in names}) < 2:
            continue  # one image, or copies of one file (already an exact group)
        kind = next((k for k in edges if _connects(edges[k], members)), "perceptual+near")
        groups.append(DuplicateGroup(kind, names, _least_similarity(features, members),
                                     _largest_hamming(hashes, members)))
    return groups


def _connects(pairs: np.ndarray, members: np.ndarray) -> bool:
    """Whether ``pairs`` alone (of rows) join all of ``members`` in one group."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = {int(m): k for k, m in enumerate(members)}
    inside = [(index[a], index[b]) for a, b in pairs.tolist() if a in index and b in index]
    if not inside:
        return False
    rows, cols = np.array(inside).T
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(members), len(members)))
    return connected_components(graph, directed=False)[0] == 1


def _least_similarity(features: dict | None, members: np.ndarray) -> float | None:
    if features is None or any(int(m) not in features for m in members):
        return None
    F = np.stack([features[int(m)] for m in members])
    sims = F @ F.T
    return round(float(sims[np.triu_indices(len(members), 1)].min()), 4)


def _largest_hamming(hashes: dict | None, members: np.ndarray) -> int | None:
    if hashes is None or any(int(m) not in hashes for m in members):
        return None
    h = np.array([hashes[int(m)] for m in members], dtype=np.uint64)
    return int(np.bitwise_count(h[:, None] ^ h[None, :]).max())
