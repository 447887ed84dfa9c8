"""scikit-learn's own conformance suite on every estimator we export, with small training budgets: the full set once
per distinct ``fit``, the parameter and result checks on subclasses that change only a loss or a hyper-parameter."""

from __future__ import annotations

import functools

import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks as sk
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepclust.cluster import (
    SCAN,
    ConsensusClustering,
    DensityClustering,
    FaissKMeans,
    FeatureClustering,
    GDLAgglomeration,
)
from deepclust.deep import DCEC, DCN, DEC, DTC, GAPDCEC, IDEC, JULE, AdaptedClustering, DeepCluster
from deepclust.methods import get_method, list_methods

_MLP = dict(hidden_dims=(16,), embedding_dim=2, pretrain_epochs=20, n_init=3, batch_size=16, update_interval=5,
            max_iter=20)
# small budgets, but enough that every method still finds sklearn's three blobs (ARI > 0.4 in check_clustering);
_CONV = dict(filters=(16, 16, 16), embedding_dim=2, pretrain_epochs=50, n_init=3, batch_size=16, update_interval=5,
             max_iter=100)
#: One estimator per distinct ``fit`` code path. The DEC family shares ``DeepClusteringBase.fit``; what differs is
#: in its hooks: DEC (MLP input, KL to the target), DCN (its own state, hard assignments, centres updated after each
#: step, centres not trained) and DCEC (the convolutional input path). IDEC only adds a loss term to DEC and GAPDCEC
#: only switches a pooling flag of DCEC: they are in ``SUBCLASSES`` below.
ESTIMATORS = [FeatureClustering(), FeatureClustering(3, algorithm="agglomerative-ward"), FaissKMeans(3, n_init=2),
              DensityClustering(),
              SCAN(3, n_heads=2, epochs=20, hidden_dims=(16,), n_neighbors=5), GDLAgglomeration(3),
              DEC(3, **_MLP), DCN(3, **_MLP), DCEC(3, **_CONV), ConsensusClustering(3, umap_components=None),
              # images only: their tags tell scikit-learn's 2-D checks to skip them; tests/deep/test_deepcluster.py
              # tests/deep/test_jule.py, tests/deep/test_dtc.py and tests/deep/test_adapt.py check their API on images
              DeepCluster(3), JULE(3, epochs_per_period=1), DTC(3), AdaptedClustering(3)]
#: Subclasses whose ``fit`` is their parent's (in ``ESTIMATORS``) with another loss or hyper-parameter: the check of
#: the result and the checks of the parameter API.
SUBCLASSES = [IDEC(3, **_MLP), GAPDCEC(3, **_CONV)]
SUBCLASS_CHECKS = [sk.check_clustering, sk.check_estimator_cloneable, sk.check_get_params_invariance,
                   sk.check_set_params, sk.check_parameters_default_constructible, sk.check_no_attributes_set_in_init,
                   sk.check_do_not_raise_errors_in_init_or_set_params, sk.check_estimator_repr]

#: The checks that judge a result (sklearn's blobs found): they get the budgets above. Every other check tests the
#: API (types, pickling, fitted state, read-only input…), which the smallest training exercises just as well.
FULL_BUDGET_CHECKS = {"check_clustering"}
_TINY_TRAINING = dict(pretrain_epochs=2, max_iter=4, n_init=1)
TINY_BUDGETS = {FeatureClustering: dict(k_max=4, n_init=2), SCAN: dict(epochs=2, init_steps=5),
                DEC: _TINY_TRAINING, IDEC: _TINY_TRAINING, DCN: _TINY_TRAINING, DCEC: _TINY_TRAINING,
                GAPDCEC: _TINY_TRAINING}


def _with_budget(estimator, check):
    """``estimator`` as the check should train it: a clone with tiny budgets unless the check judges the result."""
    name = getattr(check, "func", check).__name__
    tiny = TINY_BUDGETS.get(type(estimator))
    if name in FULL_BUDGET_CHECKS or not tiny:
        return estimator
    return clone(estimator).set_params(**tiny)


def _declared_failures(estimator) -> dict[str, str]:
    """Checks an estimator declares it cannot pass, with the reason (none today)."""
    return dict(getattr(estimator, "_sklearn_expected_failed_checks", {}))


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_declared_failures)
def test_sklearn_compatible(estimator, check):
    """Each of scikit-learn's estimator checks passes (or is declared on the estimator with its reason)."""
    check(_with_budget(estimator, check))


@pytest.mark.parametrize("check", SUBCLASS_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("estimator", SUBCLASSES, ids=lambda e: type(e).__name__)
def test_subclass_compatible(estimator, check):
    """A subclass that reuses its parent's fit still finds the blobs and keeps scikit-learn's parameter API."""
    check = functools.partial(check, type(estimator).__name__)
    check(_with_budget(clone(estimator), check))


@pytest.mark.parametrize("name", list_methods())
def test_every_registered_method_is_checked(name):
    """A registered method's estimator class is in one of the conformance lists above."""
    checked = {type(e) for e in ESTIMATORS + SUBCLASSES}
    assert get_method(name).estimator in checked, f"add {name}'s estimator to ESTIMATORS or SUBCLASSES"


def test_subclasses_reuse_a_checked_fit():
    """Every class in SUBCLASSES inherits ``fit`` from a class whose full check set runs."""
    full = {type(e) for e in ESTIMATORS}
    for estimator in SUBCLASSES:
        owner = next(k for k in type(estimator).__mro__ if "fit" in vars(k))
        assert any(issubclass(k, owner) for k in full), f"{type(estimator).__name__}.fit is not checked in full"
