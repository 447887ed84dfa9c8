"""A run's clusters fixed by a person: edits replayed over the run as clustered, on disk before they count, undone
and redone, never touching the run's own files; a log torn by a crash keeps every complete edit."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from sklearn.cluster import KMeans

from deepclust.review import ASIDE, ReadOnlyRunError, ReviewedRun
from deepclust.run import REVIEW_FILE, ClusterRun, write_run


@pytest.fixture
def run_dir(tmp_path):
    """A run of 30 points in three clusters of 10 (rows 0–9, 10–19, 20–29), as cluster_images would write it."""
    rng = np.random.RandomState(0)
    embedding = np.vstack([rng.normal(c, 0.1, (10, 2)) for c in (0, 3, 6)]).astype(np.float32)
    labels = np.repeat([0, 1, 2], 10)
    centers = np.array([embedding[labels == c].mean(0) for c in range(3)])
    run = ClusterRun(paths=[str(i) for i in range(30)], labels=labels,
                     distances=np.linalg.norm(embedding - centers[labels], axis=1), confidence=np.full(30, 0.9),
                     n_clusters=3, params={"method": "kmeans", "n_clusters": 3, "random_state": 0},
                     timings={"total": 0.1}, metrics={}, source=rng.randint(0, 256, (30, 8, 8), dtype=np.uint8),
                     embedding=embedding, estimator=KMeans(3, n_init=1, random_state=0).fit(embedding),
                     n_clusters_fitted=3)
    return write_run(run, tmp_path / "run", map=None)


def _fingerprint(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file() and p.name != REVIEW_FILE}


def test_edits_replay_over_the_run_and_leave_its_files_alone(run_dir):
    before = _fingerprint(run_dir)
    review = ReviewedRun.open(run_dir)
    review.apply({"op": "rename", "cluster": 0, "name": "left"})
    review.apply({"op": "merge", "clusters": [1, 2], "into": 1})
    review.apply({"op": "move", "rows": [0, 1], "to": None})  # a new cluster
    review.apply({"op": "aside", "rows": [29]})
    assert review.cluster_sizes() == {ASIDE: 1, 0: 8, 1: 19, 3: 2} and review.names == {0: "left"}
    again = ReviewedRun.open(run_dir)  # what another process reads from the log
    np.testing.assert_array_equal(again.labels, review.labels)
    assert _fingerprint(run_dir) == before and len(review.done) == 4


def test_undo_and_redo_step_through_the_edits(run_dir):
    review = ReviewedRun.open(run_dir)
    original = review.labels.copy()
    review.apply({"op": "merge", "clusters": [0, 2], "into": 0})
    merged = review.labels.copy()
    review.undo()
    np.testing.assert_array_equal(review.labels, original)
    review.redo()
    np.testing.assert_array_equal(review.labels, merged)
    review.undo()
    review.apply({"op": "rename", "cluster": 2, "name": "right"})  # a new edit: nothing left to redo
    assert review.redo() is None and review.names == {2: "right"}
    np.testing.assert_array_equal(review.labels, original)


def test_a_split_is_shown_then_applied_as_shown(run_dir):
    review = ReviewedRun.open(run_dir)
    review.apply({"op": "merge", "clusters": [0, 1], "into": 0})
    parts = review.propose_split(0, 2)
    assert sorted(map(sorted, parts)) == [list(range(10)), list(range(10, 20))]  # the two groups merged
    review.apply({"op": "split", "cluster": 0, "parts": parts})
    assert sorted(review.cluster_sizes().values()) == [10, 10, 10]
    with pytest.raises(ValueError, match="must divide cluster 0's images"):
        review.apply({"op": "split", "cluster": 0, "parts": [[0], [1]]})


@pytest.mark.parametrize("edit,message", [
    ({"op": "paint"}, "unknown edit 'paint'"),
    ({"op": "merge", "clusters": [0, 9], "into": 0}, "there is no cluster 9"),
    ({"op": "merge", "clusters": [0], "into": 0}, "merge two clusters or more"),
    ({"op": "move", "rows": [30], "to": 0}, "rows must be image numbers from 0 to 29"),
    ({"op": "rename", "cluster": 1, "name": "  "}, "name cannot be empty"),
    ({"op": "aside"}, "the aside edit needs rows"),
])
def test_a_bad_edit_is_refused_and_not_logged(run_dir, edit, message):
    review = ReviewedRun.open(run_dir)
    with pytest.raises(ValueError, match=message):
        review.apply(edit)
    assert not (run_dir / REVIEW_FILE).exists()


def test_a_torn_last_line_is_skipped_and_the_rest_kept(run_dir):
    review = ReviewedRun.open(run_dir)
    review.apply({"op": "aside", "rows": [3]})
    with open(run_dir / REVIEW_FILE, "a") as f:
        f.write('{"op": "merge", "clusters": [0, ')  # the process died while writing
    with pytest.warns(RuntimeWarning, match="line 2: not a complete edit"):
        review = ReviewedRun.open(run_dir)
    assert review.cluster_sizes()[ASIDE] == 1
    with pytest.warns(RuntimeWarning):
        review.apply({"op": "aside", "rows": [4]})  # appended on a line of its own
    with pytest.warns(RuntimeWarning):
        assert ReviewedRun.open(run_dir).cluster_sizes()[ASIDE] == 2


def test_two_writers_see_each_others_edits_in_order(run_dir):
    first, second = ReviewedRun.open(run_dir), ReviewedRun.open(run_dir)
    first.apply({"op": "rename", "cluster": 0, "name": "a"})
    second.apply({"op": "rename", "cluster": 1, "name": "b"})  # reads the first's edit before appending
    first.reload()
    assert first.names == second.names == {0: "a", 1: "b"}
    assert [e["seq"] for e in second.edits] == [1, 2]


def test_a_read_only_run_is_looked_at_not_edited(run_dir, monkeypatch):
    """A folder the user may not write to (as os.access says: root, who CI runs as, writes anywhere) opens with its
    clusters and refuses an edit in one sentence, writing nothing."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: mode != os.W_OK and real_access(path, mode))
    review = ReviewedRun.open(run_dir)
    assert review.read_only and review.cluster_sizes() == {0: 10, 1: 10, 2: 10}
    with pytest.raises(ReadOnlyRunError, match="read-only: its clusters can be looked at, not edited"):
        review.apply({"op": "aside", "rows": [0]})
    assert not (run_dir / REVIEW_FILE).exists()
