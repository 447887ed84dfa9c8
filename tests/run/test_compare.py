"""Comparing two runs: the one-to-one match of clusters, agreement, flows and moved images, in the library and
through `deepclust compare`, on small real runs of the digits data set."""

from __future__ import annotations

import csv
import itertools
import json
import re
import shutil

import numpy as np
import pytest
from helpers import invoke

from deepclust import cluster_images, load_dataset
from deepclust.run import ASSIGNMENTS_FILE, NotARunFolderError, RunFolder, compare_runs, match_clusters


@pytest.fixture(scope="module")
def runs(tmp_path_factory, feature_cache):
    """Run A: 200 digits in 5 clusters; run B: the first 150 of them in 8 clusters (a genuinely different run)."""
    X, y = load_dataset("digits")
    root = tmp_path_factory.mktemp("compare")
    a = cluster_images(X[:200], n_clusters=5, labels_true=y[:200], verbose=False).save(root / "a", map=None)
    b = cluster_images(X[:150], n_clusters=8, labels_true=y[:150], verbose=False).save(root / "b", map=None)
    return a, b


def _copy_with(run_dir, out, cluster=lambda c: c, path=lambda p: p):
    """A copy of a run folder whose assignments.csv has its cluster ids and paths rewritten."""
    shutil.copytree(run_dir, out)
    with (out / ASSIGNMENTS_FILE).open(newline="") as f:
        rows = list(csv.DictReader(f))
    with (out / ASSIGNMENTS_FILE).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "cluster": cluster(int(r["cluster"])), "path": path(r["path"])} for r in rows)
    return out


def test_match_clusters_follows_a_permutation_and_any_ids():
    """Permuted ids map back to the permutation; string ids work; a cluster of B left over has no partner."""
    rng = np.random.RandomState(0)
    a = rng.randint(0, 6, 300)
    perm = rng.permutation(6)
    assert match_clusters(a, perm[a]) == {int(perm[c]): c for c in range(6)}
    names = np.array(list("uvwxyz"))
    assert match_clusters(names[a], perm[a]) == {int(perm[c]): str(names[c]) for c in range(6)}
    split = np.where(a == 0, 6 + (np.arange(300) % 2), a)  # cluster 0 of A split in two in B
    match = match_clusters(a, split)
    assert sorted(v for v in match.values() if v is not None) == list(range(6))
    assert list(match.values()).count(None) == 1 and (match[6] is None or match[7] is None)
    with pytest.raises(ValueError, match="equal length"):
        match_clusters(a, a[:-1])


def test_a_run_against_itself_agrees_fully(runs):
    """A run with itself: ARI 1, NMI 1, nothing moved, every cluster matched to itself, flows on the diagonal."""
    a, _ = runs
    result = compare_runs(a, a)
    assert result.ari == pytest.approx(1.0) and result.nmi == pytest.approx(1.0)
    assert result.n_moved == 0 and result.moved == []
    assert result.n_shared == len(RunFolder.open(a).rows) and not result.only_in_a and not result.only_in_b
    assert result.match == {c: c for c in result.clusters_a} and result.unmatched_b == []
    assert (result.flows == np.diag(np.diag(result.flows))).all() and result.flows.sum() == result.n_shared


def test_permuted_cluster_numbers_are_matched_back(runs, tmp_path):
    """The same run with its cluster ids permuted: ARI 1, nothing moved, the match is the permutation."""
    a, _ = runs
    k = len(set(RunFolder.open(a).labels()))
    perm = {c: (c + 2) % k for c in range(k)}
    permuted = _copy_with(a, tmp_path / "permuted", cluster=perm.get)
    result = compare_runs(a, permuted)
    assert result.ari == pytest.approx(1.0) and result.n_moved == 0
    assert result.match == perm and result.match != {c: c for c in range(k)}


def test_a_different_run_lists_moved_images_and_flows(runs):
    """Another k on part of the images: ARI below 1, the counts of images add up, the flows are the runs' own
    assignments, the match keeps the most images any one-to-one match can, and exactly the images outside it moved."""
    a, b = runs
    result = compare_runs(a, b)
    rows_a, rows_b = RunFolder.open(a).rows, RunFolder.open(b).rows
    in_a = {r["path"]: int(r["cluster"]) for r in rows_a}
    in_b = {r["path"]: int(r["cluster"]) for r in rows_b}
    shared = in_a.keys() & in_b.keys()
    assert result.n_shared == len(shared) == 150 and len(result.only_in_a) == 50 and not result.only_in_b
    assert result.ari < 0.99, result.ari
    assert result.flows.sum() == result.n_shared
    for i, ca in enumerate(result.clusters_a):
        for j, cb in enumerate(result.clusters_b):
            assert result.flows[i, j] == sum(1 for p in shared if in_a[p] == ca and in_b[p] == cb)
    partners = [b for b in result.match.values() if b is not None]
    assert len(partners) == len(set(partners)) and set(result.unmatched_b) == set(result.clusters_b) - set(partners)
    kept = sum(f.kept for f in result.cluster_flows())
    col = {c: j for j, c in enumerate(result.clusters_b)}
    best = max(sum(result.flows[i, col[cb]] for i, cb in enumerate(choice))
               for choice in itertools.permutations(result.clusters_b, len(result.clusters_a)))
    assert kept == best and result.n_moved == result.n_shared - kept > 0
    assert {m.path for m in result.moved} == {p for p in shared if result.match[in_a[p]] != in_b[p]}
    assert all(m.cluster_a == in_a[m.path] and m.cluster_b == in_b[m.path] and m.matched_b != m.cluster_b
               for m in result.moved)


def test_cli_writes_the_comparison(runs, tmp_path):
    """`deepclust compare` prints the scores and counts and writes moved.csv, comparison.json and compare.html; an
    existing --out needs --overwrite."""
    a, b = runs
    out = tmp_path / "a-vs-b"
    result = invoke("compare", a, b, "--out", out)
    assert result.exit_code == 0, result.output
    expected = compare_runs(a, b)
    assert "ARI" in result.output and f"{expected.ari:.4f}" in result.output
    assert f"150 images in both runs, 50 only in A, 0 only in B; {expected.n_moved} moved" in result.output
    with (out / "moved.csv").open(newline="") as f:
        moved = list(csv.DictReader(f))
    assert [m["path"] for m in moved] == [m.path for m in expected.moved]
    record = json.loads((out / "comparison.json").read_text())
    assert record["n_moved"] == expected.n_moved and record["ari"] == pytest.approx(expected.ari)
    assert np.array_equal(record["flows"], expected.flows) and "deepclust_version" in record
    page = (out / "compare.html").read_text()
    assert 'id="flows-table"' in page
    thumbs = re.findall(r"class=\"thumb\" style=\"[^\"]*url\('([^']+)'\)", page)
    assert len(thumbs) == min(expected.n_moved, 500), "every moved image shown has its thumbnail"
    assert all((out / t).resolve().is_file() for t in thumbs)  # run A's member sheets, relative to the page

    again = invoke("compare", a, b, "--out", out)
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert invoke("compare", a, b, "--out", out, "--overwrite").exit_code == 0
    inside = invoke("compare", a, b, "--out", a / "comparison")
    assert inside.exit_code == 2 and "lies inside the input folder" in inside.output


def test_cli_with_itself_reports_nothing_moved(runs, tmp_path):
    """A run compared with itself on the command line: ARI 1 and 0 moved; moved.csv holds only its header."""
    a, _ = runs
    result = invoke("compare", a, a, "--out", tmp_path / "same")
    assert result.exit_code == 0, result.output
    assert "1.0000" in result.output and "; 0 moved" in result.output
    assert (tmp_path / "same" / "moved.csv").read_text() == "path,cluster_a,cluster_b,matched_b\n"
    assert "No image moved" in (tmp_path / "same" / "compare.html").read_text()


def test_the_page_escapes_paths(runs, tmp_path):
    """Paths that look like markup are shown as text on compare.html, never as markup."""
    a, b = runs
    def mark(path):
        return f"<b>{path}</b>.png"

    a2, b2 = _copy_with(a, tmp_path / "a", path=mark), _copy_with(b, tmp_path / "b", path=mark)
    assert invoke("compare", a2, b2, "--out", tmp_path / "out").exit_code == 0
    page = (tmp_path / "out" / "compare.html").read_text()
    assert "&lt;b&gt;" in page and "<b>" not in page


def test_not_a_run_folder_is_one_sentence(runs, tmp_path):
    """A folder that is no run: NotARunFolderError from the library, its one line and exit code 2 from the CLI."""
    a, _ = runs
    (tmp_path / "photos").mkdir()
    with pytest.raises(NotARunFolderError):
        compare_runs(a, tmp_path / "photos")
    result = invoke("compare", a, tmp_path / "photos", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "is not a run folder of deepclust" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_runs_of_other_images_share_none(runs, shared_shapes_folder, tmp_path):
    """A digits run and a run on a folder of photos share no image: a ValueError, on the CLI one line and exit 2."""
    a, _ = runs
    shapes = cluster_images(shared_shapes_folder, n_clusters=3, input_size=48, verbose=False)
    other = shapes.save(tmp_path / "shapes", map=None)
    with pytest.raises(ValueError, match="share no image"):
        compare_runs(a, other)
    result = invoke("compare", a, other, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "share no image" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
