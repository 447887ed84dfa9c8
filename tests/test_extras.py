"""Optional packages: the default path imports neither OpenCV nor Grad-CAM, and a path that needs a missing one says
which extra installs it, in one sentence."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from deepclust._extras import MissingExtraError, require


def test_the_default_run_imports_neither_opencv_nor_grad_cam():
    """Clustering 50 digits with the default method leaves cv2 and pytorch_grad_cam unimported."""
    code = ("import sys; from deepclust import cluster_images, load_dataset; X, _ = load_dataset('digits'); "
            "cluster_images(X[:50], n_clusters=3, verbose=False, umap_components=None); "
            "print(sorted(m for m in ('cv2', 'pytorch_grad_cam') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]", out


def test_a_missing_extra_is_named(monkeypatch):
    """With cv2 gone, GrabCut's path raises one sentence naming pip install 'deepclust[attention]'."""
    from deepclust.features import attend  # noqa: F401  (imported before cv2 goes: it must not need it at import)
    from deepclust.features._attention import grabcut_mask

    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'deepclust\[attention\]'"):
        require("cv2")
    with pytest.raises(MissingExtraError, match="GrabCut"):
        grabcut_mask(np.zeros((8, 8, 3), np.uint8), np.eye(8, dtype=np.float32), 0.2)  # a region: GrabCut runs
