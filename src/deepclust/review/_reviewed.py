"""A run's clusters as a person fixed them: the run as clustered, replayed with its edit log (rename, merge, split,
move, set aside, undo, redo). The run's own files are never changed; each edit is on disk before it counts."""

from __future__ import annotations

import os

import numpy as np

from ..run import REVIEW_FILE, RunFolder
from ._log import append_edit, read_log

#: The cluster of images set aside ("not any of these").
ASIDE = -1
#: The edits a log holds, each with the fields it needs.
OPS = {"rename": ("cluster", "name"), "merge": ("clusters", "into"), "split": ("cluster", "parts"),
       "move": ("rows", "to"), "aside": ("rows",), "undo": (), "redo": ()}


class ReviewedRun:
    """The clusters of the run in ``run_dir`` with the edits of its review log applied. ``labels`` (one per row of
    assignments.csv; :data:`ASIDE` for images set aside) and ``names`` (a person's name per cluster) are the fixed
    clusters; :meth:`apply` adds an edit, :meth:`undo` and :meth:`redo` step through them. Another writer's edits
    (another page on the same run) are read before each new one.

    Examples
    --------
    >>> review = ReviewedRun.open("runs/photos")  # doctest: +SKIP
    >>> review.apply({"op": "merge", "clusters": [3, 5], "into": 3})  # doctest: +SKIP
    >>> review.apply({"op": "rename", "cluster": 3, "name": "cats"})  # doctest: +SKIP
    >>> review.undo()  # doctest: +SKIP
    """

    def __init__(self, run: RunFolder):
        self.run = run
        self.log_path = run.path / REVIEW_FILE
        self._original = run.labels()
        self.reload()

    @classmethod
    def open(cls, run_dir: str | os.PathLike) -> ReviewedRun:
        return cls(RunFolder.open(run_dir))

    @property
    def read_only(self) -> bool:
        """Whether edits cannot be written (the run folder, or its log, is read-only)."""
        return not os.access(self.run.path, os.W_OK) or (self.log_path.exists() and
                                                           not os.access(self.log_path, os.W_OK))

    def reload(self) -> None:
        """Read the log again and replay it over the run as clustered."""
        self.edits, self._lines = read_log(self.log_path)
        self.labels, self.names, self._done, self._undone = replay(self._original, self.edits)

    @property
    def done(self) -> list[dict]:
        """The edits in effect, oldest first (undone ones left out)."""
        return list(self._done)

    def apply(self, edit: dict) -> dict:
        """Check ``edit`` against the clusters as they are now, write it to the log (on disk before this returns)
        and apply it; returns it as logged. ``ValueError`` that says what is wrong with it."""
        for _ in range(3):  # another page may append in between: read, check, append
            self.reload()
            check_edit(edit, self.labels)
            try:
                logged = append_edit(self.log_path, edit, self._lines)
            except ValueError:
                continue
            self.reload()
            return logged
        raise RuntimeError("the review log kept changing while this edit was written: try again")

    def undo(self) -> dict | None:
        """Undo the last edit in effect (None when there is none)."""
        self.reload()
        return self.apply({"op": "undo"}) if self._done else None

    def redo(self) -> dict | None:
        """Redo the last undone edit (None when there is none)."""
        self.reload()
        return self.apply({"op": "redo"}) if self._undone else None

    def propose_split(self, cluster: int, n: int, random_state: int = 0) -> list[list[int]]:
        """The rows of ``cluster`` divided into ``n`` parts by k-means on their embedding (the run's clustering
        space), to show before applying ``{"op": "split", "cluster": cluster, "parts": ...}``."""
        from sklearn.cluster import KMeans

        rows = np.flatnonzero(self.labels == cluster)
        if not 2 <= n <= len(rows):
            raise ValueError(f"cluster {cluster} has {len(rows)} image(s): it splits into 2 to {len(rows)} parts, "
                             f"not {n}")
        parts = KMeans(n, n_init=10, random_state=random_state).fit_predict(self.run.embedding[rows])
        return [rows[parts == p].tolist() for p in range(n)]

    def cluster_sizes(self) -> dict[int, int]:
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts)}


def check_edit(edit: dict, labels: np.ndarray) -> None:
    """``ValueError`` naming what is wrong with ``edit`` for clusters ``labels``."""
    op = edit.get("op")
    if op not in OPS:
        raise ValueError(f"unknown edit {op!r}: use one of {', '.join(OPS)}")
    missing = [f for f in OPS[op] if f not in edit]
    if missing:
        raise ValueError(f"the {op} edit needs {', '.join(missing)}")
    clusters = set(np.unique(labels).tolist()) - {ASIDE}
    n = len(labels)

    def known(c):
        if not isinstance(c, int) or c not in clusters:
            raise ValueError(f"there is no cluster {c!r}")

    def rows_of(rows):
        if not rows or any(not isinstance(r, int) or not 0 <= r < n for r in rows):
            raise ValueError(f"rows must be image numbers from 0 to {n - 1}")
    if op == "rename":
        known(edit["cluster"])
        if not str(edit["name"]).strip():
            raise ValueError("a cluster's name cannot be empty")
    elif op == "merge":
        for c in edit["clusters"]:
            known(c)
        if len(set(edit["clusters"])) < 2 or edit["into"] not in edit["clusters"]:
            raise ValueError("merge two clusters or more, into one of them")
    elif op == "split":
        known(edit["cluster"])
        members = set(np.flatnonzero(labels == edit["cluster"]).tolist())
        parts = [list(p) for p in edit["parts"]]
        if len(parts) < 2 or any(not p for p in parts) or sorted(r for p in parts for r in p) != sorted(members):
            raise ValueError(f"a split's parts must divide cluster {edit['cluster']}'s images into two or more")
    elif op in ("move", "aside"):
        rows_of(edit["rows"])
        if op == "move" and edit["to"] is not None:
            known(edit["to"])


def replay(original: np.ndarray, edits: list[dict]):
    """The labels and names after ``edits`` (undo and redo included) over the run's ``original`` labels, and the
    edits in effect and those undone (to redo)."""
    done: list[dict] = []
    undone: list[dict] = []
    for edit in edits:
        if edit["op"] == "undo":
            if done:
                undone.append(done.pop())
        elif edit["op"] == "redo":
            if undone:
                done.append(undone.pop())
        else:
            done.append(edit)
            undone.clear()
    labels = np.array(original, dtype=np.int64)
    names: dict[int, str] = {}
    numbers = iter(range(int(labels.max()) + 1 if len(labels) else 0, 2**62))  # new clusters: numbers never used
    for edit in done:
        _apply(edit, labels, names, numbers)
    return labels, names, done, undone


def _apply(edit: dict, labels: np.ndarray, names: dict, numbers) -> None:
    op = edit["op"]
    if op == "rename":
        names[int(edit["cluster"])] = str(edit["name"]).strip()
    elif op == "merge":
        into = int(edit["into"])
        for c in edit["clusters"]:
            if c != into:
                labels[labels == c] = into
                names.pop(int(c), None)
    elif op == "split":
        for part in edit["parts"][1:]:  # the first part keeps the cluster's number and name
            labels[np.asarray(part, dtype=np.int64)] = next(numbers)
    elif op == "move":
        labels[np.asarray(edit["rows"], dtype=np.int64)] = next(numbers) if edit["to"] is None else int(edit["to"])
    elif op == "aside":
        labels[np.asarray(edit["rows"], dtype=np.int64)] = ASIDE
