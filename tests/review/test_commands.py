"""Every command reads the clusters a person fixed: export (folders by the given names, a CSV), evaluate, report,
compare, assign and cluster --like use them when the run has a review log and say so; --original gives the run as
clustered."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from helpers import invoke

from deepclust.review import ASIDE, ReviewedRun
from deepclust.run import RunFolder


def _by_class(shapes_run_copy) -> dict[str, int]:
    """The cluster the run put most of each class in."""
    run = RunFolder.open(shapes_run_copy, original=True)
    labels, truth = run.labels(), np.array([r["label"] for r in run.rows])
    return {k: int(np.bincount(labels[truth == k]).argmax()) for k in np.unique(truth)}


def _merge_round_things(shapes_run_copy) -> ReviewedRun:
    """Squares and discs merged and named, one bar set aside."""
    c = _by_class(shapes_run_copy)
    review = ReviewedRun.open(shapes_run_copy)
    review.apply({"op": "merge", "clusters": [c["square"], c["disc"]], "into": c["square"]})
    review.apply({"op": "rename", "cluster": c["square"], "name": "round or square"})
    bar = next(i for i, r in enumerate(review.run.rows) if r["label"] == "bar")
    review.apply({"op": "aside", "rows": [bar]})
    return review


def test_export_gives_the_folders_the_review_named(shapes_run_copy, tmp_path):
    review = _merge_round_things(shapes_run_copy)
    merged = _by_class(shapes_run_copy)["square"]
    result = invoke("export", shapes_run_copy, "--to", tmp_path / "fixed")
    assert result.exit_code == 0 and "29 images in 2 cluster folders" in result.text
    folders = {p.name: len(list(p.iterdir())) for p in (tmp_path / "fixed").iterdir() if p.is_dir()}
    assert folders[f"cluster_{merged:03d}_round_or_square"] == 20 and sorted(folders.values()) == [9, 20]
    record = json.loads((tmp_path / "fixed" / "export.json").read_text())
    assert record["clusters"].startswith("fixed by a person: 3 edits") and record["set_aside"] == 1

    invoke("export", shapes_run_copy, "--csv", tmp_path / "labels.csv")
    with open(tmp_path / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 29 and {r["name"] for r in rows if r["cluster"] == str(merged)} == {"round or square"}
    assert set(review.run.rows[i]["path"] for i in range(30)) - {r["path"] for r in rows} == {
        next(r["path"] for r in review.run.rows if review.labels[review.run.rows.index(r)] == ASIDE)}

    result = invoke("export", shapes_run_copy, "--to", tmp_path / "original", "--original")
    assert "30 images in 3 cluster folders" in result.text


def test_evaluate_and_report_show_the_fixed_clusters(shapes_run_copy):
    _merge_round_things(shapes_run_copy)
    result = invoke("evaluate", shapes_run_copy)
    assert result.exit_code == 0 and "clusters fixed by a person: 3 edits (review.jsonl)" in result.text
    fixed = json.loads((shapes_run_copy / "evaluation.json").read_text())
    assert fixed["clusters"].startswith("fixed by a person")
    # the image set aside is left out of the scores and counted apart (deepclust.metrics)
    assert fixed["scores"]["acc"] == pytest.approx(19 / 29) and fixed["scores"]["unclustered"] == pytest.approx(1 / 30)
    html = (shapes_run_copy / "report.html").read_text()
    assert "The clusters are those a person fixed: 3 edits" in html and "round or square" in html
    assert "in no cluster / set aside" in html

    result = invoke("evaluate", shapes_run_copy, "--original")
    original = json.loads((shapes_run_copy / "evaluation.json").read_text())
    assert "clusters as clustered" in result.text and original["scores"]["acc"] > fixed["scores"]["acc"]
    invoke("report", shapes_run_copy, "--original")
    assert "a person fixed" not in (shapes_run_copy / "report.html").read_text()


def test_compare_reads_the_fixed_clusters(shapes_run_copy, shapes_run, tmp_path):
    _merge_round_things(shapes_run_copy)
    result = invoke("compare", shapes_run, shapes_run_copy, "--out", tmp_path / "cmp")
    comparison = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert result.exit_code == 0 and "B's clusters are fixed by a person: 3 edits" in result.text
    assert comparison["ari"] < 0.7
    invoke("compare", shapes_run, shapes_run_copy, "--out", tmp_path / "cmp2", "--original")
    assert json.loads((tmp_path / "cmp2" / "comparison.json").read_text())["ari"] == pytest.approx(1.0)


def test_assign_places_new_images_by_the_fixed_clusters(shapes_run_copy, shared_shapes_folder, tmp_path):
    _merge_round_things(shapes_run_copy)
    new = tmp_path / "new"
    for kind in ("square", "disc", "bar"):
        shutil.copytree(shared_shapes_folder / kind, new / kind)
    merged = _by_class(shapes_run_copy)["square"]
    result = invoke("assign", shapes_run_copy, new, "--out", tmp_path / "assigned", "--quiet")
    assert result.exit_code == 0 and "fixed by a person: 3 edits" in result.text, result.output
    with open(tmp_path / "assigned" / "assignments.csv", newline="") as f:
        placed = {r["path"]: int(r["cluster"]) for r in csv.DictReader(f)}
    assert {placed[p] for p in placed if not p.startswith("bar/")} == {merged}
    assert {placed[p] for p in placed if p.startswith("bar/")} == {_by_class(shapes_run_copy)["bar"]}

    invoke("assign", shapes_run_copy, new, "--out", tmp_path / "as-clustered", "--quiet", "--original")
    with open(tmp_path / "as-clustered" / "assignments.csv", newline="") as f:
        assert len({r["cluster"] for r in csv.DictReader(f)}) == 3


def test_a_new_run_like_a_reviewed_one_keeps_its_fixed_numbers(shapes_run_copy, shared_shapes_folder, tmp_path):
    bars = _by_class(shapes_run_copy)["bar"]
    review = ReviewedRun.open(shapes_run_copy)
    review.apply({"op": "move", "rows": np.flatnonzero(review.labels == bars).tolist(), "to": None})  # a new number
    squares = _by_class(shapes_run_copy)["square"]
    review.apply({"op": "rename", "cluster": squares, "name": "four corners"})
    renumbered = int(review.labels[review.labels != ASIDE].max())
    assert renumbered == 3
    out = tmp_path / "again"
    result = invoke("cluster", shared_shapes_folder, "-k", "3", "--labels-from-subfolders", "--out", out, "--quiet",
                    "--workers", "0", "--like", shapes_run_copy)
    assert result.exit_code == 0, result.output
    assert "matched with the clusters a person fixed" in result.text and "1 name(s) given there" in result.text
    again = RunFolder.open(out)
    labels, truth = again.labels(), [r["label"] for r in again.rows]
    assert {int(c) for c, t in zip(labels, truth) if t == "bar"} == {renumbered}
    # the name given in review comes along, as the new run's first edit (its log), which every command reads
    assert again.cluster_names()[squares] == "four corners" and again.review.done[0]["op"] == "rename"
    assert "four corners" in (out / "report.html").read_text()

    result = invoke("cluster", shared_shapes_folder, "-k", "3", "--labels-from-subfolders", "--out", tmp_path / "as",
                    "--quiet", "--workers", "0", "--like", shapes_run_copy, "--original")
    again = RunFolder.open(tmp_path / "as")  # numbered like the run as clustered: the bars keep their old number
    assert {int(c) for c, t in zip(again.labels(), truth) if t == "bar"} == {bars} and again.review is None


def test_the_edits_export_as_json_for_other_tools(shapes_run_copy, tmp_path):
    _merge_round_things(shapes_run_copy)
    result = invoke("review", shapes_run_copy, "--export-log", tmp_path / "edits.json")
    exported = json.loads((tmp_path / "edits.json").read_text())
    assert result.exit_code == 0 and "3 edits written" in result.text
    assert [e["op"] for e in exported["edits"]] == ["merge", "rename", "aside"]
    assert sorted(c["size"] for c in exported["clusters"]) == [1, 9, 20]


def test_a_rename_alone_leaves_assign_to_the_model(shapes_run_copy, shared_shapes_folder, tmp_path):
    """Only edits that change the clusters' images move assign to the fixed centres."""
    ReviewedRun.open(shapes_run_copy).apply({"op": "rename", "cluster": 0, "name": "zero"})
    new = tmp_path / "new"
    shutil.copytree(shared_shapes_folder / "disc", new / "disc")
    placed = {}
    for flag in ([], ["--original"]):
        out = tmp_path / f"assigned{len(flag)}"
        result = invoke("assign", shapes_run_copy, new, "--out", out, "--quiet", *flag)
        assert result.exit_code == 0 and "placed by their centres" not in result.text
        placed[bool(flag)] = (out / "assignments.csv").read_text()
    assert placed[True] == placed[False]
