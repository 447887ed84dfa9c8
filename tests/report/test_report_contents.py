"""What report.html says, from run folders written by hand: scores of `deepclust evaluate`, class names of the
builtin data sets, how the images were chosen, and only the parameters that applied."""

from __future__ import annotations

import json
import re

import pytest

from deepclust.run import RunFolder


def _run_folder(path, *, clusters, labels=None, source=None, **info):
    """A minimal run folder: run.json with ``info`` and assignments.csv with one row per entry of ``clusters``."""
    path.mkdir()
    run = {"deepclust_version": "test", "source": source or {"kind": "dataset", "dataset": "digits"},
           "parameters": {"method": "kmeans", "n_clusters": 2, "k_min": 2, "k_max": 20, "selection_sample": 5000,
                          "n_init": 10},
           "n_images": len(clusters), "n_clustered": len(clusters), "n_clusters": len(set(clusters)),
           "n_clusters_requested": 2, "metrics": {}, "skipped": [], **info}
    (path / "run.json").write_text(json.dumps(run))
    header = "path,cluster,distance,confidence" + (",label" if labels is not None else "")
    lines = [f"{i},{c},{0.1 * (i % 5):.1f},0.9" + (f",{labels[i]}" if labels is not None else "")
             for i, c in enumerate(clusters)]
    (path / "assignments.csv").write_text("\n".join([header, *lines]) + "\n")
    return path


def _cell(html: str, table_id: str, row: str) -> str:
    """The text of the cell after the header ``row`` in the table ``table_id``."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)[1]
    return re.search(rf"<tr><th>{re.escape(row)}</th><td[^>]*>(.*?)</td>", table)[1]


def test_evaluation_scores_majorities_and_table_reach_the_report(tmp_path):
    """After `deepclust evaluate`, the page shows its scores with where the labels came from and how many images
    they covered, each cluster's majority label with its share, and the cluster × class counts of confusion.csv."""
    run = _run_folder(tmp_path / "run", clusters=[0] * 4 + [1] * 4, source={"kind": "folder", "root": "/photos"})
    (run / "evaluation.json").write_text(json.dumps({
        "labels": "/data/my_labels.csv", "scores": {"acc": 0.875, "nmi": 0.5, "ari": 0.25, "purity": 0.875,
                                                    "n_scored": 7},
        "n_run_images": 8, "unmatched_label_rows": 2, "confusion_csv": "confusion.csv"}))
    (run / "confusion.csv").write_text("cluster,cat,dog\n0,3,1\n1,0,3\n")
    html = RunFolder.open(run).write_report().read_text()
    assert _cell(html, "evaluation", "acc") == "0.8750" and _cell(html, "evaluation", "purity") == "0.8750"
    note = re.search(r'<p class="sub" id="evaluation-source">(.*?)</p>', html, re.S)[1]
    assert "labels from /data/my_labels.csv" in note and "7 of 8 images scored" in note
    assert "2 label rows named no image of the run" in note
    table = re.search(r'<table id="cluster-table">(.*?)</table>', html, re.S)[1]
    assert "<td>cat (75%)</td>" in table and "<td>dog (100%)</td>" in table
    confusion = re.search(r'<table id="confusion">(.*?)</table>', html, re.S)[1]
    assert '<th class="num">cat</th><th class="num">dog</th>' in confusion
    assert '<tr><th>0</th><td class="num">3</td><td class="num">1</td></tr>' in confusion
    assert "Clusters against labels from /data/my_labels.csv" in html


def test_builtin_data_sets_show_class_names(tmp_path):
    """A Fashion-MNIST run shows "Ankle boot", not "9", as a cluster's majority label and as a column of the
    cluster × class table; a digits run shows the digit."""
    run = _run_folder(tmp_path / "fmnist", clusters=[0, 0, 0, 1, 1], labels=[9, 9, 7, 0, 0],
                      source={"kind": "dataset", "dataset": "fashion-mnist", "split": "test"})
    html = RunFolder.open(run).write_report().read_text()
    assert "<td>Ankle boot (67%)</td>" in html and "<td>T-shirt/top (100%)</td>" in html
    assert "majority Ankle boot (67%)" in html
    confusion = re.search(r'<table id="confusion">(.*?)</table>', html, re.S)[1]
    assert re.findall(r'<th class="num">(.*?)</th>', confusion) == ["T-shirt/top", "Sneaker", "Ankle boot"]
    run = _run_folder(tmp_path / "digits", clusters=[0, 0, 1], labels=[3, 3, 8])
    assert "<td>3 (100%)</td>" in RunFolder.open(run).write_report().read_text()


@pytest.mark.parametrize("source, expected", [
    ({"kind": "folder", "root": "/photos", "limit": 600, "n_found": 1216, "subset": "600 of 1216 images, random"},
     "600 of 1,216 images (a random 600: --limit)"),
    ({"kind": "dataset", "dataset": "digits", "limit": 600, "n_found": 1797,
      "subset": "600 of 1797 images, random, stratified by label"},
     "600 of 1,797 images (a random 600: --limit, stratified by label)"),
    ({"kind": "folder", "root": "/photos", "limit": 900, "n_found": 600, "subset": "all 600 images (limit 900 ≥ …)"},
     "600 of 600 images (all of them: --limit 900 is not below their number)"),
    ({"kind": "folder", "root": "/photos", "limit": 600, "subset": "600 of 1216 images, random"},
     "600 images (a random 600 of those found: --limit)"),
    ({"kind": "folder", "root": "/photos"}, "600 images"),
])
def test_summary_says_how_many_images_of_how_many(tmp_path, source, expected):
    """The images line says how many images were clustered out of how many were found and how they were chosen
    (--limit), never calling the clustered ones "found"; files set aside are counted after it."""
    run = _run_folder(tmp_path / "run", clusters=[0, 1] * 300, source=source,
                      skipped=[{"path": "notes.txt", "reason": "not an image file extension"}])
    html = RunFolder.open(run).write_report().read_text()
    assert re.search(r'<td id="images">(.*?)</td>', html)[1] == f"{expected}; 1 file skipped (listed below)"


def test_parameters_show_only_what_applied(tmp_path):
    """With k given, the k-selection parameters (k_min, k_max, selection_sample) are not listed; with k chosen, they
    are, and n_clusters shows the chosen k and the criterion that chose it."""
    given = RunFolder.open(_run_folder(tmp_path / "given", clusters=[0, 1, 0, 1])).write_report().read_text()
    params = re.search(r"<h3>Parameters, as resolved</h3>\s*<table>(.*?)</table>", given, re.S)[1]
    assert "<th>n_clusters</th><td>2</td>" in params and "<th>n_init</th>" in params
    assert not any(f"<th>{k}</th>" in params for k in ("k_min", "k_max", "selection_sample"))
    chosen = _run_folder(tmp_path / "chosen", clusters=[0, 1, 2, 0], n_clusters_requested=None,
                         n_clusters_fitted=3, k_selection={"k": 3, "criterion": "prediction strength", "votes": {}})
    info = json.loads((chosen / "run.json").read_text())
    info["parameters"]["n_clusters"] = None
    (chosen / "run.json").write_text(json.dumps(info))
    html = RunFolder.open(chosen).write_report().read_text()
    params = re.search(r"<h3>Parameters, as resolved</h3>\s*<table>(.*?)</table>", html, re.S)[1]
    assert "<th>n_clusters</th><td>3, chosen by prediction strength</td>" in params and "None" not in params
    assert all(f"<th>{k}</th>" in params for k in ("k_min", "k_max", "selection_sample"))
    assert "none: k = 3, chosen by prediction strength" in html
