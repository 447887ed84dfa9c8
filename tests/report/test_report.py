"""report.html and the 2-D map: built from the run folder's own files, self-contained, rebuilt by `deepclust report`."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from helpers import invoke
from sklearn.datasets import make_blobs

from deepclust.metrics import clustering_accuracy_score
from deepclust.report import map_2d


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "run"
    result = invoke("cluster", "--dataset", "digits", "--limit", 300, "-k", 10, "--out", out, "--quiet",
                     "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    return out


def test_report_shows_the_summary_every_cluster_and_the_map(run_dir):
    """report.html has the run's numbers (300 of the 1,797 digits, drawn by --limit), one section per cluster with its
    montages, the confusion table and the map; every picture it shows is a file of the run folder, and nothing is
    fetched from a network."""
    html = (run_dir / "report.html").read_text()
    info = json.loads((run_dir / "run.json").read_text())
    assert f"{info['n_clustered']} images in {info['n_clusters']} clusters" in html
    assert '<td id="images">300 of 1,797 images (a random 300: --limit, stratified by label)</td>' in html
    assert f"{info['metrics']['acc']:.4f}" in html and 'id="confusion"' in html
    for c in info["cluster_sizes"]:
        assert f'id="cluster-{c}"' in html and f"figures/cluster_{int(c):03d}.png" in html
    sources = re.findall(r'(?:src|href|data-script)="([^"#]+)"', html)
    assert sources and all((run_dir / s).is_file() for s in sources), sources
    assert "http://" not in html and "https://" not in html and "<script src" not in html
    xy = np.load(run_dir / "embedding_2d.npy")
    assert xy.shape == (300, 2) and info["map"]["method"] == "umap" and "figures/map.png" in html


def test_the_map_keeps_the_clusters_apart(run_dir):
    """The 2-D map keeps each image beside its own cluster: its 5 nearest neighbours on the map share its cluster
    (≥ 0.9 of them; a random map gives 0.1). Whether k-means on the 2-D map finds the ten clusters again depends
    on UMAP's seed and version (0.82–0.92 measured on these images), so it is not what is asked of a map."""
    from sklearn.neighbors import NearestNeighbors

    xy = np.load(run_dir / "embedding_2d.npy")
    labels = np.array([int(r.split(",")[1]) for r in (run_dir / "assignments.csv").read_text().splitlines()[1:]])
    neighbours = NearestNeighbors(n_neighbors=6).fit(xy).kneighbors(xy, return_distance=False)[:, 1:]
    assert (labels[neighbours] == labels[:, None]).mean() >= 0.9


def test_report_command_rebuilds_and_refuses_other_folders(run_dir, tmp_path):
    """`deepclust report RUN` writes report.html again; a folder that is no run is one sentence, exit 2."""
    (run_dir / "report.html").unlink()
    result = invoke("report", run_dir)
    assert result.exit_code == 0 and (run_dir / "report.html").is_file()
    result = invoke("report", tmp_path)
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


def _member_scripts(run_dir) -> dict[int, dict]:
    out = {}
    for path in sorted((run_dir / "figures/members").glob("cluster_*.js")):
        call = re.fullmatch(r"deepclustMembers\((\d+), (.*)\);\n", path.read_text(), re.S)
        out[int(call[1])] = json.loads(call[2])
    return out


def test_every_member_can_be_paged_through_in_order(run_dir):
    """Each cluster's member script lists all of its images, closest to the centre first, each with its place in a
    sprite sheet (a run on a data set has no files to show) that exists and is large enough to hold it."""
    from PIL import Image

    rows = [r.split(",") for r in (run_dir / "assignments.csv").read_text().splitlines()[1:]]
    scripts = _member_scripts(run_dir)
    assert sorted(scripts) == sorted({int(r[1]) for r in rows})
    places = set()
    for c, data in scripts.items():
        members = sorted((float(r[2]), int(r[0])) for r in rows if int(r[1]) == c)
        assert [item[0] for item in data["items"]] == [f"image {i}" for _, i in members]
        for _, (sheet, pos) in data["items"]:
            width, height = Image.open(run_dir / sheet).size
            assert pos < (width // data["tile"]) * (height // data["tile"])
            places.add((sheet, pos))
    assert len(places) == len(rows)  # no two images share a thumbnail


def test_hover_points_sit_where_the_map_draws_them(run_dir):
    """The map's hover points are a sample of the run whose places on the picture follow their 2-D coordinates
    (x to the right, y upwards, as the map is drawn) and whose clusters are the run's."""
    from scipy.stats import spearmanr

    hover = json.loads((run_dir / "figures/map_hover.json").read_text())
    xy = np.load(run_dir / "embedding_2d.npy")
    labels = [int(r.split(",")[1]) for r in (run_dir / "assignments.csv").read_text().splitlines()[1:]]
    points = np.array(hover["points"])
    rows = points[:, 2].astype(int)
    assert len(set(rows)) == len(rows) == 300  # the run has 300 images: all of them are hover points
    assert [labels[r] for r in rows] == points[:, 3].astype(int).tolist()
    assert spearmanr(points[:, 0], xy[rows, 0])[0] > 0.999 and spearmanr(points[:, 1], xy[rows, 1])[0] < -0.999
    assert ((points[:, :2] > 0) & (points[:, :2] < 1)).all()


def test_file_names_are_shown_as_text_not_markup(shapes_folder, tmp_path):
    """A file named like markup (legal on Linux) is shown as its name in the skipped-files table, escaped."""
    from deepclust import cluster_images

    (shapes_folder / "bad" / "<em>x.png").write_text("not an image")
    run = cluster_images(shapes_folder, n_clusters=3, verbose=False)
    page = (run.save(tmp_path / "run", map=None) / "report.html").read_text()
    assert "&lt;em&gt;x.png" in page and "<em>x" not in page
