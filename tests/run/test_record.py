"""The run record: run.json read back typed, from today's files and from those written before it had a schema
version; the pipeline's ClusterRun whole (tree, data set, --like) without the CLI patching it; a figure added to
the registry is drawn, listed and shown with nothing else changed."""

from __future__ import annotations

import json

import numpy as np
import pytest

import deepclust.run._figures as figures_module
from deepclust import cluster_images
from deepclust.datasets import load_dataset, open_dataset
from deepclust.run import RUN_FILE, SCHEMA_VERSION, Figure, RunFolder, RunRecord, write_run


@pytest.fixture(scope="module")
def digits_run():
    """k-means on 300 digits (CNN features, no UMAP), with its cluster tree."""
    X, y = load_dataset("digits")
    return cluster_images(X[:300], method="kmeans", n_clusters=6, labels_true=y[:300],
                          umap_components=None, verbose=False)


def test_the_record_goes_to_run_json_and_comes_back_equal(digits_run, tmp_path):
    """Every field of the record survives run.json; the clusters' tree is the ClusterRun's, made by the pipeline."""
    assert digits_run.tree is not None and len(digits_run.tree.clusters) == 6
    folder = RunFolder.open(write_run(digits_run, tmp_path / "run", map=None))
    record = folder.record
    assert record.schema_version == SCHEMA_VERSION == json.loads((folder.path / RUN_FILE).read_text())["schema_version"]
    assert RunRecord.from_json(record.to_json()) == record
    assert record.cluster_tree == digits_run.tree.to_dict()
    assert record.cluster_sizes == digits_run.cluster_sizes() and record.metrics == digits_run.metrics
    assert record.method == "kmeans" and record.input == "features" and record.source.kind == "array"
    assert record.parameters["umap_components"] is None and record.input_settings["typical_size"] == 8
    assert [f.name for f in record.figures] == ["cluster_tree"] and folder.has(record.figures[0].file)


def test_a_run_json_without_a_schema_version_is_read_and_its_figures_found(digits_run, tmp_path):
    """A run folder written before the record (no schema_version, no figures list, method_figures) still opens, and
    its page is rebuilt with the figures its files hold."""
    out = write_run(digits_run, tmp_path / "run", map=None)
    old = json.loads((out / RUN_FILE).read_text())
    for key in ("schema_version", "figures", "k_options"):
        old.pop(key)
    old["method_figures"] = []
    (out / RUN_FILE).write_text(json.dumps(old))
    folder = RunFolder.open(out)
    assert folder.record.schema_version == 1
    assert [f.name for f in folder.record.figures] == ["cluster_tree"]
    assert "super-clusters" in folder.record.figures[0].caption
    assert 'id="cluster-tree"' in folder.write_report().read_text()


def test_a_newer_schema_is_refused_in_one_sentence(tmp_path):
    """run.json from a newer deepclust says to update rather than being misread."""
    with pytest.raises(ValueError, match="newer than this deepclust reads"):
        RunRecord.from_json({"schema_version": SCHEMA_VERSION + 1})


def test_a_new_figure_is_one_entry_in_the_registry(digits_run, tmp_path, monkeypatch):
    """A Figure added to the registry is drawn by the writer, listed in run.json with its caption and shown on the
    page under its title: no other file changes."""
    def confidence(run, path):
        from deepclust.report import save_png

        save_png(path, np.tile((np.sort(run.confidence) * 255).astype(np.uint8), (20, 1)))
        return True

    extra = Figure("confidence", "figures/confidence.png", "Confidence, sorted", confidence,
                   lambda record: f"{record.n_clustered} images, least confident first.")
    monkeypatch.setattr(figures_module, "FIGURES_REGISTRY", (*figures_module.FIGURES_REGISTRY, extra))
    folder = RunFolder.open(write_run(digits_run, tmp_path / "run", map=None))
    shown = folder.record.figure("confidence")
    assert shown is not None and folder.has(shown.file) and shown.file in folder.record.files
    html = (folder.path / "report.html").read_text()
    assert 'id="confidence"' in html and 'src="figures/confidence.png"' in html
    assert "300 images, least confident first." in html


def test_a_builtin_data_set_is_recorded_by_the_pipeline(tmp_path):
    """A data set given as a source says itself which it is: the run records it, with its split, and scores itself
    with its labels, with no patch by the caller."""
    run = cluster_images(open_dataset("digits"), method="kmeans", n_clusters=10, limit=200,
                         umap_components=None, verbose=False)
    source = run.record.source
    assert (source.kind, source.dataset, source.split) == ("dataset", "digits", "all")
    assert (source.limit, source.n_found) == (200, 1797)
    assert "acc" in run.metrics
    folder = RunFolder.open(write_run(run, tmp_path / "run", map=None))
    assert len(folder.images([0, 1], size=8)) == 2


def test_the_tree_follows_the_labels_as_they_are(digits_run, tmp_path):
    """Merging two clusters in Python and saving writes the tree of the merged clusters, not a stale one."""
    import dataclasses

    merged = dataclasses.replace(digits_run, labels=np.where(digits_run.labels == 5, 4, digits_run.labels))
    folder = RunFolder.open(write_run(merged, tmp_path / "run", map=None))
    assert folder.record.cluster_tree["clusters"] == [0, 1, 2, 3, 4]
    assert set(folder.record.cluster_sizes) == {0, 1, 2, 3, 4}


def test_a_subset_of_an_array_records_the_shape_it_clustered():
    """With limit, run.json's source gives the shape of the images clustered and how many there were."""
    X, _ = load_dataset("digits")
    run = cluster_images(X[:100], method="kmeans", n_clusters=3, limit=40, umap_components=None, verbose=False)
    assert run.record.source.shape == (40, 8, 8) and run.record.source.n_found == 100


def test_a_method_figure_may_not_take_a_name_the_page_uses(digits_run, tmp_path, monkeypatch):
    """A method figure called like a registry figure or a page section is refused, not written over it."""
    import dataclasses

    class _Clashing:
        def figures_(self):
            return {"training": np.zeros((4, 4), np.uint8)}

    with pytest.raises(ValueError, match="may not be called 'training'"):
        write_run(dataclasses.replace(digits_run, estimator=_Clashing()), tmp_path / "run", map=None)


def test_an_old_source_without_a_kind_is_read_by_what_it_names():
    """A run.json source from before ``kind`` was written: a data set stays a data set."""
    assert RunRecord.from_json({"source": {"dataset": "digits"}}).source.title == "digits"
