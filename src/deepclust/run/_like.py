"""Clustering again with the numbers of an earlier run (``deepclust cluster NEW --like RUN``): images were added or
removed, and the clusters that are still there keep their numbers and names, so that a user's notes and links to
"cluster 4" stay true. The match is :func:`~deepclust.run.match_clusters` on the images both runs clustered."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from ..methods import NO_CLUSTER
from ._compare import match_clusters
from ._folder import RunFolder

#: A new cluster keeps an earlier number only when at least this share of its images that the earlier run also
#: clustered were in that earlier cluster: a cluster that took a few images of an old one is not that cluster.
MIN_KEPT_SHARE = 0.5


def keep_numbers(run, earlier: str | os.PathLike | RunFolder):
    """``run`` (a :class:`~deepclust.run.ClusterRun`) renumbered like the run folder ``earlier``: each cluster that
    matches an earlier cluster (one to one on the shared images, keeping at least :data:`MIN_KEPT_SHARE` of its
    shared images there) takes its number and, when both runs have cluster names, its names; the other clusters get
    numbers after the earlier run's largest, in their own order. Images in no cluster (-1) stay in none, and none
    is no cluster to match: clusters are matched on the images both runs put in clusters, and those of a new
    cluster that were in none before count against its keeping a number. ``params["like"]`` records the earlier
    run and the renumbering, which ``assign`` applies to the saved model's predictions. The earlier run is read with
    the clusters a person fixed (``deepclust review``): their numbers are matched, and the names given to kept
    clusters (``given_names``) become the new run's first edits (its review.jsonl, written with the folder).
    ``ValueError`` when the runs share no image."""
    earlier = earlier if isinstance(earlier, RunFolder) else RunFolder.open(earlier)
    before = {r["path"]: int(r["cluster"]) for r in earlier.rows}
    shared = [i for i, p in enumerate(run.paths) if p in before]
    if not shared:
        raise ValueError(f"the run shares no image with {earlier.path} (paths are compared relative to the input "
                         f"folder), so there are no clusters to keep")
    labels = np.asarray(run.labels)
    old = np.array([before[run.paths[i]] for i in shared])
    now = labels[shared]
    both = (old != NO_CLUSTER) & (now != NO_CLUSTER)  # in no cluster is no cluster to match, in either run
    matched = match_clusters(old[both], now[both]) if both.any() else {}
    mapping = {}
    for c in np.unique(labels).tolist():
        partner = matched.get(c)
        if partner is not None and np.mean(old[now == c] == partner) >= MIN_KEPT_SHARE:
            mapping[c] = int(partner)
    kept = set(mapping)
    # never a number used before, kept or not, in this run's line of earlier runs: it meant other images then
    following = max(max(before.values()) + 1, int((earlier.record.like or {}).get("next_number", 0)))
    for c in np.unique(labels).tolist():
        if c not in mapping and c != NO_CLUSTER:
            mapping[c], following = following, following + 1
    names = run.cluster_names
    if names is not None:
        earlier_names = earlier.record.names or {}
        names = {mapping.get(c, NO_CLUSTER): earlier_names.get(mapping[c], v) if c in kept else v
                 for c, v in names.items()}
    given = earlier.review.names if earlier.review is not None else {}  # names a person gave in review
    params = dict(run.params, like={"run": str(earlier.path.resolve()), "n_shared": len(shared),
                                    "kept": sorted(mapping[c] for c in kept),
                                    "new": sorted(mapping[c] for c in mapping if c not in kept),
                                    "renumbered": {str(c): n for c, n in mapping.items()},
                                    "next_number": following,
                                    "given_names": {str(mapping[c]): given[mapping[c]] for c in sorted(kept)
                                                    if mapping[c] in given}})
    new_labels = np.array([mapping.get(int(c), NO_CLUSTER) for c in labels], dtype=labels.dtype)  # -1 keeps -1
    return dataclasses.replace(run, labels=new_labels, cluster_names=names, params=params)


def renumbered(params: dict, labels: np.ndarray) -> np.ndarray:
    """Labels that a run's saved model predicts, in the run's numbers (those of ``--like``, when it was given)."""
    mapping = (params.get("like") or {}).get("renumbered")
    if not mapping:
        return labels
    return np.array([mapping.get(str(int(c)), int(c)) for c in labels], dtype=np.int64)
