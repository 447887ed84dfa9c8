"""Helpers the test modules share (fixtures live in conftest.py): running the command line as a user would."""

from __future__ import annotations

from typer.testing import CliRunner

from deepclust.cli import app

_RUNNER = CliRunner()


def invoke(*args, **kwargs):
    """``deepclust ARGS`` in this process (each argument as text; exceptions that are bugs propagate), its result
    with ``text``: the output with the console's line breaks undone, to match a sentence that wrapped."""
    result = _RUNNER.invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)
    result.text = " ".join(result.output.split())
    return result
