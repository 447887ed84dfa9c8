"""Bring your own embeddings (``deepclust cluster --embeddings FILE``): the files read, their defects refused in one
sentence, the same clusters as the folder run on the folder run's own features, pictures when the paths resolve,
``assign`` for new rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from deepclust import cluster_images
from deepclust.cli import app
from deepclust.datasets import load_embeddings, open_source
from deepclust.features import create_extractor, extract_features
from deepclust.run import RunFolder


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def folder_features(shared_shapes_folder):
    """The features a kmeans run on the shapes folder consumes (the same extractor and input size), their paths."""
    folder = open_source(shared_shapes_folder).source
    model = create_extractor("efficientnet_lite0", input_size=48)
    feats = extract_features(folder, model, verbose=False)
    return np.asarray(feats.features, np.float32), [folder.paths[i] for i in feats.indices]


def test_the_folder_runs_own_features_give_its_labels(shared_shapes_folder, folder_features, tmp_path):
    """Given the features the folder run consumed, named by their files, kmeans gives the same labels, and the
    run folder has the montages of a folder run (the paths resolve from the paths file's folder)."""
    vectors, paths = folder_features
    folder_run = cluster_images(shared_shapes_folder, n_clusters=3, input_size=48, verbose=False)
    np.save(tmp_path / "vectors.npy", vectors)
    (tmp_path / "vectors.paths.txt").write_text("\n".join(str(shared_shapes_folder / p) for p in paths) + "\n")
    table = load_embeddings(tmp_path / "vectors.npy")
    assert table.root == shared_shapes_folder and table.n_found == len(paths) and table.paths == paths
    run = cluster_images(table, n_clusters=3, verbose=False)
    assert run.paths == folder_run.paths
    np.testing.assert_array_equal(run.labels, folder_run.labels)
    out = run.save(tmp_path / "run", map=None)
    folder = RunFolder.open(out)
    assert folder.info["source"]["kind"] == "embeddings" and folder.root == shared_shapes_folder
    assert folder.info["parameters"]["embedding_dim"] == vectors.shape[1]
    montage = np.asarray(Image.open(out / "figures/cluster_000.png"))
    assert (montage < 250).mean() > 0.05  # tiles of the images, not a blank sheet
    again = load_embeddings(out / "embedding.npy")  # a run folder's own: its rows named by its assignments
    assert again.paths == run.paths and again.root == shared_shapes_folder


def test_tables_with_a_path_column_and_labels(tmp_path):
    """A CSV with one column per dimension and a parquet file with a list column give the same vectors; a label
    column scores the run; without paths that resolve the run says it has no pictures."""
    rng = np.random.RandomState(0)
    vectors = np.concatenate([rng.normal(0, 0.3, (20, 4)) + 3 * np.eye(4)[i % 2] for i in range(2)])
    labels = np.repeat([0, 1], 20)
    paths = [f"img_{i}.jpg" for i in range(40)]
    frame = pd.DataFrame(vectors, columns=[f"d{i}" for i in range(4)])
    frame.insert(0, "path", paths)
    frame["label"] = labels
    frame.to_csv(tmp_path / "e.csv", index=False)
    pd.DataFrame({"path": paths, "embedding": list(vectors)}).to_parquet(tmp_path / "e.parquet")
    from_csv, from_parquet = load_embeddings(tmp_path / "e.csv"), load_embeddings(tmp_path / "e.parquet")
    np.testing.assert_allclose(from_csv.vectors, from_parquet.vectors, rtol=1e-6)
    assert from_csv.paths == paths and from_csv.root is None and list(from_csv.labels) == list(labels)
    with pytest.warns(RuntimeWarning, match="no file its paths name was found"):
        run = cluster_images(from_csv, n_clusters=2, verbose=False)
    assert run.metrics["acc"] > 0.95
    out = run.save(tmp_path / "run", map=None)
    assert "none: no file" in json.loads((out / "run.json").read_text())["source"]["images"]


@pytest.mark.parametrize(("write", "message"), [
    (lambda d: np.save(d / "e.npy", np.array([[0.0, 1.0], [np.nan, 2.0]])), r"1 row\(s\) hold NaN .* row 1"),
    (lambda d: np.save(d / "e.npy", np.zeros(5)), r"shape \(5,\); embeddings are \(rows, dimensions\)"),
    (lambda d: (np.save(d / "e.npy", np.eye(3)), (d / "e.txt").write_text("a.png\nb.png\na.png\n")),
     r"the path a.png is listed twice \(rows 0 and 2\)"),
    (lambda d: (np.save(d / "e.npy", np.eye(3)), (d / "e.txt").write_text("a.png\nb.png\n")),
     r"names 2 paths but .* has 3 rows"),
    (lambda d: (d / "e.csv").write_text('path,embedding\na.png,"[1, 2]"\nb.png,"[1, 2, 3]"\n'),
     r"row 1 of column embedding has 3 values, row 0 has 2"),
    (lambda d: (d / "e.csv").write_text("file,x\na.png,1\n"), r"has no path column"),
    (lambda d: (d / "e.csv").write_text("path,x,y\na.png,1,cat\n"), r"column y is not numeric"),
])
def test_bad_files_get_one_sentence(tmp_path, write, message):
    write(tmp_path)
    file = next(tmp_path.glob("e.*[vy]"))
    with pytest.raises(ValueError, match=message):
        load_embeddings(file)


def test_methods_on_images_and_image_settings_are_refused(tmp_path):
    np.save(tmp_path / "e.npy", np.random.RandomState(0).normal(size=(30, 8)))
    table = load_embeddings(tmp_path / "e.npy")
    with pytest.raises(ValueError, match="method jule on pixels needs the images"):
        cluster_images(table, method="jule", n_clusters=2, verbose=False)
    with pytest.raises(ValueError, match="extractor does not apply to given embeddings"):
        cluster_images(table, n_clusters=2, extractor="resnet18", verbose=False)
    with pytest.warns(RuntimeWarning, match="came without paths, so its rows are named by number"):
        dec = cluster_images(table, method="dec", n_clusters=2, pretrain_epochs=1, max_iter=5, verbose=False)
    assert dec.params["input"] == "features" and len(dec.labels) == 30


def test_cli_cluster_on_embeddings_and_assign_new_rows(tmp_path):
    """`cluster --embeddings` writes a run; `assign RUN NEW.npy` puts new rows of each group into the cluster of
    their group; a file of another width is refused in one sentence."""
    rng = np.random.RandomState(0)
    centres = 4 * np.eye(6)[:3]
    np.save(tmp_path / "e.npy", np.concatenate([c + rng.normal(0, 0.3, (30, 6)) for c in centres]))
    res = _cli("cluster", "--embeddings", tmp_path / "e.npy", "-k", "3", "--out", tmp_path / "run", "--map", "none",
               "--quiet")
    assert res.exit_code == 0, res.output
    rows = RunFolder.open(tmp_path / "run").rows
    assert [r["path"] for r in rows[:2]] == ["0", "1"]
    np.save(tmp_path / "new.npy", np.stack(centres))
    res = _cli("assign", tmp_path / "run", tmp_path / "new.npy", "--out", tmp_path / "assigned", "--quiet")
    assert res.exit_code == 0, res.output
    new = pd.read_csv(tmp_path / "assigned" / "assignments.csv")
    by_group = {int(rows[30 * g]["cluster"]) for g in range(3)}
    assert set(new["cluster"]) == by_group and len(set(new["cluster"])) == 3
    np.save(tmp_path / "wide.npy", np.zeros((2, 7)))
    res = _cli("assign", tmp_path / "run", tmp_path / "wide.npy", "--out", tmp_path / "wide", "--quiet")
    assert res.exit_code == 2 and "7 dimensions" in res.output and "6" in res.output
    res = _cli("cluster", "--embeddings", tmp_path / "e.npy", "--extractor", "resnet18", "-k", "3", "--out",
               tmp_path / "r2")
    assert res.exit_code == 2 and "does not apply to given embeddings" in res.output
