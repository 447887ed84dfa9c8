"""report.html and the 2-D map: built from the run folder's own files, self-contained, rebuilt by `deepclust report`."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from typer.testing import CliRunner

from deepclust.cli import app
from deepclust.metrics import clustering_accuracy_score
from deepclust.report import map_2d

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "run"
    result = _invoke("cluster", "--dataset", "digits", "--limit", 300, "-k", 10, "--out", out, "--quiet",
                     "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    return out


def test_report_shows_the_summary_every_cluster_and_the_map(run_dir):
    """report.html has the run's numbers, one section per cluster with its montages, the confusion table and the
    map; every picture it shows is a file of the run folder, and nothing is fetched from a network."""
    html = (run_dir / "report.html").read_text()
    info = json.loads((run_dir / "run.json").read_text())
    assert f"{info['n_clustered']} images in {info['n_clusters']} clusters" in html
    assert f"{info['metrics']['acc']:.4f}" in html and 'id="confusion"' in html
    for c in info["cluster_sizes"]:
        assert f'id="cluster-{c}"' in html and f"figures/cluster_{int(c):03d}.png" in html
    sources = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert sources and all((run_dir / s).is_file() for s in sources), sources
    assert "http://" not in html and "https://" not in html and "<script" not in html
    xy = np.load(run_dir / "embedding_2d.npy")
    assert xy.shape == (300, 2) and info["map"]["method"] == "umap" and "figures/map.png" in html


def test_the_map_keeps_the_clusters_apart(run_dir):
    """The 2-D map is faithful enough that k-means on it finds nearly the run's clusters again."""
    from sklearn.cluster import KMeans

    xy = np.load(run_dir / "embedding_2d.npy")
    labels = np.array([int(r.split(",")[1]) for r in (run_dir / "assignments.csv").read_text().splitlines()[1:]])
    again = KMeans(10, n_init=10, random_state=0).fit_predict(xy)
    assert clustering_accuracy_score(labels, again) > 0.85


def test_report_command_rebuilds_and_refuses_other_folders(run_dir, tmp_path):
    """`deepclust report RUN` writes report.html again; a folder that is no run is one sentence, exit 2."""
    (run_dir / "report.html").unlink()
    result = _invoke("report", run_dir)
    assert result.exit_code == 0 and (run_dir / "report.html").is_file()
    result = _invoke("report", tmp_path)
    assert result.exit_code == 2 and "not a run folder" in " ".join(result.output.split())


def test_tsne_map_and_small_runs():
    """t-SNE separates planted blobs; fewer than 50 points get PCA, said so; an unknown map is an error."""
    X, y = make_blobs(300, n_features=10, centers=4, random_state=0)
    xy, how = map_2d(X, "tsne", random_state=0)
    from sklearn.cluster import KMeans

    assert "t-SNE" in how and clustering_accuracy_score(y, KMeans(4, n_init=5, random_state=0).fit_predict(xy)) > 0.95
    xy, how = map_2d(X[:30], "umap")
    assert xy.shape == (30, 2) and "PCA" in how
    with pytest.raises(ValueError, match="unknown map"):
        map_2d(X, "pca")
