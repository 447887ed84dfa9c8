"""Golden labels: every registered method, fitted with a tiny budget and a fixed seed on small real data, gives
exactly the labels stored in ``tests/golden/labels.json``. Refactors of the training code must keep them
bit-identical; a change that is meant to alter results rewrites the file (``python tests/test_golden_labels.py``)
and says in its commit which methods changed and why."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from deepclust.datasets import load_dataset, subset_indices
from deepclust.features import hog_features, pixel_features
from deepclust.methods import get_method, list_methods

GOLDEN = Path(__file__).with_name("golden") / "labels.json"

_MLP = dict(hidden_dims=(64,), embedding_dim=5, pretrain_epochs=15, n_init=2, batch_size=32, update_interval=4,
            max_iter=12)
_CONV = dict(filters=(8, 8, 8), embedding_dim=5, pretrain_epochs=4, n_init=2, batch_size=32, update_interval=4,
             max_iter=8)
#: Per method: its tiny options and the data it is fitted on ("digits" features, "views", "mnist" images, "split").
CASES = {
    "kmeans": ({"umap_components": None}, "digits"),
    "agglomerative-ward": ({"umap_components": None}, "digits"),
    "agglomerative-average": ({"umap_components": None}, "digits"),
    "scan": ({"epochs": 3, "init_steps": 5, "n_heads": 2, "hidden_dims": (32,), "init": "random"}, "views"),
    "best": ({"epochs": 3, "init_steps": 5, "n_heads": 2, "hidden_dims": (32,), "init": "random"}, "views"),
    "consensus": ({"umap_components": None, "n_repeats": 1}, "views"),
    "dec": (_MLP, "digits"),
    "idec": (_MLP, "digits"),
    "dcn": (_MLP, "digits"),
    "dcec": (_CONV, "mnist"),
    "gapdcec": (_CONV, "mnist"),
    "deepcluster": ({"n_pseudo_clusters": 10, "epochs": 1, "width": 0.25, "epoch_size": 128}, "mnist"),
    "jule": ({"epochs_per_period": 1}, "mnist"),
    "dtc": ({"supervised_epochs": 1, "warmup_epochs": 1, "epochs": 2, "batch_size": 64}, "split"),
    "adapt": ({"epochs": 1, "copies": 1, "input_size": 64, "batch_size": 32}, "mnist"),
}


def _data(kind: str):
    if kind in ("digits", "views", "split"):
        X, y = load_dataset("digits")
        if kind == "split":
            known = y < 5
            return X[~known][:150], {"X_known": X[known][:150], "y_known": y[known][:150]}
        X = X[:200]
        if kind == "views":
            return [pixel_features(X), hog_features(X)], {}
        return X.reshape(len(X), -1).astype(np.float32) / 16.0, {}
    X, y = load_dataset("mnist-5k")
    rows, _ = subset_indices(len(X), 200, y, random_state=0)
    return X[rows], {}


def golden_labels(name: str) -> list[int]:
    options, kind = CASES[name]
    X, fit_args = _data(kind)
    estimator = get_method(name).build(5, random_state=0, device="cpu", **options)
    return np.asarray(estimator.fit(X, **fit_args).labels_).tolist()


def test_every_method_has_a_golden_case():
    assert set(CASES) == set(list_methods())


@pytest.mark.parametrize("name", list(CASES))
def test_labels_are_the_golden_ones(name):
    stored = json.loads(GOLDEN.read_text())
    assert name in stored, f"no golden labels for {name}: run python {Path(__file__).name}"
    labels = golden_labels(name)
    changed = int(np.sum(np.asarray(labels) != np.asarray(stored[name])))
    assert changed == 0, f"{name}: {changed} of {len(labels)} labels differ from the golden ones"


if __name__ == "__main__":  # rewrite the golden file (say why in the commit)
    import torch

    torch.set_num_threads(1)  # as the suite's workers run (conftest.py): adapt's labels depend on the thread count
    names = sys.argv[1:] or list(CASES)
    stored = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    for name in names:
        stored[name] = golden_labels(name)
        print(name, np.bincount(stored[name]).tolist())
    GOLDEN.write_text(json.dumps(stored, indent=0) + "\n")
