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


def _lines(data: bytes) -> list[bytes]:
    """The log's non-empty lines: split at ``\n`` only (a name may hold any character; lines are ASCII)."""
    return [line for line in data.split(b"\n") if line.strip()]


def read_log(path: Path) -> tuple[list[dict], int]:
    """Every complete edit of the log at ``path``, in order (none when there is no log), and the number of its
    non-empty lines (what :func:`append_edit` checks); a line that is not one JSON object (a write torn by a crash,
    even inside a character) is skipped with a warning that names it."""
    if not path.is_file():
        return [], 0
    edits, lines = [], _lines(path.read_bytes())
    for number, line in enumerate(lines, 1):
        try:
            edit = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            edit = None
        if not isinstance(edit, dict) or "op" not in edit:
            warnings.warn(f"{path.name}, line {number}: not a complete edit (a write cut short?); skipped, the "
                          f"other edits kept", RuntimeWarning, stacklevel=3)
            continue
        edits.append(edit)
    return edits, len(lines)


def append_edit(path: Path, edit: dict, expected: int) -> dict:
    """Append ``edit`` to the log at ``path``, which had ``expected`` non-empty lines when it was read, flushed and
    synced to disk before returning it (with its number and time). ``ValueError`` when another writer has appended
    since (the caller reads again and retries); :class:`ReadOnlyRunError` when the folder is read-only."""
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ReadOnlyRunError(f"{path.parent} is read-only: its clusters can be looked at, not edited")
    stamped = {**edit, "seq": expected + 1,  # its line's number
               "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    # ASCII (names escaped): no character of a name can end a line or be torn into bytes that read back as text
    line = (json.dumps(stamped, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # one writer at a time (two pages on the same run)
        try:
            f.seek(0)
            data = f.read()
            if len(_lines(data)) != expected:
                raise ValueError("the review log changed since it was read: read it again")
            f.write((b"\n" if data and not data.endswith(b"\n") else b"") + line)  # a torn last line stays apart
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    return stamped


def as_edit(edit: dict) -> dict:
    """``edit`` as the log keeps it: its op and that op's fields only, numbers as plain whole numbers (NumPy's
    integers taken, ``True``, ``1.0`` or ``"1"`` refused: ``ValueError`` that names the field); what the numbers
    refer to is :func:`check_edit`'s."""
    op = edit.get("op")
    if op not in OPS:
        raise ValueError(f"unknown edit {op!r}: use one of {', '.join(OPS)}")
    missing = [f for f in OPS[op] if f not in edit]
    if missing:
        raise ValueError(f"the {op} edit needs {', '.join(missing)}")

    def numbers(values, field: str) -> list[int]:
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise ValueError(f"{field} must be a list of whole numbers")
        return [whole_number(v, field) for v in values]

    out: dict = {"op": op}
    for field in OPS[op]:
        value = edit[field]
        if field == "name":
            if not isinstance(value, str):
                raise ValueError("a cluster's name is text")
            out[field] = value
        elif field in ("clusters", "rows"):
            out[field] = numbers(value, field)
        elif field == "parts":
            if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
                raise ValueError("parts must be lists of image numbers")
            out[field] = [numbers(part, "parts") for part in value]
        else:  # cluster, into, to (None: a new cluster)
            out[field] = None if field == "to" and value is None else whole_number(value, field)
    return out


def check_edit(edit: dict, labels: np.ndarray) -> None:
    """``ValueError`` naming what is wrong with ``edit`` (as :func:`as_edit` gives it) for clusters ``labels``."""
    op = edit["op"]
    clusters = set(np.unique(labels).tolist()) - {ASIDE}
    n = len(labels)

    def known(c):
        if c not in clusters:
            raise ValueError(f"there is no cluster {c!r}")

    def rows_of(rows):
        if not rows or any(not 0 <= r < n for r in rows):
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
        parts = edit["parts"]
        if len(parts) < 2 or any(not p for p in parts) or sorted(r for p in parts for r in p) != sorted(members):
            raise ValueError(f"a split's parts must divide cluster {edit['cluster']}'s images into two or more")
    elif op in ("move", "aside"):
        rows_of(edit["rows"])
        if op == "move" and edit["to"] is not None:
            known(edit["to"])


def whole_number(value, field: str) -> int:
    """``value`` as a plain int (NumPy's integers taken; ``True``, ``1.0`` and ``"1"`` refused: ``ValueError``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{field} must be whole numbers, not {value!r}")
    return int(value)


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
    kept = []
    for edit in done:
        try:  # an edit that no longer fits (the log copied beside another run, edited by hand): said, not applied
            edit = as_edit(edit) | {k: edit[k] for k in ("seq", "time") if k in edit}
            check_edit(edit, labels)
        except ValueError as exc:
            warnings.warn(f"{REVIEW_FILE}, edit {edit.get('seq', '?')} ({edit.get('op')}): {exc}; skipped, the other "
                          f"edits kept", RuntimeWarning, stacklevel=2)
            continue
        _apply(edit, labels, names, numbers)
        kept.append(edit)
    return Replayed(labels, names, kept, undone, next(numbers))


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
