"""Every public name imports, and the README's Python example runs."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

PACKAGES = ["deepclust", "deepclust.datasets", "deepclust.features", "deepclust.cluster", "deepclust.methods",
            "deepclust.deep", "deepclust.metrics",
            "deepclust.report"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_import(name):
    """Each name in __all__ exists."""
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr}"


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path, monkeypatch, feature_cache):
    """The README's ```python blocks run as written (in a scratch folder; features in the session's cache)."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEEPCLUST_CACHE", str(feature_cache))
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
