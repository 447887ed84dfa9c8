"""Clusters a person can fix (issue 55): a run's clusters replayed with an edit log kept in the run folder
(:class:`ReviewedRun`: rename, merge, split, move, set aside, undo, redo); the run's own files are never changed.
The local web app over it is still to come."""

from ._log import ReadOnlyRunError, read_log
from ._reviewed import ASIDE, OPS, ReviewedRun, check_edit, replay

__all__ = ["ASIDE", "OPS", "ReadOnlyRunError", "ReviewedRun", "check_edit", "read_log", "replay"]
