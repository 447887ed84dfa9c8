"""The edit log of a reviewed run: one JSON object a line in the run folder (``review.jsonl``), appended under a
lock and flushed to disk before an edit counts as done; the run's own files are never touched. A line torn by a
crash (the process killed while writing) is reported and skipped; every other line is kept, in order."""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import warnings
from pathlib import Path


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
