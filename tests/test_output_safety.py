"""Nothing of the user's is deleted or buried: where each command that writes may write (issue 38, section 1), and
the checks that run before any work (a folder that cannot be written, too few images, no readable image)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from helpers import invoke
from PIL import Image

from deepclust import cluster_images
from deepclust._outputs import OutputExistsError, UnsafeOutputError, check_output_dir

#: A folder no one can create files in, whatever the user (this test suite runs as root in CI): sysfs.
UNWRITABLE = "/sys/deepclust-test-out"


def _contents(folder) -> dict[str, str]:
    """Every file under ``folder`` (links not followed) with the hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """12 small photos in two subfolders, beside the user's own other files; made once for the module (its features
    are extracted once), so a test that changed them would fail the tests that check they are unchanged."""
    root = tmp_path_factory.mktemp("safety") / "album" / "photos"
    rng = np.random.RandomState(0)
    for kind, colour in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
        (root / kind).mkdir(parents=True)
        for i in range(6):
            a = rng.randint(0, 60, (32, 32, 3)).astype(np.uint8)
            a[8:24, 8:24] = colour
            Image.fromarray(a).save(root / kind / f"{kind}_{i}.png")
    (root / "mine.txt").write_text("my notes")
    (root / "sub").mkdir()
    (root / "sub" / "other.txt").write_text("more notes")
    return root


@pytest.fixture
def quick(feature_cache):
    return ["--cache-dir", feature_cache, "--quiet", "--workers", 0, "--map", "none"]


@pytest.fixture
def quick_own_cache(tmp_path):
    """As ``quick``, with a cache of the test's own: the test checks that nothing was extracted."""
    return ["--cache-dir", tmp_path / "cache", "--quiet", "--workers", 0, "--map", "none"]


@pytest.mark.parametrize("where", ["input", "parent", "inside"])
def test_out_at_or_around_the_input_is_refused_before_any_work(photos, tmp_path, quick_own_cache, where):
    """--out that is, holds or lies inside the input folder: exit 2, one sentence, no feature extracted, and every
    input file still there byte for byte, even with --overwrite."""
    out = {"input": photos, "parent": photos.parent, "inside": photos / "runs" / "one"}[where]
    before = _contents(photos.parent)
    result = invoke("cluster", photos, "-k", 2, "--out", out, "--overwrite", *quick_own_cache)
    assert result.exit_code == 2 and "input folder" in result.text and "Traceback" not in result.output, result.text
    assert _contents(photos.parent) == before
    assert not (tmp_path / "cache").exists()  # refused before extraction


def test_overwrite_replaces_only_a_run_folder(photos, tmp_path, quick):
    """--overwrite on a folder of other files is refused and deletes nothing; on a run folder it replaces it."""
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "mine.txt").write_text("keep")
    (out / "sub" / "other.txt").write_text("keep too")
    before = _contents(out)
    result = invoke("cluster", photos, "-k", 2, "--out", out, "--overwrite", *quick)
    assert result.exit_code == 2 and "not a deepclust run folder" in result.text, result.text
    assert _contents(out) == before

    run = tmp_path / "run"
    assert invoke("cluster", photos, "-k", 2, "--out", run, *quick).exit_code == 0
    (run / "stale.txt").write_text("from the earlier run")
    again = invoke("cluster", photos, "-k", 2, "--out", run, "--overwrite", *quick)
    assert again.exit_code == 0, again.text
    assert (run / "run.json").is_file() and not (run / "stale.txt").exists()


def test_out_that_is_a_file_says_so_whatever_the_flags(photos, tmp_path, quick):
    """--out naming a file: the message says it is a file and does not ask for --overwrite that was given."""
    target = tmp_path / "result.txt"
    target.write_text("mine")
    result = invoke("cluster", photos, "-k", 2, "--out", target, "--overwrite", *quick)
    assert result.exit_code == 2 and "is a file" in result.text and "pass --overwrite" not in result.text
    assert target.read_text() == "mine"


def test_the_api_refuses_the_same(photos, tmp_path, feature_cache):
    """ClusterRun.save applies the rule too: not into the input folder, not over a folder that is no run folder."""
    run = cluster_images(photos, n_clusters=2, verbose=False, cache_dir=feature_cache, num_workers=0)
    before = _contents(photos)
    with pytest.raises(UnsafeOutputError, match="input folder"):
        run.save(photos / "run", map=None)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep")
    with pytest.raises(UnsafeOutputError, match="not a deepclust run folder"):
        run.save(notes, overwrite=True, map=None)
    assert (notes / "mine.txt").read_text() == "keep"
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        run.save(notes, map=None)
    assert _contents(photos) == before
    with pytest.raises(UnsafeOutputError, match="holds the input folder"):
        check_output_dir(photos.parent, True, inputs=[photos])


def test_export_never_lands_in_the_input_or_the_run(photos, tmp_path, quick):
    """export --to inside the input or the run folder is refused; --overwrite replaces an earlier export only."""
    run = tmp_path / "run"
    assert invoke("cluster", photos, "-k", 2, "--out", run, *quick).exit_code == 0
    before, run_before = _contents(photos), _contents(run)
    for to in (photos, photos / "clusters", run, run / "clusters", photos.parent):
        result = invoke("export", run, "--to", to, "--overwrite")
        assert result.exit_code == 2 and "input folder" in result.text, (to, result.text)
    assert _contents(photos) == before and _contents(run) == run_before

    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.txt").write_text("keep")
    result = invoke("export", run, "--to", other, "--overwrite")
    assert result.exit_code == 2 and "not a deepclust export folder" in result.text
    assert (other / "mine.txt").read_text() == "keep"

    export = tmp_path / "export"
    assert invoke("export", run, "--to", export).exit_code == 0
    assert json.loads((export / "export.json").read_text())["mode"] == "symlink"
    assert invoke("export", run, "--to", export).exit_code == 2
    result = invoke("export", run, "--to", export, "--overwrite", "--mode", "copy")
    assert result.exit_code == 0, result.text
    files = [p for p in export.rglob("*.png")]
    assert len(files) == 12 and not any(p.is_symlink() for p in files)
    assert _contents(photos) == before


def test_discover_refuses_an_out_inside_its_inputs(photos, tmp_path):
    """deepclust discover: --out inside the known or the unknown folder is refused before any work."""
    result = invoke("discover", "--known", photos, "--unknown", tmp_path, "-k", 2, "--out", photos / "run")
    assert result.exit_code == 2 and "input folder" in result.text, result.text


def test_a_folder_that_cannot_be_written_is_found_before_the_work(photos, tmp_path, quick):
    """An --out or a --cache-dir on a file system that refuses writes: one sentence, exit 2, before extraction."""
    result = invoke("cluster", photos, "-k", 2, "--out", UNWRITABLE, *quick)
    assert result.exit_code == 2 and "cannot write to /sys" in result.text and "Traceback" not in result.output
    result = invoke("cluster", photos, "-k", 2, "--out", tmp_path / "run", "--quiet", "--workers", 0,
                     "--cache-dir", UNWRITABLE)
    assert result.exit_code == 2 and "cannot write to /sys" in result.text and "--no-cache" in result.text
    assert not (tmp_path / "run").exists()


def test_too_few_images_for_k_is_said_before_extraction(photos, tmp_path, quick_own_cache):
    """-k larger than the images found fails at once, in the CLI's words."""
    result = invoke("cluster", photos / "red", "-k", 10, "--out", tmp_path / "run", *quick_own_cache)
    assert result.exit_code == 2 and "--n-clusters is 10 but only 6 image(s) found" in result.text, result.text
    assert not (tmp_path / "cache").exists()


def test_no_readable_image_lists_the_reasons(tmp_path, quick):
    """A folder whose image files are all broken: the error names the first few files and why, and the count."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(5):
        (bad / f"broken_{i}.png").write_bytes(b"not a png")
    result = invoke("cluster", bad, "-k", 2, "--out", tmp_path / "run", *quick)
    assert result.exit_code == 2 and "5 file(s) set aside" in result.text, result.text
    assert "broken_0.png" in result.text and "and 2 more" in result.text


def test_another_tools_run_json_is_not_a_deepclust_run_folder(photos, tmp_path, quick):
    """A folder whose run.json another tool wrote (it names no deepclust version) is not replaced by --overwrite."""
    theirs = tmp_path / "experiment"
    theirs.mkdir()
    (theirs / "run.json").write_text('{"config": {"lr": 0.1}}')
    (theirs / "model.pt").write_bytes(b"weights")
    before = _contents(theirs)
    result = invoke("cluster", photos, "-k", 2, "--out", theirs, "--overwrite", *quick)
    assert result.exit_code == 2 and "not a deepclust run folder" in result.text, result.text
    assert _contents(theirs) == before


def test_a_weights_file_inside_out_is_an_input_too(photos, tmp_path, quick):
    """--weights inside the folder --out would replace: refused, and the weights file stays."""
    run = tmp_path / "run"
    assert invoke("cluster", photos, "-k", 2, "--out", run, *quick).exit_code == 0
    (run / "mine.pth").write_bytes(b"not really weights")
    result = invoke("cluster", photos, "-k", 2, "--out", run, "--overwrite", "--weights", run / "mine.pth", *quick)
    assert result.exit_code == 2 and "holds the input file" in result.text, result.text
    assert (run / "mine.pth").read_bytes() == b"not really weights"
