"""The ``deepclust`` command line: thin commands that parse, call the library and print.

One module per group of commands; each registers its commands on the one :data:`app` when imported."""

from . import _assign, _cluster, _compare, _discover, _duplicates, _listings, _review, _runs  # noqa: F401  (they register)
from ._app import app

__all__ = ["app"]
