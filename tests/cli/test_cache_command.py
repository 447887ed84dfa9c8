"""`deepclust cache` (issue 38, section 3): a declined prompt is no error, suggestions keep the --cache-dir given, and
one entry can be cleared by the key `cache list` shows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import invoke

from deepclust.features import clear_feature_cache, list_feature_cache

KEYS = ("a1b2c3d4e5f60718293a4b5c6d7e8f90", "a1b2c3d4e5f6ffff293a4b5c6d7e8f90", "0123456789abcdef0123456789abcdef")


def _invoke(*args, **kwargs):
    return invoke(*args, env={"COLUMNS": "250"}, **kwargs)  # wide: the listing's columns stay whole


@pytest.fixture
def cache(tmp_path):
    """A feature cache (in a folder with a space in its name) with three entries, two of whose keys share their
    first 12 characters, as extraction writes them: ``KEY.npy`` and ``KEY.json``."""
    root = tmp_path / "my cache"
    root.mkdir()
    for i, key in enumerate(KEYS):
        np.save(root / f"{key}.npy", np.zeros((3 + i, 4), dtype=np.float32))
        (root / f"{key}.json").write_text(json.dumps({"description": f"entry {i}", "indices": list(range(3 + i)),
                                                      "failed": []}))
    return root


def test_declining_the_prompt_removes_nothing_and_is_no_error(cache):
    """`cache clear` answered "n": "nothing removed", exit 0, no "error", every entry still there."""
    result = _invoke("cache", "clear", "--cache-dir", cache, input="n\n")
    assert result.exit_code == 0, result.output
    assert "nothing removed" in result.text and "error" not in result.text.lower()
    assert len(list_feature_cache(cache)) == 3


def test_list_suggests_clear_with_the_same_cache_dir(cache):
    """`cache list --cache-dir X` suggests `deepclust cache clear --cache-dir X` (quoted for the shell), for all
    entries and for one."""
    result = _invoke("cache", "list", "--cache-dir", cache)
    assert result.exit_code == 0 and "3 entries" in result.text
    assert f"`deepclust cache clear --cache-dir '{cache}'`" in result.text, result.text
    assert f"`deepclust cache clear KEY --cache-dir '{cache}'`" in result.text


def test_clear_one_entry_by_the_key_list_shows(cache):
    """`cache clear KEY` removes that entry alone, by the 12 characters `cache list` shows when they are unique or
    by more of the key; a prefix of several entries, or of none, is one sentence and removes nothing."""
    result = _invoke("cache", "clear", KEYS[2][:12], "--cache-dir", cache, "--yes")
    assert result.exit_code == 0 and "removed 1 entry" in result.text, result.output
    assert sorted(e.key for e in list_feature_cache(cache)) == sorted(KEYS[:2])
    result = _invoke("cache", "clear", KEYS[0][:12], "--cache-dir", cache, "--yes")
    assert result.exit_code == 2 and "starts 2 cache entries" in result.text and "give more of the key" in result.text
    result = _invoke("cache", "clear", "ffff", "--cache-dir", cache, "--yes")
    assert result.exit_code == 2 and "no cache entry 'ffff'" in result.text
    assert len(list_feature_cache(cache)) == 2
    result = _invoke("cache", "clear", KEYS[1][:16], "--cache-dir", cache, input="y\n")
    assert result.exit_code == 0 and "entry 1" in result.text and "removed 1 entry" in result.text
    assert [e.key for e in list_feature_cache(cache)] == [KEYS[0]]
    assert not (cache / f"{KEYS[1]}.json").exists()


def test_an_entry_is_given_only_to_clear(cache):
    """`cache list KEY` is an error that shows the command meant; the API clears one entry by key too."""
    result = _invoke("cache", "list", KEYS[2][:12], "--cache-dir", cache)
    assert result.exit_code == 2 and f"deepclust cache clear {KEYS[2][:12]}" in result.text
    assert clear_feature_cache(cache, key=KEYS[2]) == 1 and clear_feature_cache(cache) == 2
    assert list_feature_cache(cache) == []
