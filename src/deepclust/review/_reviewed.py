"""A run's clusters as a person fixed them: the run as clustered, replayed with its edit log (rename, merge, split,
move, set aside, undo, redo). The run's own files are never changed; each edit is on disk before it counts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..run import ASIDE, REVIEW_FILE, RunFolder, append_edit, as_edit, check_edit, read_log, replay


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
        self._original = run.original_labels()
        self.reload()

    @classmethod
    def open(cls, run_dir: str | os.PathLike) -> ReviewedRun:
        return cls(RunFolder.open(run_dir, original=True))

    @property
    def read_only(self) -> bool:
        """Whether edits cannot be written (the run folder, or its log, is read-only)."""
        return not os.access(self.run.path, os.W_OK) or (self.log_path.exists() and
                                                           not os.access(self.log_path, os.W_OK))

    def reload(self) -> None:
        """Read the log again and replay it over the run as clustered."""
        self._stamp = self._log_stamp()
        self.edits, self._lines = read_log(self.log_path)
        self.fixed = replay(self._original, self.edits)

    def refresh(self) -> bool:
        """Read the log again only when it changed on disk since (another page's edit); whether it did."""
        if self._log_stamp() == self._stamp:
            return False
        self.reload()
        return True

    def _log_stamp(self) -> tuple | None:
        try:
            stat = self.log_path.stat()
        except FileNotFoundError:
            return None
        return stat.st_size, stat.st_mtime_ns, stat.st_ino

    @property
    def labels(self) -> np.ndarray:
        """Each image's fixed cluster (:data:`ASIDE` when set aside), one per row of assignments.csv."""
        return self.fixed.labels

    @property
    def names(self) -> dict[int, str]:
        """The names the person gave (see :meth:`cluster_names` for every cluster's)."""
        return self.fixed.names

    @property
    def version(self) -> int:
        """The log's number of lines: it grows with every edit, undo and redo, from any page."""
        return self._lines

    @property
    def done(self) -> list[dict]:
        """The edits in effect, oldest first (undone ones left out)."""
        return list(self.fixed.done)

    @property
    def can_redo(self) -> bool:
        return bool(self.fixed.undone)

    def cluster_names(self) -> dict[int, str]:
        """Every named cluster's name: the person's, else the run's while the cluster is there."""
        return self.run.fixed_names(self.fixed)

    def placement(self) -> tuple[np.ndarray, np.ndarray]:
        """Each image's distance to its fixed cluster's centre, and its confidence (see
        :meth:`RunFolder.placement <deepclust.run.RunFolder.placement>`)."""
        return self.run.placement(self.labels)

    def export_log(self, path: str | os.PathLike) -> Path:
        """The edits in effect, and the clusters they give, as a small JSON file at ``path`` for other tools."""
        from .._atomic import write_json

        ids, counts = np.unique(self.labels, return_counts=True)
        names = self.cluster_names()
        write_json(Path(path), {
            "run": str(self.run.path.resolve()), "log": REVIEW_FILE, "edits": self.done,
            "clusters": [{"cluster": int(c), "name": names.get(int(c), ""), "size": int(n)}
                         for c, n in zip(ids, counts)],
            "set_aside_cluster": ASIDE})
        return Path(path)

    def apply(self, edit: dict) -> dict:
        """Check ``edit`` against the clusters as they are now, write it to the log (on disk before this returns)
        and apply it; returns it as logged. ``ValueError`` that says what is wrong with it."""
        edit = as_edit(edit)
        for _ in range(3):  # another page may append in between: read, check, append
            self.refresh()
            if edit["op"] not in ("undo", "redo"):
                check_edit(edit, self.labels)
            try:
                logged = append_edit(self.log_path, edit, self._lines)
            except ValueError:
                self.reload()
                continue
            if edit["op"] in ("undo", "redo"):
                self.reload()
            else:  # one edit more: applied on top, not the whole log replayed (an edit stays fast at 1,000 edits)
                self.edits.append(logged)
                self._lines += 1
                self.fixed = self.fixed.then(logged)
                self._stamp = self._log_stamp()
            return logged
        raise RuntimeError("the review log kept changing while this edit was written: try again")

    def undo(self) -> dict | None:
        """Undo the last edit in effect (None when there is none)."""
        self.refresh()
        return self.apply({"op": "undo"}) if self.fixed.done else None

    def redo(self) -> dict | None:
        """Redo the last undone edit (None when there is none)."""
        self.refresh()
        return self.apply({"op": "redo"}) if self.fixed.undone else None

    def propose_split(self, cluster: int, n: int, random_state: int = 0) -> list[list[int]]:
        """The rows of ``cluster`` divided into ``n`` parts by k-means on their embedding (the run's clustering
        space), to show before applying ``{"op": "split", "cluster": cluster, "parts": ...}``."""
        from sklearn.cluster import KMeans

        rows = np.flatnonzero(self.labels == cluster)
        if not 2 <= n <= len(rows):
            raise ValueError(f"cluster {cluster} has {len(rows)} image(s): it splits into 2 to {len(rows)} parts, "
                             f"not {n}")
        # 3 starts, not 10: a proposal the person looks at before applying, in a fraction of a second at 7,000 images
        parts = KMeans(n, n_init=3, random_state=random_state).fit_predict(self.run.embedding[rows])
        return [rows[parts == p].tolist() for p in range(n)]

    def cluster_sizes(self) -> dict[int, int]:
        """Images per fixed cluster (:data:`ASIDE` included when some are set aside)."""
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts)}
