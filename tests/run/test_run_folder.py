"""The run folder's schema: write_run writes a ClusterRun whole, RunFolder reads it back, the one "not a run folder"
error, the files later commands add, the saved model and the method-figure hook. Small arrays, no extraction."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering, KMeans

from deepclust.run import (
    ASSIGNMENTS_FILE,
    EMBEDDING_FILE,
    MODEL_FILE,
    RUN_FILE,
    ClusterRun,
    NotARunFolderError,
    RunFolder,
    write_run,
)


def _run(estimator=None, n: int = 12, labels_true=None) -> ClusterRun:
    """A ClusterRun of ``n`` 8×8 grey images in two clusters, as cluster_images would return it."""
    rng = np.random.RandomState(0)
    embedding = np.vstack([rng.normal(0, 0.1, (n // 2, 2)), rng.normal(3, 0.1, (n - n // 2, 2))]).astype(np.float32)
    estimator = KMeans(2, n_init=1, random_state=0).fit(embedding) if estimator is None else estimator
    labels = np.repeat([0, 1], [n // 2, n - n // 2])
    centers = np.array([embedding[labels == c].mean(0) for c in (0, 1)])
    return ClusterRun(paths=[str(i) for i in range(n)], labels=labels,
                      distances=np.linalg.norm(embedding - centers[labels], axis=1), confidence=np.full(n, 0.9),
                      n_clusters=2, params={"method": "kmeans", "n_clusters": 2, "random_state": 0},
                      timings={"total": 0.5}, metrics={"silhouette": 0.8}, labels_true=labels_true,
                      source=rng.randint(0, 256, (n, 8, 8), dtype=np.uint8), indices=np.arange(n),
                      embedding=embedding, estimator=estimator, n_clusters_fitted=2)


def test_write_run_then_read_it_back(tmp_path):
    """Every row, label, distance and the embedding come back from the folder as they went in; run.json lists files
    that exist."""
    run = _run(labels_true=np.array(list("ab") * 6))
    out = write_run(run, tmp_path / "run", map=None, command=["test"])
    folder = RunFolder.open(out)
    assert [r["path"] for r in folder.rows] == run.paths
    assert (folder.labels() == run.labels).all()
    assert np.allclose([float(r["distance"]) for r in folder.rows], run.distances, rtol=1e-5)
    assert [r["label"] for r in folder.rows] == list(run.labels_true)
    assert np.allclose(folder.embedding, run.embedding)
    assert folder.info["command"] == ["test"] and folder.info["cluster_sizes"] == {"0": 6, "1": 6}
    assert folder.info["model_not_saved"] is None and folder.has_model
    assert folder.root is None and folder.info["source"] == {"kind": "array", "shape": [12, 8, 8]}
    missing = [f for f in folder.info["files"] if not folder.has(f)]
    assert not missing, missing
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary folder was left behind"


def test_the_saved_model_predicts_as_the_fitted_one(tmp_path):
    """model.joblib loads back to an estimator that labels new points as the run's estimator does."""
    run = _run()
    folder = RunFolder.open(write_run(run, tmp_path / "run", map=None))
    points = np.array([[0.0, 0.0], [3.0, 3.0]], dtype=np.float32)
    assert (folder.load_model().predict(points) == run.estimator.predict(points)).all()


def test_a_transductive_method_saves_no_model_and_says_why(tmp_path):
    """Agglomerative clustering cannot place new points: no model.joblib, the reason in run.json and in the error."""
    run = _run(estimator=AgglomerativeClustering(2))
    folder = RunFolder.open(write_run(run, tmp_path / "run", map=None))
    assert not (folder.path / MODEL_FILE).exists() and "transductive" in folder.info["model_not_saved"]
    with pytest.raises(ValueError, match="cannot assign new images: AgglomerativeClustering is transductive"):
        folder.load_model()


@pytest.mark.parametrize("missing", [RUN_FILE, ASSIGNMENTS_FILE])
def test_a_folder_without_the_run_files_is_not_a_run_folder(tmp_path, missing):
    """One error, one message, naming the folder and the file that is missing."""
    out = write_run(_run(), tmp_path / "run", map=None)
    (out / missing).unlink()
    with pytest.raises(NotARunFolderError, match=f"is not a run folder of deepclust .*: {missing} is missing"):
        RunFolder.open(out)


def test_the_embedding_is_read_when_used(tmp_path):
    """A run folder without embedding.npy still opens (the report needs no embedding); using it raises the error."""
    out = write_run(_run(), tmp_path / "run", map=None)
    (out / EMBEDDING_FILE).unlink()
    folder = RunFolder.open(out)
    with pytest.raises(NotARunFolderError, match=f"{EMBEDDING_FILE} is missing"):
        folder.embedding  # noqa: B018


def test_a_failed_write_leaves_nothing(tmp_path):
    """An error while writing leaves neither the run folder nor its temporary folder behind."""
    class Broken(KMeans):
        def figures_(self):
            raise RuntimeError("boom")

    run = _run(estimator=Broken(2, n_init=1).fit(np.eye(2)))
    with pytest.raises(RuntimeError, match="boom"):
        write_run(run, tmp_path / "run", map=None)
    assert list(tmp_path.iterdir()) == []


def test_files_that_commands_add_are_read_back_and_shown(tmp_path):
    """evaluation, outliers and duplicates written through RunFolder come back through it and appear in the page."""
    from deepclust.explore import DuplicateGroup

    folder = RunFolder.open(write_run(_run(), tmp_path / "run", map=None))
    folder.write_evaluation({"labels": "test", "scores": {"acc": 1.0}}, ["a", "b"], {"0": [6, 0], "1": [0, 6]})
    written = folder.write_outliers([{"path": "3", "cluster": 0, "score": 2.5, "confidence": 0.5}],
                                    images=[np.zeros((8, 8), np.uint8)])
    folder.write_duplicates([DuplicateGroup("near", ["1", "2"], 0.995, None)])
    assert all(folder.has(name) for name in written) and len(written) == 2
    assert folder.evaluation()["scores"] == {"acc": 1.0}
    assert folder.confusion() == [["cluster", "a", "b"], ["0", "6", "0"], ["1", "0", "6"]]
    assert folder.outliers() == [{"path": "3", "cluster": "0", "score": "2.5", "confidence": "0.5000"}]
    assert folder.duplicates() == [{"group": "0", "kind": "near", "similarity": "0.9950", "hamming": "", "path": "1"},
                                   {"group": "0", "kind": "near", "similarity": "0.9950", "hamming": "", "path": "2"}]
    html = folder.write_report().read_text()
    assert 'id="outliers"' in html and "figures/outliers.png" in html and "0.9950" in html


class _WithFigures(KMeans):
    def figures_(self):
        return {"attention": (np.full((10, 20, 3), 200, np.uint8), "Where it looks."),
                "tiles": [np.zeros((8, 8), np.uint8)] * 3}


@pytest.mark.parametrize(("estimator", "names"), [
    (_WithFigures, ["figures/attention.png", "figures/tiles.png"]),
    (KMeans, []),
])
def test_method_figures_come_from_the_hook(tmp_path, estimator, names):
    """A method's figures_ become files of the run, listed in run.json, on the page; a method without has none."""
    run = _run(estimator=estimator(2, n_init=1, random_state=0).fit(np.eye(2)))
    folder = RunFolder.open(write_run(run, tmp_path / "run", map=None))
    method_figures = [f for f in folder.record.figures if f.name in ("attention", "tiles")]
    assert [f.file for f in method_figures] == names and all(folder.has(n) for n in names)
    html = (folder.path / "report.html").read_text()
    assert all(f'src="{n}"' in html for n in names)
    if names:  # a caption given with the picture is the page's
        assert method_figures[0].caption == "Where it looks." and "Where it looks." in html
    assert set(names) <= set(json.loads((folder.path / RUN_FILE).read_text())["files"])


def test_a_run_made_by_hand_shows_its_rows_without_indices(shared_shapes_folder):
    """A ClusterRun built in Python from a folder and its paths (no indices) reads each row's image by its row."""
    from deepclust.datasets import scan_folder

    folder = scan_folder(shared_shapes_folder / "disc")
    run = ClusterRun(paths=folder.paths[:4], labels=np.array([0, 0, 1, 1]), distances=np.zeros(4),
                     confidence=np.ones(4), n_clusters=2, params={}, timings={}, metrics={}, source=folder)
    np.testing.assert_array_equal(run.image(2, 32), folder.image(2, 32))
