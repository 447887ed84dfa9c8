"""A run's clusters fixed by a person: edits replayed over the run as clustered, on disk before they count, undone
and redone, never touching the run's own files; a log torn by a crash keeps every complete edit."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from deepclust.review import ASIDE, ReadOnlyRunError, ReviewedRun
from deepclust.run import REVIEW_FILE


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
    ({"op": "merge", "clusters": [True, 0], "into": 0}, "clusters must be whole numbers, not True"),
    ({"op": "rename", "cluster": 1.0, "name": "x"}, "cluster must be whole numbers, not 1.0"),
    ({"op": "aside", "rows": "12"}, "rows must be a list of whole numbers"),
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
    review.apply({"op": "aside", "rows": [4]})  # appended on a line of its own (the torn one said once, above)
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


def test_numpy_numbers_are_taken_and_logged_as_plain_numbers(run_dir):
    """Cluster numbers taken from ``np.unique(review.labels)`` are edits like any other."""
    review = ReviewedRun.open(run_dir)
    first, second = np.unique(review.labels)[:2]
    logged = review.apply({"op": "merge", "clusters": [first, second], "into": first, "note": "left out"})
    assert logged["clusters"] == [0, 1] and type(logged["into"]) is int and "note" not in logged
    assert review.cluster_sizes() == {0: 20, 2: 10}


def test_any_character_in_a_name_survives_and_a_cut_inside_one_is_skipped(run_dir):
    """Lines are ASCII, split at newlines only: a name with a line separator or an accent stays whole, and a write
    cut inside a character's bytes is one skipped line, after which editing goes on."""
    review = ReviewedRun.open(run_dir)
    review.apply({"op": "rename", "cluster": 0, "name": "left\u2028right\x85 café"})
    review.apply({"op": "rename", "cluster": 1, "name": "middle"})
    assert ReviewedRun.open(run_dir).names == {0: "left\u2028right\x85 café", 1: "middle"}
    line = '{"op":"rename","cluster":2,"name":"caf\u00e9"}'.encode()
    with open(run_dir / REVIEW_FILE, "ab") as f:
        f.write(line[:-3])  # killed inside the two bytes of é
    with pytest.warns(RuntimeWarning, match="line 3: not a complete edit"):
        review = ReviewedRun.open(run_dir)
    review.apply({"op": "rename", "cluster": 2, "name": "right"})
    with pytest.warns(RuntimeWarning):
        assert ReviewedRun.open(run_dir).names == {0: "left\u2028right\x85 café", 1: "middle", 2: "right"}


def test_an_edit_that_no_longer_fits_the_run_is_skipped_with_its_number(run_dir):
    """A log copied beside another run, or edited by hand: each edit that does not fit is said and left out, the
    others applied; every command still opens the run."""
    from deepclust.run import RunFolder

    review = ReviewedRun.open(run_dir)
    review.apply({"op": "aside", "rows": [0]})
    with open(run_dir / REVIEW_FILE, "a") as f:
        f.write('{"op":"aside","rows":[99999],"seq":2}\n{"op":"move","rows":[1],"to":77,"seq":3}\n'
                '{"op":"merge","clusters":[1,2],"seq":4}\n{"op":"aside","rows":[2]}\n')
    with pytest.warns(RuntimeWarning) as caught:
        run = RunFolder.open(run_dir)
    said = " ".join(str(w.message) for w in caught)
    assert "edit 2 (aside): rows must be image numbers" in said and "edit 3 (move): there is no cluster 77" in said
    assert "edit 4 (merge): the merge edit needs into" in said
    assert run.labels()[:3].tolist() == [ASIDE, 0, ASIDE] and len(run.review.done) == 2
