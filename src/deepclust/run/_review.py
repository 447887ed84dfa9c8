"""The review log: a person's edits of a run's clusters, one JSON object a line in the run folder
(``review.jsonl``), appended under a lock and flushed to disk before an edit counts as done, and replayed over the
run as clustered to give the fixed clusters (what every command reads, :meth:`RunFolder.open
<deepclust.run.RunFolder.open>`). The run's own files are never touched. A line torn by a crash (the process killed
while writing) is reported and skipped; every other line is kept, in order. Editing is ``deepclust.review``'s."""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..methods import NO_CLUSTER

#: The log's file in the run folder.
REVIEW_FILE = "review.jsonl"
#: The cluster of images set aside ("not any of these"): the one a density method leaves images in no cluster.
ASIDE = NO_CLUSTER
#: The edits a log holds, each with the fields it needs.
OPS = {"rename": ("cluster", "name"), "merge": ("clusters", "into"), "split": ("cluster", "parts"),
       "move": ("rows", "to"), "aside": ("rows",), "undo": (), "redo": ()}


class ReadOnlyRunError(PermissionError):
    """The run folder cannot be written: its clusters can be looked at, not edited."""


def read_log(path: Path) -> tuple[list[dict], int]:
    """Every complete edit of the log at ``path``, in order (none when there is no log), and the number of its
    non-empty lines (what :func:`append_edit` checks); a line that is not one JSON object (a write torn by a crash)
    is skipped with a warning that names it."""
    if not path.is_file():
        return [], 0
    edits, lines = [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        lines += 1
        try:
            edit = json.loads(line)
        except json.JSONDecodeError:
            edit = None
        if not isinstance(edit, dict) or "op" not in edit:
            warnings.warn(f"{path.name}, line {number}: not a complete edit (a write cut short?); skipped, the "
                          f"other edits kept", RuntimeWarning, stacklevel=3)
            continue
        edits.append(edit)
    return edits, lines


def append_edit(path: Path, edit: dict, expected: int) -> dict:
    """Append ``edit`` to the log at ``path``, which had ``expected`` non-empty lines when it was read, flushed and
    synced to disk before returning it (with its number and time). ``ValueError`` when another writer has appended
    since (the caller reads again and retries); :class:`ReadOnlyRunError` when the folder is read-only."""
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ReadOnlyRunError(f"{path.parent} is read-only: its clusters can be looked at, not edited")
    stamped = {**edit, "seq": expected + 1,  # its line's number
               "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    line = json.dumps(stamped, ensure_ascii=False, separators=(",", ":")) + "\n"
    with open(path, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # one writer at a time (two pages on the same run)
        try:
            f.seek(0)
            text = f.read()
            if len([ln for ln in text.splitlines() if ln.strip()]) != expected:
                raise ValueError("the review log changed since it was read: read it again")
            f.write(("\n" if text and not text.endswith("\n") else "") + line)  # a torn last line stays apart
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    return stamped


@dataclass(frozen=True)
class Replayed:
    """The fixed clusters: ``labels`` (one per row of assignments.csv, :data:`ASIDE` for images set aside) and the
    person's ``names`` per cluster, after the edits ``done`` (those ``undone`` can be redone)."""

    labels: np.ndarray
    names: dict[int, str]
    done: list[dict]
    undone: list[dict]
    next_number: int = 0  # the number the next new cluster gets

    def then(self, edit: dict) -> Replayed:
        """The fixed clusters after one more edit (not an undo or redo), without replaying the others."""
        labels, names = self.labels.copy(), dict(self.names)
        numbers = iter(range(self.next_number, 2**62))
        _apply(edit, labels, names, numbers)
        return Replayed(labels, names, [*self.done, edit], [], next(numbers))

    def describe(self) -> str:
        """``3 edits (review.jsonl)``: what a command says when it reads the fixed clusters."""
        return f"{len(self.done)} edit{'s' if len(self.done) != 1 else ''} ({REVIEW_FILE})"


def changed_clusters(original: np.ndarray, labels: np.ndarray) -> set[int]:
    """The clusters of ``labels`` or ``original`` whose members differ between them (new ones included)."""
    moved = labels != original
    return set(np.unique(labels[moved]).tolist()) | set(np.unique(original[moved]).tolist())


def replay(original: np.ndarray, edits: list[dict]) -> Replayed:
    """The fixed clusters after ``edits`` (undo and redo included) over the run's ``original`` labels."""
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
    return Replayed(labels, names, done, undone, next(numbers))


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
