"""Clustering again like an earlier run (``--like RUN``): matched clusters keep their numbers, new ones get new
numbers, the saved model assigns in the kept numbers."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from deepclust import cluster_images
from deepclust.cli import app
from deepclust.run import RunFolder, keep_numbers


def _grown(shared_shapes_folder, tmp_path):
    """The shapes folder with one more image (a copy of a disc under a new name) and without its broken files."""
    folder = tmp_path / "grown"
    for kind in ("square", "disc", "bar"):
        shutil.copytree(shared_shapes_folder / kind, folder / kind)
    shutil.copy(folder / "disc" / "disc_00.png", folder / "disc" / "disc_new.png")
    return folder


def test_kept_numbers_when_an_image_is_added(shared_shapes_folder, tmp_path):
    """The earlier run's images keep their clusters' numbers whatever numbers the new fit gave (here permuted on
    purpose), and the added image is in the cluster of its copy."""
    before = cluster_images(shared_shapes_folder, n_clusters=3, verbose=False)
    earlier = before.save(tmp_path / "earlier", map=None)
    again = cluster_images(_grown(shared_shapes_folder, tmp_path), n_clusters=3, random_state=1, verbose=False)
    permuted = dataclasses.replace(again, labels=np.array([2, 0, 1])[again.labels])
    kept = keep_numbers(permuted, earlier)
    old = dict(zip(before.paths, before.labels))
    assert all(old[p] == c for p, c in zip(kept.paths, kept.labels) if p in old)
    row = dict(zip(kept.paths, kept.labels))
    assert row["disc/disc_new.png"] == row["disc/disc_00.png"]
    assert kept.params["like"]["kept"] == [0, 1, 2] and kept.params["like"]["new"] == []


def test_a_cluster_that_is_not_there_before_gets_a_new_number(shared_shapes_folder, tmp_path):
    """An earlier run of two clusters (one holding two kinds): the kind split off now gets number 2, not 0 or 1."""
    earlier = cluster_images(shared_shapes_folder, n_clusters=2, verbose=False).save(tmp_path / "two", map=None)
    now = keep_numbers(cluster_images(shared_shapes_folder, n_clusters=3, verbose=False), earlier)
    assert now.params["like"]["kept"] == [0, 1] and now.params["like"]["new"] == [2]
    assert sorted(set(now.labels.tolist())) == [0, 1, 2]


def test_cli_like_and_assign_in_the_kept_numbers(shared_shapes_folder, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["cluster", str(shared_shapes_folder), "-k", "3", "--out", str(tmp_path / "a"), "--map",
                              "none", "--quiet"])
    assert res.exit_code == 0, res.output
    grown = _grown(shared_shapes_folder, tmp_path)
    res = runner.invoke(app, ["cluster", str(grown), "-k", "3", "--seed", "5", "--like", str(tmp_path / "a"), "--out",
                              str(tmp_path / "b"), "--map", "none", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "3 cluster(s) kept their numbers (0, 1, 2), 0 new" in " ".join(res.output.split())
    a = {r["path"]: r["cluster"] for r in RunFolder.open(tmp_path / "a").rows}
    b = {r["path"]: r["cluster"] for r in RunFolder.open(tmp_path / "b").rows}
    assert all(b[p] == c for p, c in a.items())
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(grown / "bar" / "bar_00.png", new / "x.png")
    res = runner.invoke(app, ["assign", str(tmp_path / "b"), str(new), "--out", str(tmp_path / "assigned"),
                              "--max-distance", "100", "--quiet"])
    assert res.exit_code == 0, res.output
    assigned = (tmp_path / "assigned" / "assignments.csv").read_text().splitlines()[1].split(",")
    assert assigned[1] == b["bar/bar_00.png"]
    res = runner.invoke(app, ["cluster", str(grown), "-k", "3", "--like", str(tmp_path / "nothing"), "--out",
                              str(tmp_path / "c")])
    assert res.exit_code == 2 and "not a run folder" in res.output


def test_no_shared_image_is_an_error(shared_shapes_folder, tmp_path):
    earlier = cluster_images(shared_shapes_folder, n_clusters=3, verbose=False).save(tmp_path / "a", map=None)
    X = np.random.RandomState(0).randint(0, 256, (20, 16, 16), dtype=np.uint8)
    with pytest.raises(ValueError, match="shares no image"):
        keep_numbers(cluster_images(X, n_clusters=2, verbose=False), earlier)


def test_numbers_with_gaps_go_through_the_run_folder_commands(shared_shapes_folder, tmp_path):
    """3 clusters, then 2 like them (number 2 vanishes), then 3 like those: the returning kind gets 3, a number never
    used before (2 meant other images two runs ago); the run with numbers {0, 1, 3} writes its report and goes
    through evaluate, compare and assign."""
    from deepclust.assign import assign_images
    from deepclust.run import compare_runs

    three = cluster_images(shared_shapes_folder, n_clusters=3, verbose=False).save(tmp_path / "three", map=None)
    two = keep_numbers(cluster_images(shared_shapes_folder, n_clusters=2, verbose=False), three)
    assert sorted(set(two.labels.tolist())) == [0, 1] and two.params["like"]["next_number"] == 3
    again = keep_numbers(cluster_images(shared_shapes_folder, n_clusters=3, verbose=False),
                         two.save(tmp_path / "two", map=None))
    assert again.params["like"]["new"] == [3] and sorted(set(again.labels.tolist())) == [0, 1, 3]
    gap = again.save(tmp_path / "gap", map=None)
    assert "Cluster 3" in (gap / "report.html").read_text() and (gap / "figures/cluster_003.png").is_file()
    result = CliRunner().invoke(app, ["evaluate", str(gap)])
    assert result.exit_code == 0, result.output
    assert compare_runs(three, gap).n_shared == len(again.paths)
    assigned = assign_images(gap, shared_shapes_folder / "bar", max_distance=100, verbose=False)
    assert set(assigned.labels.tolist()) <= {0, 1, 3}
