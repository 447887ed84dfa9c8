"""What a new user hits first (issue "What a new user hits first"): each test failed on main before the fix."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from helpers import invoke
from sklearn.base import BaseEstimator, ClusterMixin
from typer.testing import CliRunner

from deepclust import __version__, cluster_images, load_dataset
from deepclust.cli import app
from deepclust.datasets import scan_folder, subset_indices
from deepclust.methods import register_method, unregister_method

runner = CliRunner()


class _Result:
    """The CLI's result with its output's line breaks undone (the console wraps at its width)."""

    def __init__(self, result):
        self.exit_code, self.output = result.exit_code, " ".join(result.output.split())


def _invoke(*args):
    return _Result(invoke(*args))


def _strict_json(path):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture
def quick(feature_cache):
    """A quick run: the session's feature cache, no 2-D map."""
    return ["--cache-dir", feature_cache, "--quiet", "--workers", 0, "--map", "none"]


def test_a_run_folder_inside_the_input_folder_is_not_read_again(shapes_folder, tmp_path, quick):
    """The CLI refuses to write a run inside the input folder (the default runs/ after `cd PHOTOS`); one put there
    by hand is skipped by the next scan, named as a run folder in the skipped list."""
    before = scan_folder(shapes_folder).paths
    refused = _invoke("cluster", shapes_folder, "-k", 3, "--out", shapes_folder / "runs" / "one", *quick)
    assert refused.exit_code == 2 and "lies inside the input folder" in refused.output, refused.output
    first = _invoke("cluster", shapes_folder, "-k", 3, "--out", tmp_path / "one", *quick)
    assert first.exit_code == 0, first.output
    shutil.copytree(tmp_path / "one", shapes_folder / "runs" / "one")
    folder = scan_folder(shapes_folder)
    assert folder.paths == before and not any(p.startswith("runs/") for p in folder.paths)
    assert "a deepclust run folder" in {s.path: s.reason for s in folder.skipped}["runs/one"]
    second = _invoke("cluster", shapes_folder, "-k", 3, "--out", tmp_path / "two", *quick)
    assert second.exit_code == 0 and json.loads((tmp_path / "two" / "run.json").read_text())["n_clustered"] == 30


def test_limit_draws_a_stratified_seeded_subset(mnist_5k):
    """`limit` on data stored class by class keeps every class in its share, the same for the same seed."""
    X, y = mnist_5k
    assert len(np.unique(y[:1000])) == 2  # the data set is sorted: the first 1,000 are 0s and 1s
    chosen, how = subset_indices(len(y), 1000, y, random_state=0)
    assert len(chosen) == 1000 and np.all(np.diff(chosen) > 0) and "stratified" in how
    assert np.bincount(y[chosen]).tolist() == [100] * 10
    again, _ = subset_indices(len(y), 1000, y, random_state=0)
    other, _ = subset_indices(len(y), 1000, y, random_state=1)
    assert np.array_equal(chosen, again) and not np.array_equal(chosen, other)


def test_limit_on_a_dataset_and_on_a_folder_from_the_cli(shared_shapes_folder, tmp_path, quick):
    """--limit on a builtin set holds all classes and says how in run.json; on a folder it is honoured, not ignored."""
    out = tmp_path / "mnist"
    result = _invoke("cluster", "--dataset", "mnist-5k", "--limit", 100, "-k", 10, "--out", out, *quick)
    assert result.exit_code == 0, result.output
    info = _strict_json(out / "run.json")
    assert info["n_clustered"] == 100 and "stratified" in info["source"]["subset"]
    import csv

    labels = [int(r["label"]) for r in csv.DictReader((out / "assignments.csv").open())]
    assert np.bincount(labels).tolist() == [10] * 10
    paths = [int(r["path"]) for r in csv.DictReader((out / "assignments.csv").open())]
    assert max(paths) > 4000  # rows name images of the whole set, not of the subset
    out = tmp_path / "folder"
    result = _invoke("cluster", shared_shapes_folder, "--limit", 12, "-k", 3, "--labels-from-subfolders", "--out", out,
                     *quick)
    assert result.exit_code == 0, result.output
    info = _strict_json(out / "run.json")
    unreadable = [s for s in info["skipped"] if s["path"].startswith("bad/")]  # drawn, then failed to decode
    assert info["n_clustered"] + len(unreadable) == 12 and info["source"]["limit"] == 12


class OneClusterKMeans(ClusterMixin, BaseEstimator):
    """Toy plug-in that collapses: centres for every cluster asked for, but every image in cluster 0.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters.
    """

    def __init__(self, n_clusters: int = 3):
        self.n_clusters = n_clusters

    def fit(self, X, y=None):
        import warnings

        Z = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        warnings.warn("the toy lost its clusters\n  (a second line the user need not see)", UserWarning, stacklevel=2)
        self.labels_ = np.zeros(len(Z), dtype=np.int64)
        self.embedding_, self.cluster_centers_ = Z, Z[: self.n_clusters]
        return self


@pytest.fixture
def collapsing():
    register_method("toy-collapse", inputs=("pixels",), family="toy", paper="none (a test)")(OneClusterKMeans)
    yield
    unregister_method("toy-collapse")


def test_a_collapsed_run_reports_the_clusters_it_used_in_strict_json(collapsing, tmp_path, quick):
    """One number everywhere (the clusters used), the k it was fitted with beside it, the collapse as one readable
    line, and NaN scores written as null with the reason."""
    out = tmp_path / "collapsed"
    result = _invoke("cluster", "--dataset", "digits", "--limit", 100, "--method", "toy-collapse", "-k", 10,
                     "--out", out, *quick[2:])  # a pixels method: no feature cache to give
    assert result.exit_code == 0, result.output
    assert "100 images in 1 clusters (fitted with 10)" in result.output
    assert "warning: collapsed: toy-collapse put the images in 1 of the 10 clusters" in result.output
    assert "warning: the toy lost its clusters" in result.output and "second line" not in result.output
    assert "UserWarning" not in result.output and ".py:" not in result.output
    info = _strict_json(out / "run.json")
    assert info["n_clusters"] == 1 and info["metrics"]["n_clusters"] == 1
    assert info["n_clusters_requested"] == 10 and info["n_clusters_fitted"] == 10
    assert info["metrics"]["silhouette"] is None and "1 cluster" in info["metrics_undefined"]["silhouette"]
    assert any(n.startswith("collapsed") for n in info["notes"])


@pytest.mark.parametrize("args, words", [
    (("--device", "gpu"), "unknown device 'gpu'"),
    (("--batch-size", 0), "--batch-size"),
    (("-k", 1), "--n-clusters"),
    (("--k-max", 1), "--k-max must be at least --k-min"),
    (("--pca", -5), "--pca-components must be 0"),
    (("--method", "kmean"), "did you mean 'kmeans'"),
    (("--method", "dec", "-k", 3, "--pretrain-epoch", 5), "did you mean --pretrain-epochs?"),
    (("--heads", 4), "method kmeans has no option --heads"),
    (("--split", "test"), "--split does not apply to digits"),
    (("--labels-from-subfolders",), "--labels-from-subfolders applies to a folder"),
])
def test_bad_values_are_one_sentence_and_exit_2(args, words, tmp_path, quick):
    """Each bad value is refused before any long work, in the CLI's words, exit 2, no traceback."""
    result = _invoke("cluster", "--dataset", "digits", *args, "--out", tmp_path / "x", *quick)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_folder_only_and_dataset_only_options_are_refused(shared_shapes_folder, tmp_path, quick):
    """--split on a folder, and labels from subfolders of a flat folder, are errors that name the option."""
    result = _invoke("cluster", shared_shapes_folder, "--split", "test", "--out", tmp_path / "x", *quick)
    assert result.exit_code == 2 and "--split applies only to --dataset" in result.output
    flat = tmp_path / "flat"
    flat.mkdir()
    for p in list((shared_shapes_folder / "disc").iterdir())[:4]:
        shutil.copy(p, flat / p.name)
    result = _invoke("cluster", flat, "-k", 2, "--labels-from-subfolders", "--out", tmp_path / "y", *quick)
    assert result.exit_code == 2 and "class subfolder" in result.output


def test_version_and_grouped_help():
    """`deepclust --version` prints the version; `cluster --help` groups its options and shows examples."""
    result = _invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output
    result = runner.invoke(app, ["cluster", "--help"], env={"COLUMNS": "80"})
    for group in ("Input", "Features", "Method", "Output", "Runtime", "Examples"):
        assert group in result.output, group
    assert "…" not in result.output  # nothing cut off at 80 columns


def test_api_messages_and_repr(tmp_path, feature_cache):
    """The Python API speaks Python: save() on a full folder says overwrite=True; print(run) is one short line."""
    X, y = load_dataset("digits")
    run = cluster_images(X[:120], n_clusters=3, labels_true=y[:120], verbose=False, cache_dir=feature_cache)
    assert len(repr(run)) < 400 and "acc=" in repr(run)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        run.save(tmp_path / "full")
    import deepclust

    assert {"register_extractor", "iter_folder_batches", "internal_scores", "register_method"} <= set(
        deepclust.__all__)


def test_nan_never_reaches_json(tmp_path):
    """write_json writes strict JSON: NaN and infinities become null."""
    from deepclust._atomic import write_json

    write_json(tmp_path / "a.json", {"a": float("nan"), "b": [np.float32("inf"), 1.5], "c": np.array([np.nan])})
    data = _strict_json(tmp_path / "a.json")
    assert data == {"a": None, "b": [None, 1.5], "c": [None]}
    assert not any(isinstance(v, float) and math.isnan(v) for v in data["b"] if v is not None)


def test_evaluate_takes_absolute_paths_and_reports_coverage(shared_shapes_folder, tmp_path, quick):
    """A labels CSV with absolute paths scores the run; partial coverage and rows outside the run are warned about;
    the cluster-by-class table is printed and saved."""
    import csv

    out = tmp_path / "run"
    assert _invoke("cluster", shared_shapes_folder, "-k", 3, "--out", out, *quick).exit_code == 0
    rows = list(csv.DictReader((out / "assignments.csv").open()))
    labels = tmp_path / "labels.csv"
    lines = [f"{shared_shapes_folder / r['path']},{r['path'].split('/')[0]}" for r in rows[5:25]]
    labels.write_text("path,label\n" + "\n".join(lines + [f"{shared_shapes_folder}/elsewhere.png,disc"]) + "\n")
    result = _invoke("evaluate", out, "--labels", labels)
    assert result.exit_code == 0, result.output
    assert "labels 20 of the run's 30 images" in result.output and "1 row(s)" in result.output
    evaluation = _strict_json(out / "evaluation.json")
    assert evaluation["scores"]["n_scored"] == 20 and evaluation["scores"]["acc"] > 0.9
    confusion = (out / "confusion.csv").read_text().splitlines()
    assert confusion[0].split(",") == ["cluster", "bar", "disc", "square"] and len(confusion) == 4
    assert "majority" in result.output


def test_assign_new_images_to_a_kmeans_run(shared_shapes_folder, tmp_path, quick, feature_cache):
    """`assign` embeds new images as the run did and gives each the cluster of its kind; an agglomerative run is
    refused with a sentence that says why."""
    import csv

    out = tmp_path / "run"
    assert _invoke("cluster", shared_shapes_folder, "-k", 3, "--umap", 0, "--out", out, *quick).exit_code == 0
    assert (out / "model.joblib").is_file()
    run_rows = {r["path"]: r["cluster"] for r in csv.DictReader((out / "assignments.csv").open())}
    new = tmp_path / "new"
    new.mkdir()
    for kind in ("square", "disc", "bar"):
        for p in sorted((shared_shapes_folder / kind).iterdir())[:3]:
            shutil.copy(p, new / f"{kind}-{p.name}")
    result = _invoke("assign", out, new, "--out", tmp_path / "assigned", "--quiet", "--cache-dir", feature_cache)
    assert result.exit_code == 0, result.output
    got = {r["path"]: r["cluster"] for r in csv.DictReader((tmp_path / "assigned" / "assignments.csv").open())}
    assert len(got) == 9
    for name, cluster in got.items():
        kind, original = name.split("-", 1)
        assert cluster == run_rows[f"{kind}/{original}"], name  # the same image lands in the same cluster

    agg = tmp_path / "agg"
    assert _invoke("cluster", shared_shapes_folder, "-k", 3, "--method", "agglomerative-ward", "--out", agg,
                   *quick).exit_code == 0
    result = _invoke("assign", agg, new, "--out", tmp_path / "no")
    assert result.exit_code == 2 and "transductive" in result.output and "Traceback" not in result.output


def test_cache_list_and_clear(shared_shapes_folder, tmp_path, quick):
    """`cache list` shows what a run stored (what, images, size); `cache clear --yes` empties it."""
    cache = tmp_path / "cache"  # its own: the test counts the entries
    assert _invoke("cluster", shared_shapes_folder, "-k", 3, "--out", tmp_path / "run", *quick,
                   "--cache-dir", cache).exit_code == 0
    result = _invoke("cache", "list", "--cache-dir", cache)
    assert result.exit_code == 0 and "1 entries" in result.output and "efficientnet_lite0" in result.output
    result = _invoke("cache", "clear", "--cache-dir", cache, "--yes")
    assert result.exit_code == 0 and "removed 1" in result.output
    assert not list(cache.glob("*.npy"))


def test_offline_weights_error_names_the_file_and_where_to_get_it(monkeypatch):
    """A torchvision backbone without internet: the error names the weights file, its URL and both ways to give it."""
    import torchvision.models as tvm

    from deepclust.features import WeightsNotFoundError, create_extractor

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(tvm.ResNet50_Weights.IMAGENET1K_V2.__class__, "get_state_dict", offline)
    with pytest.raises(WeightsNotFoundError) as info:
        create_extractor("resnet50", device="cpu")
    message = str(info.value)
    assert "resnet50-11ad3fa6.pth" in message and "https://" in message
    assert "--weights PATH" in message and "checkpoints" in message
