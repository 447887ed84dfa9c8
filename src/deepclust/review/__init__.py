"""Clusters a person can fix: ``deepclust review RUN`` serves a local web app (:class:`ReviewServer`, on 127.0.0.1
behind a secret token) over :class:`ReviewedRun`, the run's clusters replayed with an edit log kept in the run
folder (rename, merge, split, move, set aside, undo, redo). The run's own files are never changed; every command
reads the fixed clusters through :class:`~deepclust.run.RunFolder`."""

from ..run import ASIDE, OPS, ReadOnlyRunError, as_edit, check_edit, read_log, replay
from ._guard import LOOPBACK
from ._reviewed import ReviewedRun
from ._server import ReviewServer, make_app

__all__ = ["ASIDE", "LOOPBACK", "OPS", "ReadOnlyRunError", "ReviewServer", "ReviewedRun", "as_edit", "check_edit",
           "make_app", "read_log", "replay"]
