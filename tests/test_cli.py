"""The command line end to end on a small folder of real (and broken) files."""

from __future__ import annotations

import csv
import json
import os

import pytest
from helpers import invoke
from typer.testing import CliRunner

from deepclust.cli import app

runner = CliRunner()


@pytest.fixture
def run_args(feature_cache):
    """A quick run: the session's feature cache, no 2-D map (test_cluster_folder_end_to_end draws one)."""
    return ["--n-clusters", 3, "--cache-dir", feature_cache, "--quiet", "--workers", 0, "--map", "none"]


def test_help_lists_commands():
    """`deepclust --help` names every command."""
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("cluster", "evaluate", "datasets", "extractors", "methods"):
        assert command in result.output


def test_cluster_folder_end_to_end(shared_shapes_folder, tmp_path, run_args):
    """A run folder with run.json, assignments.csv and a montage per cluster; bad files listed with reasons;
    the shapes are found; `evaluate` scores it from the subfolder names."""
    out = tmp_path / "run"
    result = invoke("cluster", shared_shapes_folder, "--out", out, "--labels-from-subfolders", *run_args,
                     "--map", "umap")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["n_clustered"] == 30 and info["n_clusters"] == 3 and info["seed"] == 0
    skipped = {s["path"]: s["reason"] for s in info["skipped"]}
    assert {"bad/empty.png", "bad/notes.png", "bad/truncated.png", "readme.txt", ".hidden.png", "loop"} <= set(skipped)
    assert info["metrics"]["acc"] >= 0.9, info["metrics"]
    assert set(info["timings_s"]) >= {"extract", "cluster", "total"} and info["versions"]["torch"]
    rows = list(csv.DictReader((out / "assignments.csv").open()))
    assert len(rows) == 30 and {"path", "cluster", "distance", "confidence"} <= set(rows[0])
    assert all((shared_shapes_folder / r["path"]).is_file() for r in rows)
    assert sorted(p.name for p in (out / "figures").iterdir()) == [f"cluster_{c:03d}.png" for c in range(3)] + [
        "cluster_tree.png", "map.png", "map_hover.jpg", "map_hover.json", "map_thumbnails.png", "members"]
    # clusters of 10 are shown whole: no least-typical montage; the shapes are in colour: the pointer's thumbnails
    # are a JPEG
    assert (out / "report.html").is_file() and (out / "embedding_2d.npy").is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert (out.stat().st_mode & 0o777) == 0o777 & ~umask  # the modes of any new folder and file, not 0700/0600
    assert ((out / "run.json").stat().st_mode & 0o777) == 0o666 & ~umask

    result = invoke("evaluate", out)
    assert result.exit_code == 0, result.output
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["labels"] == "assignments.csv label column"
    assert evaluation["scores"]["acc"] == pytest.approx(info["metrics"]["acc"])


def test_evaluate_with_a_labels_csv(shared_shapes_folder, tmp_path, run_args):
    """`evaluate --labels CSV` scores only the listed images, against the CSV's labels."""
    out = tmp_path / "run"
    assert invoke("cluster", shared_shapes_folder, "--out", out, *run_args).exit_code == 0
    rows = list(csv.DictReader((out / "assignments.csv").open()))
    labels = tmp_path / "labels.csv"
    labels.write_text("path,label\n" + "".join(f"{r['path']},{r['path'].split('/')[0]}\n" for r in rows[:20]))
    result = invoke("evaluate", out, "--labels", labels)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "evaluation.json").read_text())["scores"]["n_scored"] == 20


def test_refuses_to_overwrite_without_flag(shared_shapes_folder, tmp_path, run_args):
    """A non-empty --out is refused with one sentence and exit code 2; --overwrite does not replace a folder that
    is no run folder (tests/test_output_safety.py has the rest of the rule)."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = invoke("cluster", shared_shapes_folder, "--out", out, *run_args)
    assert result.exit_code == 2 and "--overwrite" in result.output and "Traceback" not in result.output
    assert (out / "precious.txt").read_text() == "keep me"
    assert invoke("cluster", shared_shapes_folder, "--out", out, "--overwrite", *run_args).exit_code == 2
    assert (out / "precious.txt").read_text() == "keep me" and not (out / "run.json").exists()


def test_same_seed_same_assignments(shared_shapes_folder, tmp_path, run_args):
    """Two runs with the same seed write identical assignments (UMAP and k-means seeded)."""
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert invoke("cluster", shared_shapes_folder, "--out", out, "--seed", 7, *run_args).exit_code == 0
    assert (outs[0] / "assignments.csv").read_text() == (outs[1] / "assignments.csv").read_text()


def test_user_errors_are_one_line(tmp_path):
    """Missing folders, unknown extractors and missing data sets exit 2 without a traceback."""
    cases = [("cluster", tmp_path / "nothere"),
             ("cluster", "--dataset", "digits", "--extractor", "nope", "--out", tmp_path / "x"),
             ("cluster", "--dataset", "mnist", "--data-dir", tmp_path, "--out", tmp_path / "y"),
             ("cluster",),
             ("evaluate", tmp_path)]
    for args in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output and "Traceback" not in result.output


def test_auto_k_on_dataset(tmp_path, feature_cache):
    """Without --n-clusters, k is chosen, and the curve is in run.json and as a PNG."""
    out = tmp_path / "digits"
    result = invoke("cluster", "--dataset", "digits", "--limit", 200, "--out", out, "--quiet", "--k-max", 8,
                     "--cache-dir", feature_cache, "--map", "none")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert 2 <= info["n_clusters"] <= 8 and len(info["k_selection"]["curve"]) == 7
    assert (out / "figures" / "k_selection.png").exists()
    assert info["source"]["dataset"] == "digits" and "acc" in info["metrics"]


def test_listing_commands():
    """`datasets` and `extractors` list what is there."""
    assert "mnist-5k" in invoke("datasets").output
    assert "efficientnet_lite0" in invoke("extractors").output


def test_deep_method_on_a_dataset_writes_training_curves(tmp_path):
    """`--method dec` on a builtin set: training.json (loss parts, ACC per refresh) and figures/training.png."""
    out = tmp_path / "dec"
    result = invoke("cluster", "--dataset", "digits", "--limit", 200, "--method", "dec", "-k", 10,
                     "--pretrain-epochs", 3, "--max-iter", 60, "--update-interval", 20, "--out", out, "--quiet",
                     "--map", "none")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["parameters"]["method"] == "dec" and info["parameters"]["pretrain_epochs"] == 3
    assert info["parameters"]["update_interval"] == 20 and info["parameters"]["alpha"] == 1.0
    training = json.loads((out / "training.json").read_text())
    assert len(training["pretraining"]) == 3 and len(training["clustering"]["acc"]) >= 3
    assert (out / "figures" / "training.png").exists()


def test_deep_method_on_a_folder_resizes_images(shared_shapes_folder, tmp_path):
    """`--method dcec --augment --optimizer adam` on a folder decodes images at --image-size, grey, trains DCEC-DA with
    the optimiser asked for, and still lists the bad files."""
    out = tmp_path / "dcec"
    result = invoke("cluster", shared_shapes_folder, "--method", "dcec", "-k", 3, "--image-size", 16,
                     "--pretrain-epochs", 5, "--max-iter", 30, "--update-interval", 10, "--augment",
                     "--optimizer", "adam", "--learning-rate", 0.002, "--out", out, "--quiet", "--workers", 0,
                     "--map", "none")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["parameters"]["image_size"] == 16 and info["parameters"]["grayscale"] is True
    assert info["parameters"]["augment"] is True
    assert info["parameters"]["optimizer"] == "adam" and info["parameters"]["learning_rate"] == 0.002
    assert info["n_clustered"] == 30 and "bad/truncated.png" in {s["path"] for s in info["skipped"]}


def test_deep_method_errors_are_one_line(tmp_path):
    """A deep method without k, a conv method on features, augmenting features, or a learning rate of 0 is refused
    with a sentence."""
    for args in (("--method", "dec"), ("--method", "dcec", "-k", 3, "--input", "features"),
                 ("--method", "dec", "-k", 3, "--input", "features", "--augment", "--limit", 50),
                 ("--method", "dec", "-k", 3, "--learning-rate", 0, "--limit", 50)):
        result = invoke("cluster", "--dataset", "digits", *args, "--out", tmp_path / "x")
        assert result.exit_code == 2 and "error:" in result.output, result.output


def test_best_method_on_a_dataset_joins_views(tmp_path):
    """`--method best` trains SCAN heads over the chosen views and (unmirrored) augmented copies, then self-labels;
    the run folder records the views, every head's label-free loss, the self-labelling, and probabilities as
    confidence."""
    out = tmp_path / "best"
    result = invoke("cluster", "--dataset", "digits", "--limit", 300, "--method", "best", "-k", 10,
                     "--view", "pixels", "--view", "hog", "--heads", 2, "--epochs", 100, "--augmentations", 1,
                     "--no-flip", "--out", out, "--quiet", "--map", "none")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["parameters"]["views"] == ["pixels", "hog"] and info["parameters"]["n_heads"] == 2
    # far above chance (measured 0.80 with this small budget); quality is tested in tests/cluster/test_scan.py
    assert info["metrics"]["acc"] > 0.7
    training = json.loads((out / "training.json").read_text())
    losses = training["clustering"]["head_losses"]
    assert len(losses) == 2 and training["clustering"]["head"] == losses.index(min(losses))
    assert info["parameters"]["augmentations"] == 1 and training["clustering"]["self_label"]["confident"]
    assert info["parameters"]["augment_flip"] is False  # digits: shifted copies, never mirrored
    with open(out / "assignments.csv") as f:
        confidence = [float(row["confidence"]) for row in csv.DictReader(f)]
    assert len(confidence) == 300 and all(0.1 <= c <= 1.0 for c in confidence)


def test_best_method_needs_k_and_known_views(tmp_path):
    for args in (("--method", "best"), ("--method", "best", "-k", 3, "--view", "sift")):
        result = invoke("cluster", "--dataset", "digits", "--limit", 100, *args, "--out", tmp_path / "x")
        assert result.exit_code == 2 and "error:" in result.output, result.output


def test_runtime_and_dask_options(tmp_path, run_args):
    """`--runtime onnx` extracts with ONNX Runtime (run.json says so); a --dask value that is no address is one
    sentence and exit 2, before any work."""
    out = tmp_path / "onnx"
    own_cache = ["--cache-dir", tmp_path / "cache"]  # the exported graph stays out of the session's cache
    result = invoke("cluster", "--dataset", "digits", "--limit", 60, "--runtime", "onnx", "--out", out, *run_args,
                     *own_cache)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["extraction"]["runtime"] == "onnx"
    result = runner.invoke(app, ["cluster", "--dataset", "digits", "--limit", "60", "--dask", "my-laptop",
                                 "--out", str(tmp_path / "dask"), *map(str, run_args + own_cache)])
    assert result.exit_code == 2 and "not a Dask address" in result.output


def test_labels_depth_picks_the_folder_level_that_names_the_class(tmp_path, run_args):
    """--labels-depth deepest scores against 2023/red and 2023/blue; the first level would make one class."""
    from PIL import Image

    root = tmp_path / "album"
    for kind, colour in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
        (root / "2023" / kind).mkdir(parents=True)
        for i in range(5):
            Image.new("RGB", (24, 24), tuple(c + 3 * i for c in colour)).save(root / "2023" / kind / f"{i}.png")
    out = tmp_path / "run"
    result = invoke("cluster", root, "--out", out, "--labels-from-subfolders", "--labels-depth", "deepest",
                     *run_args[2:], "-k", 2, "--map", "none")
    assert result.exit_code == 0, result.output
    labels = {r["label"] for r in csv.DictReader((out / "assignments.csv").open())}
    assert labels == {"2023/red", "2023/blue"}
    result = invoke("cluster", root, "--labels-depth", "deepest", "--out", tmp_path / "x", *run_args)
    assert result.exit_code == 2 and "--labels-from-subfolders" in result.output
