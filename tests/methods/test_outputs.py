"""A method's fitted outputs are read only where its registry entry declares them: a declared output shapes the run
(probabilities give the confidence), one set without being declared is named in a warning and not used."""

from __future__ import annotations

import numpy as np
import pytest

from deepclust.methods import FittedClustering, MethodSpec


class _Fitted:
    labels_ = np.array([0, 0, 1, 1])
    embedding_ = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 1.0], [1.2, 1.0]])
    cluster_centers_ = np.array([[0.05, 0.0], [1.1, 1.0]])
    probabilities_ = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])


def _spec(outputs) -> MethodSpec:
    return MethodSpec("toy", _Fitted, ("features",), "toy", "none", outputs=tuple(outputs))


def test_declared_probabilities_give_the_confidence():
    """With probabilities_ declared, each image's confidence is its largest probability."""
    fitted = FittedClustering.of(_spec(["cluster_centers_", "probabilities_"]), _Fitted())
    assert np.allclose(fitted.confidence, [0.9, 0.6, 0.7, 0.8])


def test_an_undeclared_output_is_named_and_not_used():
    """probabilities_ set but not declared: a warning names it, and the confidence is the margin, not them."""
    with pytest.warns(RuntimeWarning, match="sets probabilities_ without declaring"):
        fitted = FittedClustering.of(_spec(["cluster_centers_"]), _Fitted())
    assert not np.allclose(fitted.confidence, [0.9, 0.6, 0.7, 0.8]) and (fitted.confidence <= 1).all()


def test_an_unknown_output_is_refused_where_it_is_declared():
    """A name that is no method output is an error when the method is registered, not a silent no-op."""
    from deepclust.methods import register_method

    with pytest.raises(ValueError, match="is no method output"):
        register_method("toy-bad-outputs", inputs=("features",), family="toy", paper="-",
                        outputs=("centres_",))(_Fitted)
