"""Two runs of the same images side by side: which cluster of one is which cluster of the other, how much they
agree, and which images changed cluster.

Cluster numbers are arbitrary: run B's cluster 3 may be run A's cluster 7. So B's clusters are first matched one to
one to A's, keeping as many shared images together as possible (the Hungarian method on the counts of shared images,
as clustering accuracy matches clusters to classes), and an image has *moved* when its cluster in B is not the one
matched to its cluster in A. ARI and NMI need no matching: they do not depend on the numbers at all."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics.cluster import contingency_matrix

from .._atomic import write_csv, write_json
from .._version import __version__
from ..metrics import ari_score, nmi_score
from ..report import write_compare_page
from ._folder import RunFolder

#: The record of a compare folder; it marks the folder as one that ``overwrite`` may replace.
COMPARISON_FILE = "comparison.json"
MOVED_FILE = "moved.csv"
COMPARE_PAGE = "compare.html"


def match_clusters(labels_a, labels_b) -> dict:
    """Match the clusters of B to those of A one to one, keeping the most images together.

    Parameters
    ----------
    labels_a, labels_b : the clusters of the same images (one per image, in the same order) in run A and in run B;
        ids of one sortable type (ints or strings).

    Returns
    -------
    dict : each cluster of B → its partner in A, or None when it has none (B has more clusters than A, or it shares
        no image with the cluster left to it). Renumbering B by it keeps A's numbers for the same groups of images.

    Examples
    --------
    >>> match_clusters([0, 0, 1, 1, 2], [5, 5, 3, 3, 3])
    {3: 1, 5: 0}
    """
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    if labels_a.shape != labels_b.shape or labels_a.ndim != 1:
        raise ValueError(f"labels must be 1-D and of equal length, got {labels_a.shape} and {labels_b.shape}")
    ids_a, ids_b = np.unique(labels_a).tolist(), np.unique(labels_b).tolist()
    counts = contingency_matrix(labels_a, labels_b)  # rows and columns in the sorted order of np.unique
    match = dict.fromkeys(ids_b)
    for i, j in zip(*linear_sum_assignment(counts, maximize=True)):
        if counts[i, j]:  # a pair that shares no image is no match, only what is left over
            match[ids_b[j]] = ids_a[i]
    return match


@dataclass
class MovedImage:
    """An image whose cluster in B is not the partner of its cluster in A (``matched_b``: that partner, None when
    A's cluster has none); ``row_a``: its row in A's assignments.csv (where A's pictures of it are)."""

    path: str
    cluster_a: int
    cluster_b: int
    matched_b: int | None
    row_a: int | None = None


@dataclass
class ClusterFlow:
    """Where the shared images of one cluster of A went in B: ``kept`` of its ``n_shared`` stayed in its partner
    ``matched_b``; ``outflows`` are the largest other clusters of B they went to, as ``(cluster, count)``."""

    cluster_a: int
    n_shared: int
    matched_b: int | None
    kept: int
    outflows: list[tuple[int, int]]

    @property
    def n_moved(self) -> int:
        return self.n_shared - self.kept


@dataclass
class RunComparison:
    """Run A against run B on the images both clustered (matched by their paths as the runs name them).

    Attributes
    ----------
    run_a, run_b : the two run folders.
    n_shared : images in both runs; ``only_in_a``, ``only_in_b``: the paths of the others.
    ari, nmi : agreement of the two clusterings on the shared images (1: the same partition).
    match : each cluster of A → its partner in B (:func:`match_clusters`), None when it has none;
        ``unmatched_b``: B's clusters with no partner in A.
    clusters_a, clusters_b : every cluster id of each run, sorted: the rows and columns of ``flows``.
    flows : ``(len(clusters_a), len(clusters_b))`` counts of shared images in cluster i of A and j of B; it sums
        to ``n_shared``.
    moved : the shared images not in the partner of their cluster of A, in A's order.
    notes : what to know before trusting the comparison (e.g. the runs clustered different sources).
    """

    run_a: Path
    run_b: Path
    n_shared: int
    only_in_a: list[str]
    only_in_b: list[str]
    ari: float
    nmi: float
    match: dict[int, int | None]
    unmatched_b: list[int]
    clusters_a: list[int]
    clusters_b: list[int]
    flows: np.ndarray
    moved: list[MovedImage]
    notes: list[str] = field(default_factory=list)

    @property
    def n_moved(self) -> int:
        return len(self.moved)

    def cluster_flows(self, top: int = 3) -> list[ClusterFlow]:
        """One :class:`ClusterFlow` per cluster of A, with its ``top`` largest outflows."""
        col = {c: j for j, c in enumerate(self.clusters_b)}
        result = []
        for i, a in enumerate(self.clusters_a):
            row, partner = self.flows[i], self.match.get(a)
            kept = int(row[col[partner]]) if partner is not None else 0
            out = [(self.clusters_b[j], int(row[j])) for j in np.argsort(-row, kind="stable")
                   if row[j] and self.clusters_b[j] != partner][:top]
            result.append(ClusterFlow(a, int(row.sum()), partner, kept, out))
        return result

    def to_dict(self) -> dict:
        """What comparison.json holds: the runs, counts, scores, the match and the flow matrix."""
        return {"deepclust_version": __version__, "run_a": str(self.run_a.resolve()),
                "run_b": str(self.run_b.resolve()), "n_shared": self.n_shared, "n_only_in_a": len(self.only_in_a),
                "n_only_in_b": len(self.only_in_b), "n_moved": self.n_moved, "ari": self.ari, "nmi": self.nmi,
                "match": {str(a): b for a, b in self.match.items()}, "unmatched_b": self.unmatched_b,
                "clusters_a": self.clusters_a, "clusters_b": self.clusters_b, "flows": self.flows.tolist(),
                "only_in_a_examples": self.only_in_a[:10], "only_in_b_examples": self.only_in_b[:10],
                "notes": self.notes, "moved_csv": MOVED_FILE, "page": COMPARE_PAGE}

    def save(self, out: str | os.PathLike) -> Path:
        """Write ``out/moved.csv`` (path, cluster_a, cluster_b, matched_b), ``out/comparison.json`` (see
        :meth:`to_dict`) and ``out/compare.html``; returns ``out``. Check ``out`` first with
        :func:`~deepclust._outputs.check_output_dir` (marker ``comparison.json``)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / MOVED_FILE, ["path", "cluster_a", "cluster_b", "matched_b"],
                  ([m.path, m.cluster_a, m.cluster_b, "" if m.matched_b is None else m.matched_b]
                   for m in self.moved))
        write_compare_page(self, out / COMPARE_PAGE)
        write_json(out / COMPARISON_FILE, self.to_dict())  # last: the marker says the folder is complete
        return out


def compare_runs(run_a: str | os.PathLike | RunFolder, run_b: str | os.PathLike | RunFolder, *,
                 original: bool = False) -> RunComparison:
    """Compare two run folders on the images both clustered: agreement, the one-to-one match of their clusters,
    the flows between clusters and the images that moved. A run a person fixed (``deepclust review``) is compared
    with its fixed clusters (a note says so), unless ``original``; images set aside are a group of their own.

    Raises :class:`~deepclust.run.NotARunFolderError` for a folder that is no run, ``ValueError`` when the runs
    share no image.

    Examples
    --------
    >>> result = compare_runs("runs/photos", "runs/photos-2")  # doctest: +SKIP
    >>> result.ari, result.n_moved, result.match  # doctest: +SKIP
    >>> result.save("runs/photos-vs-photos-2")  # doctest: +SKIP
    """
    a = run_a if isinstance(run_a, RunFolder) else RunFolder.open(run_a, original=original)
    b = run_b if isinstance(run_b, RunFolder) else RunFolder.open(run_b, original=original)

    in_a = {r["path"]: int(r["cluster"]) for r in a.rows}
    in_b = {r["path"]: int(r["cluster"]) for r in b.rows}
    shared = [p for p in in_a if p in in_b]
    if not shared:
        raise ValueError(f"the runs {a.path} and {b.path} share no image (images are matched by their paths in "
                         f"assignments.csv, e.g. {_example(in_a)} and {_example(in_b)}); compare two runs of the "
                         f"same images")
    labels_a = np.array([in_a[p] for p in shared])
    labels_b = np.array([in_b[p] for p in shared])
    match_b = match_clusters(labels_a, labels_b)
    clusters_a, clusters_b = sorted(set(in_a.values())), sorted(set(in_b.values()))
    match = dict.fromkeys(clusters_a)
    match.update({ca: cb for cb, ca in match_b.items() if ca is not None})
    row, col = {c: i for i, c in enumerate(clusters_a)}, {c: j for j, c in enumerate(clusters_b)}
    flows = np.zeros((len(clusters_a), len(clusters_b)), dtype=np.int64)
    np.add.at(flows, ([row[c] for c in labels_a], [col[c] for c in labels_b]), 1)
    row_a = {r["path"]: i for i, r in enumerate(a.rows)}
    moved = [MovedImage(p, int(ca), int(cb), match[ca], row_a[p]) for p, ca, cb in zip(shared, labels_a, labels_b)
             if match[ca] != cb]
    return RunComparison(
        run_a=a.path, run_b=b.path, n_shared=len(shared), only_in_a=[p for p in in_a if p not in in_b],
        only_in_b=[p for p in in_b if p not in in_a], ari=ari_score(labels_a, labels_b),
        nmi=nmi_score(labels_a, labels_b), match=match,
        unmatched_b=[cb for cb in clusters_b if match_b.get(cb) is None], clusters_a=clusters_a,
        clusters_b=clusters_b, flows=flows, moved=moved,
        notes=_source_notes(a.record.source, b.record.source) + [
            f"{name}'s clusters are {run.clusters_read}; --original for the run as clustered"
            for name, run in (("A", a), ("B", b)) if run.review is not None])


def _example(paths: dict) -> str:
    return repr(next(iter(paths))) if paths else "none"


def _source_notes(a, b) -> list[str]:
    """A note when the runs name different sources: their images then share names, not necessarily pixels."""
    sources = [_source_name(source) for source in (a, b)]
    if None in sources or sources[0] == sources[1]:
        return []
    return [f"the runs clustered different sources ({sources[0]} and {sources[1]}): images are matched by their "
            f"paths only"]


def _source_name(source) -> str | None:
    """The folder, data set or file a run clustered (a :class:`~deepclust.run.SourceRecord`); None for an array
    given from Python (it has no name)."""
    if source.root:
        return str(source.root)
    if source.dataset:
        return f"data set {source.dataset} ({source.split or 'all'})"
    return source.file
