"""Every kind of input behind one Source interface: a folder, an array, a builtin data set and embeddings answer the
same questions the same way, a subset keeps each row's name, and what a run records of a source opens it again."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from deepclust.datasets import (
    ImageArray,
    Source,
    SourceRecord,
    load_dataset,
    load_embeddings,
    open_dataset,
    open_known,
    open_source,
    take_subset,
)

SOURCE = Path(__file__).parents[2] / "src" / "deepclust"


def _embeddings(folder: Path, tmp_path: Path):
    """Vectors for the folder's images, with a paths file naming them: embeddings whose images are found."""
    opened = open_source(folder)
    np.save(tmp_path / "e.npy", np.random.RandomState(0).normal(size=(len(opened), 6)).astype(np.float32))
    (tmp_path / "e.paths.txt").write_text("\n".join(str(folder / p) for p in opened.paths) + "\n")
    return load_embeddings(tmp_path / "e.npy")


@pytest.fixture(params=["folder", "array", "dataset", "embeddings"])
def source(request, shared_shapes_folder, tmp_path):
    if request.param == "folder":
        return open_source(shared_shapes_folder, "subfolders")
    if request.param == "array":
        X, y = load_dataset("digits")
        return open_source(X[:40], y[:40])
    if request.param == "dataset":
        return open_source(open_dataset("digits"))
    return _embeddings(shared_shapes_folder, tmp_path)


def test_every_kind_answers_the_interface(source):
    """Its kind is what run.json records; rows are named uniquely; a subset keeps each row's name and label; the
    images it shows are read one per row (files at the size asked)."""
    assert isinstance(source, Source)
    assert source.describe()["kind"] == source.kind
    assert len(set(source.paths)) == len(source) > 10
    rows = np.array([7, 2, 9])
    part = source.take(rows)
    assert part.paths == [source.paths[i] for i in rows] and part.kind == source.kind
    if source.labels is not None:
        assert list(part.labels) == [source.labels[i] for i in rows]
    shown = source.images
    X, idx, failed = shown.pixels(16, grayscale=True)
    assert len(idx) + len(failed) == len(shown)
    if shown.root is not None:  # files are decoded at the size and colour asked; arrays are used as they are
        assert X.shape[1:] == (16, 16, 1) and shown.image(int(idx[0]), 16).shape[:2] == (16, 16)
    else:
        np.testing.assert_array_equal(X[3], shown.image(int(idx[3])))


def test_a_recorded_source_opens_its_rows_again(source):
    """A run's record of its source (after a random subset) reopens the same rows: the same pixels, or the same
    vectors; an array given from Python cannot be, and says why."""
    part, about = take_subset(source, 12, random_state=0)
    record = SourceRecord.from_dict({**part.describe(), **about})
    if source.kind == "array":  # its pixels are not kept anywhere
        with pytest.raises(ValueError, match="array given from Python"):
            record.reopen(part.paths)
        return
    again = record.reopen(part.paths)
    assert again.paths == part.paths
    if source.vectors is not None:
        np.testing.assert_array_equal(again.vectors, part.vectors)
    else:
        np.testing.assert_array_equal(again.pixels(16, False)[0], part.pixels(16, False)[0])
    assert record.reopen_images(part.paths) is not None


def test_an_array_subset_keeps_the_numbers_of_the_whole():
    """A subset of an array is named by its rows in the whole array, so that the run's paths name the images given;
    such a run cannot be reopened (its pixels are not kept), and says so."""
    X, _ = load_dataset("digits")
    part, _ = take_subset(open_source(X[:100]), 10, random_state=0)
    assert all(np.array_equal(X[int(p)], img) for p, img in zip(part.paths, part.array))
    record = SourceRecord.from_dict(part.describe())
    with pytest.raises(ValueError, match="array given from Python"):
        record.reopen(part.paths)
    assert record.reopen_images(part.paths) is None


def test_new_input_must_be_of_the_kind_the_run_clustered(shared_shapes_folder, tmp_path):
    folder_run = SourceRecord.from_dict(open_source(shared_shapes_folder).describe())
    table = _embeddings(shared_shapes_folder, tmp_path)
    with pytest.raises(ValueError, match="this run clustered images"):
        folder_run.check_like(table)
    folder_run.check_like(shared_shapes_folder)
    vectors_run = SourceRecord.from_dict(table.describe())
    with pytest.raises(ValueError, match="this run clustered embeddings"):
        vectors_run.check_like(shared_shapes_folder)
    np.save(tmp_path / "wide.npy", np.zeros((3, 9), np.float32))
    with pytest.raises(ValueError, match="has 9 dimensions; the run's embeddings have 6"):
        vectors_run.check_like(load_embeddings(tmp_path / "wide.npy"))


def test_known_images_are_a_labelled_source(shared_shapes_folder):
    """Transfer clustering's known images: a folder labelled by its subfolders, or a pair; a bad pair is refused."""
    known = open_known(shared_shapes_folder)
    assert {"square", "disc", "bar"} <= set(known.labels) and len(known.labels) == len(known)
    with pytest.raises(ValueError, match="need one subfolder per class"):
        open_known(shared_shapes_folder / "square")
    X = np.zeros((4, 8, 8), np.uint8)
    assert isinstance(open_known((X, [0, 1, 0, 1])), ImageArray)
    with pytest.raises(ValueError, match="3 labels for 4 known images"):
        open_known((X, [0, 1, 0]))


def test_labels_from_subfolders_need_a_folder():
    X, _ = load_dataset("digits")
    with pytest.raises(ValueError, match="need a folder of images"):
        open_source(X[:10], "subfolders")


#: A branch on which kind a source is: what the Source interface answers instead, outside datasets/.
_KIND_SWITCH = re.compile(r'isinstance\([^)]*\b(ImageFolder|Embeddings|ImageArray|Source)\b|hasattr\([^)]*"(root|paths'
                          r'|vectors)"|\bkind\s*(==|!=|in)\s*\(?"(folder|array|dataset|embeddings)"')


def test_no_package_outside_datasets_asks_which_kind_a_source_is():
    """Outside datasets/, code asks a source what it can do (``vectors``, ``images``, ``reopen``), never what it is
    (the pattern is checked to find the switches it is meant to find)."""
    assert _KIND_SWITCH.search('if isinstance(source, ImageFolder):') and _KIND_SWITCH.search('kind == "embeddings"')
    found = []
    for path in SOURCE.rglob("*.py"):
        if "datasets" in path.relative_to(SOURCE).parts:
            continue
        text = path.read_text()
        found += [f"{path.relative_to(SOURCE)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                  if _KIND_SWITCH.search(line)]
    assert found == []


def test_known_images_without_labels_say_what_to_give():
    X, y = load_dataset("digits")
    with pytest.raises(ValueError, match=r"the known images \(array \[10, 8, 8\]\) need labels"):
        open_known(ImageArray(X[:10]))
    with pytest.raises(ValueError, match="the known images must be a non-empty uint8 image array"):
        open_known((X[:10].astype(np.float32), y[:10]))
