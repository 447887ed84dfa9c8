"""scikit-learn's own conformance suite on every estimator we export, with small training budgets."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepclust.cluster import SCAN, ConsensusClustering, FaissKMeans, FeatureClustering
from deepclust.deep import DCEC, DCN, DEC, DTC, GAPDCEC, IDEC, JULE, DeepCluster
from deepclust.methods import get_method, list_methods

_MLP = dict(hidden_dims=(16,), embedding_dim=2, pretrain_epochs=20, n_init=3, batch_size=16, update_interval=5,
            maxiter=20)
# small budgets, but enough that every method still finds sklearn's three blobs (ARI > 0.4 in check_clustering);
# Adam for both conv methods: GAPDCEC's paper SGD (lr 0.01, momentum 0.9) diverges on sklearn's unscaled blobs
_CONV = dict(filters=(16, 16, 16), embedding_dim=2, pretrain_epochs=50, n_init=3, batch_size=16, update_interval=5,
             maxiter=100, optimizer="adam", learning_rate=1e-3)
ESTIMATORS = [FeatureClustering(), FeatureClustering(3, algorithm="agglomerative-ward"), FaissKMeans(3, n_init=2),
              SCAN(3, n_heads=2, epochs=20, hidden=16, n_neighbors=5), DEC(3, **_MLP), IDEC(3, **_MLP),
              DCN(3, **_MLP), DCEC(3, **_CONV), GAPDCEC(3, **_CONV), ConsensusClustering(3, umap_components=None),
              # images only: their tags tell scikit-learn's 2-D checks to skip them; tests/deep/test_deepcluster.py
              # tests/deep/test_jule.py and tests/deep/test_dtc.py check their API on images
              DeepCluster(3), JULE(3, epochs_per_period=1), DTC(3)]


#: The checks that judge a result (sklearn's blobs found): they get the budgets above. Every other check tests the
#: API (types, pickling, fitted state, read-only input…), which the smallest training exercises just as well.
FULL_BUDGET_CHECKS = {"check_clustering"}
_TINY_TRAINING = dict(pretrain_epochs=2, maxiter=4, n_init=1)
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


@pytest.mark.parametrize("name", list_methods())
def test_every_registered_method_is_checked(name):
    """A registered method's estimator class is in the conformance list above."""
    assert get_method(name).estimator in {type(e) for e in ESTIMATORS}, f"add {name}'s estimator to ESTIMATORS"
