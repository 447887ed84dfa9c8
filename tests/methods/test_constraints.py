"""Parameter ranges declared once per estimator: every declared name is a parameter, a value outside its range is
refused in one sentence by every method that has it, the same range is what `deepclust methods NAME` shows, and
the run's number of clusters is checked by one declaration in the pipeline and the CLI."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from typer.testing import CliRunner

from deepclust import cluster_images
from deepclust.cli import app
from deepclust.methods import (
    RUN_N_CLUSTERS,
    Interval,
    MethodOptionError,
    constraints_of,
    get_method,
    list_methods,
)


@pytest.mark.parametrize("name", list_methods())
def test_every_constraint_names_a_parameter_and_its_default_lies_in_it(name):
    """A constraint on a parameter that does not exist would never be checked; a default outside it could not run."""
    spec = get_method(name)
    parameters = inspect.signature(spec.estimator.__init__).parameters
    constraints = constraints_of(spec.estimator)
    assert constraints, f"{name} declares no ranges"
    for param, interval in constraints.items():
        assert param in parameters, f"{name}: {param} is no parameter"
        default = spec.fixed.get(param, parameters[param].default)
        assert param == "n_clusters" or interval.holds(default), f"{name}: default {param}={default!r} not {interval}"


@pytest.mark.parametrize("name", [n for n in list_methods() if "batch_size" in constraints_of(get_method(n).estimator)])
def test_a_batch_size_of_zero_is_refused_by_every_method_that_has_one(name):
    """Where batch_size is declared, 0 is refused before any work, naming the range."""
    spec = get_method(name)
    with pytest.raises(MethodOptionError, match=r"batch_size must be a positive integer, got 0"):
        spec.build(3, batch_size=0)


def test_intervals_say_what_they_hold():
    """The words are the range: ends open or closed, None allowed or not, integers or numbers."""
    half_open = Interval(float, 0, 1, closed="right")
    assert str(half_open) == "a number in (0, 1]" and half_open.holds(1) and not half_open.holds(0)
    assert not Interval(int, 1).holds(1.5) and not Interval(int, 1).holds(True) and not Interval(int, 1).holds(None)
    optional = Interval(int, 0, none=True)
    assert optional.holds(None) and str(optional) == "0 or a positive integer, or None"


def test_the_listing_shows_the_declared_range():
    """`deepclust methods jule` shows eta's range as declared."""
    result = CliRunner().invoke(app, ["methods", "jule"], terminal_width=200)
    assert result.exit_code == 0 and str(constraints_of(get_method("jule").estimator)["eta"]) in result.output


def test_a_run_needs_two_clusters_in_python_and_on_the_command_line():
    """One declaration: the pipeline refuses -k 1 with its words, and the CLI's -k stops at its lower end."""
    X = np.zeros((10, 8, 8), np.uint8)
    with pytest.raises(ValueError, match=f"must be {RUN_N_CLUSTERS}, got 1"):
        cluster_images(X, n_clusters=1, verbose=False)
    result = CliRunner().invoke(app, ["cluster", "--dataset", "digits", "-k", "1"])
    assert result.exit_code == 2 and f"{int(RUN_N_CLUSTERS.low)}" in result.output
