"""`deepclust assign` (issue 38): new images get the run's distance and confidence columns, and images of a kind the
run never saw are left unassigned (cluster -1) beyond a threshold the output states; --out is checked first."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from helpers import invoke
from PIL import Image
from sklearn.datasets import load_digits

from deepclust.assign import Assignment, assign_images, neighbor_distances


def _rows(path):
    with open(path, newline="") as f:
        return {r["path"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A k-means run (k = 3, no UMAP: fast) on 40 digits each of classes 0, 1 and 2 (8×8 PNGs), and a folder of new
    images: 10 held-out digits of each of those classes and 30 images of uniform noise."""
    root = tmp_path_factory.mktemp("assign")
    X, y = load_digits(return_X_y=True)
    X = (X.reshape(-1, 8, 8) * 16).clip(0, 255).astype(np.uint8)
    for c in range(3):
        for j, i in enumerate(np.flatnonzero(y == c)[:50]):
            folder = root / ("photos" if j < 40 else "new/seen") / str(c)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(X[i]).save(folder / f"{c}_{i}.png")
    (root / "new" / "noise").mkdir(parents=True)
    rng = np.random.RandomState(0)
    for i in range(30):
        Image.fromarray(rng.randint(0, 256, (8, 8)).astype(np.uint8)).save(root / "new" / "noise" / f"n{i:02d}.png")
    quick = ["--cache-dir", root / "cache", "--quiet"]
    result = invoke("cluster", root / "photos", "-k", 3, "--umap", 0, "--map", "none", "--workers", 0,
                     "--out", root / "run", *quick)
    assert result.exit_code == 0, result.output
    return root, quick


def test_unseen_images_are_unassigned_and_seen_ones_assigned(digits_run):
    """Noise is flagged (cluster -1) nearly always, held-out digits of the run's classes are nearly always assigned,
    to the cluster of their class; the output says how many were left out and the threshold."""
    root, quick = digits_run
    result = invoke("assign", root / "run", root / "new", "--out", root / "assigned", *quick)
    assert result.exit_code == 0, result.output
    rows = _rows(root / "assigned" / "assignments.csv")
    assert list(next(iter(rows.values()))) == ["path", "cluster", "distance", "confidence", "feature_distance",
                                               "nearest_cluster"]
    noise = [r for p, r in rows.items() if p.startswith("noise/")]
    seen = [r for p, r in rows.items() if p.startswith("seen/")]
    flagged = np.mean([r["cluster"] == "-1" for r in noise])
    kept = np.mean([r["cluster"] != "-1" for r in seen])
    assert flagged >= 0.9, f"only {flagged:.0%} of the noise images unassigned"
    assert kept >= 0.8, f"only {kept:.0%} of the held-out digits assigned"
    run_cluster = {}  # the run's cluster of each class: its majority
    for path, r in _rows(root / "run" / "assignments.csv").items():
        run_cluster.setdefault(path.split("/")[0], []).append(int(r["cluster"]))
    majority = {c: np.bincount(v).argmax() for c, v in run_cluster.items()}
    right = np.mean([int(r["nearest_cluster"]) == majority[p.split("/")[1]] for p, r in rows.items()
                     if p.startswith("seen/")])
    assert right >= 0.9, f"held-out digits in their class's cluster: {right:.0%}"
    info = json.loads((root / "assigned" / "assign.json").read_text())
    n_out = sum(r["cluster"] == "-1" for r in rows.values())
    assert info["n_unassigned"] == n_out and info["n_assigned"] == len(rows) - n_out
    assert "99th percentile" in info["max_distance_from"] and info["max_distance"] > 0
    assert f"{n_out} unassigned (cluster -1)" in result.text and f"{info['max_distance']:.4g}" in result.text
    assert all(float(r["feature_distance"]) > info["max_distance"] for r in rows.values() if r["cluster"] == "-1")


def test_run_images_get_the_run_distance_and_confidence(digits_run, tmp_path):
    """Copies of the run's own images are placed as the run placed them: same cluster, distance and confidence as
    in the run's assignments.csv; --max-distance set by the user applies as given."""
    root, quick = digits_run
    new = tmp_path / "copies"
    new.mkdir()
    for p in sorted((root / "photos").rglob("*.png"))[::8]:
        shutil.copy(p, new / f"{p.parent.name}-{p.name}")
    result = invoke("assign", root / "run", new, "--out", tmp_path / "a", "--max-distance", 10, *quick)
    assert result.exit_code == 0, result.output
    run_rows = _rows(root / "run" / "assignments.csv")
    got = _rows(tmp_path / "a" / "assignments.csv")
    assert len(got) == 15
    for name, r in got.items():
        original = run_rows[name.replace("-", "/", 1)]
        assert r["cluster"] == original["cluster"], name
        assert float(r["distance"]) == pytest.approx(float(original["distance"]), abs=1e-4), name
        assert float(r["confidence"]) == pytest.approx(float(original["confidence"]), abs=1e-3), name
    assert "0 unassigned" in result.text and "given" in json.loads((tmp_path / "a" / "assign.json").read_text())[
        "max_distance_from"]
    result = assign_images(root / "run", new, max_distance=0.0, cache_dir=root / "cache", verbose=False)
    assert result.n_unassigned == 15 and result.cluster_sizes() == {}
    assert (result.nearest >= 0).all()  # the cluster it would have got is kept


def test_assign_out_is_checked_like_every_output(digits_run, tmp_path):
    """An --out inside the new folder or the run folder is refused before any work; --overwrite replaces an earlier
    assign folder but not a folder of someone's files."""
    root, quick = digits_run
    new = tmp_path / "new"
    shutil.copytree(root / "new" / "seen", new)
    for out in (new / "out", root / "run" / "assigned", new):
        result = invoke("assign", root / "run", new, "--out", out, *quick)
        assert result.exit_code == 2 and "input folder" in result.text, (out, result.output)
        assert not out.exists() or out == new
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = invoke("assign", root / "run", new, "--out", mine, "--overwrite", *quick)
    assert result.exit_code == 2 and "not a deepclust assign folder" in result.text
    assert (mine / "notes.txt").read_text() == "mine"
    assert invoke("assign", root / "run", new, "--out", tmp_path / "a", *quick).exit_code == 0
    assert invoke("assign", root / "run", new, "--out", tmp_path / "a", *quick).exit_code == 2
    assert invoke("assign", root / "run", new, "--out", tmp_path / "a", "--overwrite", *quick).exit_code == 0


def test_neighbor_distances_leave_each_reference_row_out():
    """On a line of points 0, 1, 3: each point's nearest other point, and a query's nearest two."""
    reference = np.array([[0.0], [1.0], [3.0]])
    assert neighbor_distances(reference, k=1).tolist() == [1.0, 1.0, 2.0]
    assert neighbor_distances(reference, np.array([[2.0]]), k=2).tolist() == [1.0]


def test_an_assignment_without_a_reference_assigns_everything():
    """Without a threshold (a run on an array from Python) every image keeps its cluster; its CSV still has every
    column, the feature distance unmeasured."""
    result = Assignment(["a.png", "b.png"], np.array([1, 0]), threshold="not measured")
    assert result.n_unassigned == 0 and result.cluster_sizes() == {0: 1, 1: 1}
    lines = result.to_csv().splitlines()
    assert lines[0] == "path,cluster,distance,confidence,feature_distance,nearest_cluster"
    assert lines[1].startswith("a.png,1,nan,nan,nan,1")


def test_a_run_whose_images_are_gone_assigns_all_and_says_why(digits_run, tmp_path):
    """When the run's input folder is gone, its features are still in the feature cache and the noise is still
    flagged; when the cache entry is gone too, the novelty cannot be measured: every image keeps its cluster, the
    threshold says why, and an explicit max_distance is a one-sentence error."""
    root, _ = digits_run
    moved = tmp_path / "run"
    shutil.copytree(root / "run", moved)
    info = json.loads((moved / "run.json").read_text())
    info["source"]["root"] = str(tmp_path / "gone")
    (moved / "run.json").write_text(json.dumps(info))
    result = assign_images(moved, root / "new" / "noise", cache_dir=root / "cache", verbose=False)
    assert result.n_unassigned >= 27 and result.max_distance is not None
    info["extraction"]["cache_file"] = str(tmp_path / "cleared.npy")
    (moved / "run.json").write_text(json.dumps(info))
    result = assign_images(moved, root / "new" / "noise", cache_dir=root / "cache", verbose=False)
    assert result.n_unassigned == 0 and result.max_distance is None and np.isnan(result.feature_distances).all()
    assert "not there any more" in result.threshold
    with pytest.raises(ValueError, match="max_distance cannot be applied"):
        assign_images(moved, root / "new" / "noise", max_distance=1.0, cache_dir=root / "cache", verbose=False)
