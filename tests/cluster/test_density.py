"""The density method (``--method hdbscan``): HDBSCAN on the reduced features finds the number of clusters, leaves
images that fit none in no cluster (-1), and a run of it goes through the whole pipeline: run folder, report,
evaluation, ``--like``."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from deepclust import cluster_images
from deepclust.cli import app
from deepclust.cluster import DensityClustering, default_min_cluster_size
from deepclust.datasets import open_dataset
from deepclust.methods import NO_CLUSTER, MethodOptionError, get_method
from deepclust.metrics import external_scores
from deepclust.run import RunFolder, evaluate_run, keep_numbers


def _blobs_with_strays(seed: int = 0, n: int = 60):
    """Two tight blobs in 3-D and three points far from both."""
    rs = np.random.RandomState(seed)
    strays = [[20.0, -20.0, 20.0], [-20.0, 20.0, 0.0], [20.0, 20.0, -20.0]]
    return np.r_[rs.normal(0, 0.3, (n, 3)), rs.normal(5, 0.3, (n, 3)), strays]


def test_finds_the_clusters_and_leaves_the_strays_in_none():
    """Two blobs are two clusters without being told k; the three far points are in no cluster; the centres are
    the members' means."""
    X = _blobs_with_strays()
    model = DensityClustering(min_cluster_size=10, l2_normalize=False, umap_components=None).fit(X)
    assert model.n_clusters_ == 2
    assert model.labels_[-3:].tolist() == [NO_CLUSTER] * 3
    assert len(set(model.labels_[:60].tolist())) == 1 and len(set(model.labels_[60:120].tolist())) == 1
    for c in range(2):
        np.testing.assert_allclose(model.cluster_centers_[c], model.embedding_[model.labels_ == c].mean(0))
    assert model.run_details_ == {"min_cluster_size": 10, "min_samples": 5}


def test_same_seed_same_labels_through_umap():
    """With UMAP in the reduction, the same random_state gives identical labels."""
    rs = np.random.RandomState(1)
    X = np.r_[rs.normal(0, 1, (80, 20)), rs.normal(6, 1, (80, 20))].astype(np.float32)
    a = DensityClustering(random_state=3).fit(X).labels_
    b = DensityClustering(random_state=3).fit(X).labels_
    assert np.array_equal(a, b)


def test_default_smallest_cluster_grows_with_the_images():
    """2 % of the images, at least 5: sizes for the 100 to 70,000 images the default is chosen for."""
    assert [default_min_cluster_size(n) for n in (100, 250, 1797, 10_000, 70_000)] == [5, 5, 36, 200, 1400]


def test_a_number_of_clusters_is_refused_in_one_sentence():
    """hdbscan finds k itself: -k / n_clusters is an error before any work, never dropped in silence."""
    spec = get_method("hdbscan")
    assert spec.chooses_k and spec.family == "density" and "Campello" in spec.paper and "McInnes" in spec.paper
    with pytest.raises(MethodOptionError, match="finds the number of clusters itself"):
        spec.build(5)
    with pytest.raises(MethodOptionError, match="min_cluster_size must be an integer at least 2"):
        spec.build(min_cluster_size=1)


@pytest.fixture(scope="module")
def digits_run():
    """hdbscan on 300 of sklearn's digits (the builtin data set, CNN features), with the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = cluster_images(open_dataset("digits"), method="hdbscan", limit=300, verbose=False)
    return run, [str(w.message) for w in caught]


def test_a_run_counts_real_clusters_and_says_how_many_are_in_none(digits_run):
    """n_clusters leaves -1 out; a note (raised as a warning too) says how many images are in no cluster; the
    scores are those of the clustered images, with the share left out; those images have confidence 0 and the
    distance to their nearest centre."""
    run, messages = digits_run
    out = run.labels == NO_CLUSTER
    assert out.any(), "expected some digits in no cluster"
    assert run.n_clusters == len(set(run.labels[~out].tolist())) == run.n_clusters_fitted >= 2
    assert run.n_unclustered == out.sum() and run.cluster_sizes()[NO_CLUSTER] == out.sum()
    note = f"{out.sum()} of 300 images"
    assert any(note in n and "no cluster" in n for n in run.notes), run.notes
    assert any(note in m for m in messages), messages
    assert run.metrics["n_clusters"] == run.n_clusters and run.metrics["unclustered"] == pytest.approx(out.mean())
    clustered = external_scores(run.labels_true[~out], run.labels[~out])
    assert run.metrics["acc"] == pytest.approx(clustered["acc"])
    assert run.metrics["nmi"] == pytest.approx(clustered["nmi"])
    assert np.all(run.confidence[out] == 0) and np.all(run.confidence[~out] > 0)
    centres = run.estimator.cluster_centers_
    nearest = np.sqrt(((run.embedding[out][:, None] - centres[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(run.distances[out], nearest, rtol=1e-6)
    assert run.tree is None or NO_CLUSTER not in run.tree.clusters
    assert run.params["min_cluster_size"] == 6 and run.params["min_samples"] == 5  # 2 % of 300, as used


def test_the_run_folder_report_and_evaluation_take_images_in_no_cluster(digits_run, tmp_path):
    """The folder is written with -1 in assignments.csv, cluster_sizes and a montage of its own; the report is
    built; evaluate scores the clustered images and says the share left out; the tree leaves -1 out."""
    run, _ = digits_run
    path = run.save(tmp_path / "run", map="umap")
    folder = RunFolder.open(path)
    record = json.loads((path / "run.json").read_text())
    assert record["cluster_sizes"][str(NO_CLUSTER)] == run.n_unclustered
    assert record["n_clusters"] == run.n_clusters
    tree = record["cluster_tree"]
    assert tree is None or NO_CLUSTER not in tree["clusters"]
    assert folder.has(folder.montage_file(NO_CLUSTER)) and (path / "report.html").is_file()
    with (path / "assignments.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["cluster"] == str(NO_CLUSTER)]
    assert len(rows) == run.n_unclustered and all(float(r["confidence"]) == 0 for r in rows)
    evaluation = evaluate_run(path)
    assert evaluation.scores["acc"] == pytest.approx(run.metrics["acc"])
    assert evaluation.scores["unclustered"] == pytest.approx(run.metrics["unclustered"])
    assert str(NO_CLUSTER) in evaluation.cluster_ids


def test_like_keeps_minus_one_and_every_cluster_of_the_same_run(digits_run, tmp_path):
    """Renumbered like a folder of itself, every cluster keeps its number and the images in no cluster stay in
    none; -1 is neither kept nor new."""
    run, _ = digits_run
    earlier = run.save(tmp_path / "earlier", map=None)
    again = keep_numbers(run, earlier)
    assert np.array_equal(again.labels, run.labels)
    like = again.params["like"]
    assert like["kept"] == sorted(set(run.labels.tolist()) - {NO_CLUSTER}) and like["new"] == []
    assert str(NO_CLUSTER) not in like["renumbered"]


def test_cli_clusters_with_hdbscan_and_refuses_k(tmp_path):
    """`deepclust cluster --method hdbscan` writes a run folder and says how many images are in no cluster;
    with -k it stops with one sentence and no traceback."""
    runner = CliRunner()
    base = ["cluster", "--dataset", "digits", "--limit", "200", "--method", "hdbscan", "--map", "none"]
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "in no cluster" in " ".join(res.output.split())
    assert RunFolder.open(tmp_path / "run").record.method == "hdbscan"
    res = runner.invoke(app, [*base, "-k", "5", "--out", str(tmp_path / "k")])
    assert res.exit_code != 0 and "finds the number of clusters itself" in " ".join(res.output.split())
    assert "Traceback" not in res.output
