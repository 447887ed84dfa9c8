"""Run folders to review: a small one made from an array, and 30 shapes clustered from a folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import invoke
from sklearn.cluster import KMeans

from deepclust.run import ClusterRun, write_run


@pytest.fixture
def run_dir(tmp_path):
    """A run of 30 points in three clusters of 10 (rows 0–9, 10–19, 20–29), as cluster_images would write it."""
    rng = np.random.RandomState(0)
    embedding = np.vstack([rng.normal(c, 0.1, (10, 2)) for c in (0, 3, 6)]).astype(np.float32)
    labels = np.repeat([0, 1, 2], 10)
    centers = np.array([embedding[labels == c].mean(0) for c in range(3)])
    run = ClusterRun(paths=[str(i) for i in range(30)], labels=labels,
                     distances=np.linalg.norm(embedding - centers[labels], axis=1), confidence=np.full(30, 0.9),
                     n_clusters=3, params={"method": "kmeans", "n_clusters": 3, "random_state": 0},
                     timings={"total": 0.1}, metrics={}, source=rng.randint(0, 256, (30, 8, 8), dtype=np.uint8),
                     embedding=embedding, estimator=KMeans(3, n_init=1, random_state=0).fit(embedding),
                     n_clusters_fitted=3)
    return write_run(run, tmp_path / "run", map=None)


@pytest.fixture(scope="session")
def shapes_run(shared_shapes_folder, feature_cache, tmp_path_factory):
    """The 30 shapes (squares, discs, bars) clustered in three, once per session (each test reviews its own copy,
    ``shapes_run_copy``)."""
    out = tmp_path_factory.mktemp("review-commands") / "run"
    result = invoke("cluster", shared_shapes_folder, "-k", "3", "--labels-from-subfolders", "--out", out, "--quiet",
                    "--workers", "0")
    assert result.exit_code == 0, result.output
    # the premise of the tests that count images per fixed cluster: three easy kinds, each its own cluster
    assert json.loads((out / "run.json").read_text())["metrics"]["acc"] == 1.0
    return out


@pytest.fixture
def shapes_run_copy(shapes_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(shapes_run, copy)
    return copy
