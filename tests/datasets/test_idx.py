"""IDX files and the builtin data sets."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from deepclust.datasets import DatasetNotFoundError, dataset_available, load_dataset, load_idx


def _idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
    return header + arr.astype(np.uint8).tobytes()


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    """An IDX file written by hand (raw or gzipped) reads back as the same array."""
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    (gzip.open if gz else open)(path, "wb").write(_idx_bytes(arr))
    np.testing.assert_array_equal(load_idx(path), arr)


def test_idx_bad_files_raise(tmp_path):
    """A wrong magic number or a short body is a ValueError, not garbage."""
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        load_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx_bytes(np.zeros((2, 2), np.uint8))[:-1])
    with pytest.raises(ValueError, match="bytes"):
        load_idx(tmp_path / "short")


@pytest.mark.parametrize("name,n,side", [("digits", 1797, 8), ("mnist-5k", 5000, 28)])
def test_builtin_datasets(name, n, side):
    """Builtin sets return uint8 images (N, H, W) using the full 0–255 range, and integer labels 0–9."""
    X, y = load_dataset(name)
    assert X.dtype == np.uint8 and X.shape == (n, side, side) and X.max() == 255
    assert y.shape == (n,) and set(np.unique(y)) == set(range(10))


@pytest.mark.skipif(not dataset_available("fashion-mnist"), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian_package():
    """Fashion-MNIST: 60k train + 10k test, 28×28, 7,000 of each class in all."""
    X, y = load_dataset("fashion-mnist")
    assert X.shape == (70000, 28, 28) and np.bincount(y).tolist() == [7000] * 10
    assert load_dataset("fashion-mnist", split="test")[0].shape == (10000, 28, 28)


def test_missing_idx_files_say_what_to_do(tmp_path):
    """Without files and without download, the error names --data-dir and --download."""
    with pytest.raises(DatasetNotFoundError, match="--data-dir"):
        load_dataset("mnist", data_dir=tmp_path)


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    """Offline, --download fails with one message that says to use --data-dir."""
    import socket

    def offline(*args, **kwargs):
        raise socket.gaierror("no network")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setenv("DEEPCLUST_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="could not download .*--data-dir"):
        load_dataset("mnist", download=True)
