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
    folder = open_source(shared_shapes_folder)
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
     r"rows 0 and 2 name the same image \(a.png\)"),
    (lambda d: (np.save(d / "e.npy", np.eye(3)), (d / "e.txt").write_text("a.png\nb.png\n")),
     r"names 2 paths but .* has 3 rows"),
    (lambda d: (d / "e.csv").write_text('path,embedding\na.png,"[1, 2]"\nb.png,"[1, 2, 3]"\n'),
     r"row 1 of column embedding has 3 values, row 0 has 2"),
    (lambda d: (d / "e.csv").write_text("file,x\na.png,1\n"), r"has no path column"),
    (lambda d: (d / "e.csv").write_text("path,x,y\na.png,1,cat\n"), r"column y is not numeric"),
    (lambda d: (np.save(d / "e.npy", np.eye(3)), (d / "e.txt").write_text("a.png\n\nb.png\n")),
     r"line 2 of .*e.txt is empty"),
    (lambda d: (np.save(d / "e.npy", np.eye(2)), (d / "a.png").write_bytes(b"x"),
                (d / "e.txt").write_text("a.png\n./a.png\n")), r"rows 0 and 1 name the same image \(./a.png\)"),
    (lambda d: (d / "e.csv").write_text(",path,x\n0,a.png,1\n1,b.png,2\n"), r"column 'Unnamed: 0' has no name"),
    (lambda d: (d / "e.csv").write_text('path,embedding\na.png,"[1 2]"\n'),
     r"row 0 of column embedding is not a list of numbers \(write each as JSON"),
    (lambda d: (d / "e.csv").write_text("path,x\na.png,1\n,2\n"), r"row 1 has no path"),
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
    assert res.exit_code == 2 and "wide.npy has 7 dimensions; the run's embeddings have 6" in res.output
    (tmp_path / "photos").mkdir()
    res = _cli("assign", tmp_path / "run", tmp_path / "photos", "--out", tmp_path / "images", "--quiet")
    assert res.exit_code == 2 and "this run clustered embeddings: assign an embeddings file" in res.output
    res = _cli("cluster", "--embeddings", tmp_path / "e.npy", "--extractor", "resnet18", "-k", "3", "--out",
               tmp_path / "r2")
    assert res.exit_code == 2 and "does not apply to given embeddings" in res.output


def test_string_labels_in_a_list_column_score_the_run(tmp_path):
    rng = np.random.RandomState(1)
    vectors = np.concatenate([rng.normal(0, 0.2, (15, 3)) + 3 * np.eye(3)[i] for i in range(3)])
    frame = pd.DataFrame({"path": [f"{i}.jpg" for i in range(45)], "embedding": [json.dumps(list(v)) for v in vectors],
                          "label": np.repeat(["cat", "dog", "car"], 15)})
    frame.to_csv(tmp_path / "e.csv", index=False)
    with pytest.warns(RuntimeWarning, match="no file its paths name was found"):
        run = cluster_images(load_embeddings(tmp_path / "e.csv"), n_clusters=3, verbose=False)
    assert run.metrics["acc"] == 1.0


def test_run_folder_commands_on_a_run_on_embeddings(shared_shapes_folder, folder_features, tmp_path):
    """similar, duplicates and export work on its rows; a new image cannot be embedded (one sentence); rows whose
    image is gone are left out of an export, and counted."""
    from deepclust.explore import export_clusters, find_duplicates, find_similar

    vectors, paths = folder_features
    np.save(tmp_path / "v.npy", np.vstack([vectors, vectors[:1]]))
    listed = [str(shared_shapes_folder / p) for p in paths] + [str(shared_shapes_folder / "gone.png")]
    (tmp_path / "v.txt").write_text("\n".join(listed))
    run = cluster_images(load_embeddings(tmp_path / "v.npy"), n_clusters=3, verbose=False)
    out = run.save(tmp_path / "run", map=None)
    found, _ = find_similar(out, run.paths[0], n=3)
    assert len(found) == 3
    with pytest.raises(ValueError, match="clustered embeddings made elsewhere"):
        Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tmp_path / "new.png")
        find_similar(out, tmp_path / "new.png", n=3)
    with pytest.warns(RuntimeWarning, match="near duplicates by its vectors only"):
        groups = find_duplicates(out)
    assert any({run.paths[0], run.paths[-1]} <= set(g.paths) for g in groups)  # the row given twice
    counts = export_clusters(out, tmp_path / "export")
    assert sum(counts.values()) == len(paths)
    assert json.loads((tmp_path / "export" / "export.json").read_text())["missing_files"] == 1


def test_the_same_vectors_give_the_same_partition_from_npy_and_csv(tmp_path, monkeypatch):
    """320 vectors of 8 overlapping blobs saved as .npy and as a CSV table (whose columns come column-major) give
    the same partition with the same seed, through L2, PCA and UMAP; `assign RUN NEW.npy` names its default folder
    after the file's stem."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(320, n_features=64, centers=8, cluster_std=4.0, random_state=0)
    np.save(tmp_path / "v.npy", X)
    table = pd.DataFrame(X.astype(np.float32), columns=[f"d{i}" for i in range(64)])
    table.insert(0, "path", [str(i) for i in range(320)])
    table.to_csv(tmp_path / "t.csv", index=False)
    runs = [cluster_images(load_embeddings(tmp_path / f), n_clusters=8, random_state=0, verbose=False)
            for f in ("v.npy", "t.csv")]
    assert np.array_equal(runs[0].labels, runs[1].labels) and np.array_equal(runs[0].embedding, runs[1].embedding)
    monkeypatch.chdir(tmp_path)
    assert _cli("cluster", "--embeddings", "v.npy", "-k", "8", "--out", "run", "--map", "none",
                "--quiet").exit_code == 0
    np.save(tmp_path / "new_hist.npy", X[:5])
    res = _cli("assign", "run", "new_hist.npy", "--quiet")
    assert res.exit_code == 0 and (tmp_path / "runs" / "run-assign-new_hist").is_dir(), res.output
