"""Sharded, resumable extraction and the ONNX Runtime path."""

from __future__ import annotations

import numpy as np
import pytest

from deepclust.datasets import scan_folder
from deepclust.features import create_extractor, extract_features, onnx_available
from deepclust.features._shards import shard_ranges


class _Interrupt:
    """Wraps an extractor's network: counts the batches it runs and raises KeyboardInterrupt at batch ``stop_at``."""

    def __init__(self, module, stop_at=None):
        self.module, self.stop_at, self.calls = module, stop_at, 0

    def __call__(self, x):
        self.calls += 1
        if self.stop_at is not None and self.calls == self.stop_at:
            raise KeyboardInterrupt
        return self.module(x)


def _interrupt_at(extractor, batch: int, source, **kwargs) -> None:
    """Run an extraction that is interrupted (KeyboardInterrupt) when the network starts batch number ``batch``."""
    network = extractor.module
    try:
        extractor.module = _Interrupt(network, stop_at=batch)
        with pytest.raises(KeyboardInterrupt):
            extract_features(source, extractor, verbose=False, **kwargs)
    finally:
        extractor.module = network


@pytest.fixture(scope="module")
def lite0():
    return create_extractor("efficientnet_lite0", device="cpu", input_size=64, runtime="torch")


def test_shard_ranges_cover_every_image_once():
    assert shard_ranges(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert shard_ranges(4, 4) == [(0, 4)]
    with pytest.raises(ValueError, match="shard size"):
        shard_ranges(10, 0)


def test_an_interrupted_extraction_resumes_from_its_last_complete_shard(tmp_path, lite0):
    """Killed in its third shard, the extraction keeps two shards; the next call computes only the rest and gives
    exactly the features of an uninterrupted run, then leaves one cache entry and no parts."""
    X = np.random.RandomState(0).randint(0, 256, (100, 28, 28), dtype=np.uint8)
    whole = extract_features(X, lite0, batch_size=8, use_cache=False, verbose=False)
    # batches 1–4 fill shards 0 and 1 (16 images each); batch 6 is the second of shard 2
    _interrupt_at(lite0, 6, X, batch_size=8, shard_size=16, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.parts/shard_*.npy"))) == 2
    network = lite0.module
    try:
        lite0.module = counter = _Interrupt(network)
        resumed = extract_features(X, lite0, batch_size=8, shard_size=16, cache_dir=tmp_path, verbose=False)
    finally:
        lite0.module = network
    assert counter.calls == 9  # 68 images left: four shards of two batches of 8, and one of 4 images
    assert resumed.n_extracted == 68 and not resumed.from_cache
    np.testing.assert_array_equal(np.asarray(resumed.features), whole.features)
    np.testing.assert_array_equal(resumed.indices, np.arange(100))
    assert not list(tmp_path.glob("*.parts")) and len(list(tmp_path.glob("*.npy"))) == 1
    assert extract_features(X, lite0, batch_size=8, shard_size=16, cache_dir=tmp_path, verbose=False).from_cache


def test_a_resumed_folder_keeps_its_unreadable_files(tmp_path, shapes_folder, lite0):
    """The files that fail in shards done before the interruption are still reported after the resume."""
    folder = scan_folder(shapes_folder)
    whole = extract_features(folder, lite0, batch_size=4, use_cache=False, num_workers=0, verbose=False)
    _interrupt_at(lite0, 5, folder, batch_size=4, shard_size=8, cache_dir=tmp_path, num_workers=0)
    resumed = extract_features(folder, lite0, batch_size=4, shard_size=8, cache_dir=tmp_path, num_workers=0,
                               verbose=False)
    assert sorted(f.path for f in resumed.failed) == sorted(f.path for f in whole.failed) and len(whole.failed) == 3
    np.testing.assert_array_equal(resumed.indices, whole.indices)
    np.testing.assert_array_equal(np.asarray(resumed.features), whole.features)


def test_parts_of_another_shard_size_are_not_mixed_in(tmp_path, lite0):
    X = np.random.RandomState(1).randint(0, 256, (40, 28, 28), dtype=np.uint8)
    _interrupt_at(lite0, 3, X, batch_size=8, shard_size=8, cache_dir=tmp_path)
    again = extract_features(X, lite0, batch_size=8, shard_size=16, cache_dir=tmp_path, verbose=False)
    assert again.n_extracted == 40
    np.testing.assert_array_equal(np.asarray(again.features),
                                  extract_features(X, lite0, batch_size=8, use_cache=False, verbose=False).features)


@pytest.mark.skipif(not onnx_available(), reason="onnxruntime is not installed")
def test_onnx_runtime_gives_pytorchs_features(tmp_path):
    """The exported network's features match PyTorch's on real images; the graph is cached and reused; the two
    runtimes have separate cache entries; "auto" keeps PyTorch for a small job."""
    from deepclust.datasets import load_dataset

    X, _ = load_dataset("digits")
    X = X[:50]
    torch_ex = create_extractor("efficientnet_lite0", device="cpu", input_size=64, runtime="torch")
    onnx_ex = create_extractor("efficientnet_lite0", device="cpu", input_size=64, runtime="onnx")
    ref = extract_features(X, torch_ex, batch_size=16, cache_dir=tmp_path, verbose=False)
    got = extract_features(X, onnx_ex, batch_size=16, cache_dir=tmp_path, verbose=False)
    assert (ref.runtime, got.runtime) == ("torch", "onnx") and not got.from_cache
    scale = float(np.abs(ref.features).max())
    assert np.abs(np.asarray(got.features) - ref.features).max() <= 1e-4 * max(1.0, scale)
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 1
    again = create_extractor("efficientnet_lite0", device="cpu", input_size=64, runtime="onnx")
    assert again.select_runtime(len(X), tmp_path) == "onnx" and len(list((tmp_path / "onnx").glob("*.onnx"))) == 1
    auto = create_extractor("efficientnet_lite0", device="cpu", input_size=64)
    assert auto.select_runtime(len(X), tmp_path) == "torch"


def test_an_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="unknown runtime"):
        create_extractor("efficientnet_lite0", device="cpu", input_size=64, runtime="tensorrt")


def test_clearing_the_cache_removes_unfinished_shards(tmp_path, lite0):
    from deepclust.features import clear_feature_cache

    X = np.random.RandomState(2).randint(0, 256, (24, 28, 28), dtype=np.uint8)
    _interrupt_at(lite0, 2, X, batch_size=8, shard_size=8, cache_dir=tmp_path)
    assert list(tmp_path.glob("*.parts"))
    clear_feature_cache(tmp_path)
    assert not list(tmp_path.glob("*.parts"))


def test_a_folder_and_an_array_of_the_same_images_give_the_same_features(tmp_path, lite0, mnist_5k):
    """Small images in a folder are not enlarged one by one: the extractor resizes the batch, as for an array, so
    the features are the same (before, Pillow's per-image upscaling made them differ and `best` follow)."""
    from PIL import Image

    X = mnist_5k[0][:40]
    for i, img in enumerate(X):
        Image.fromarray(img).save(tmp_path / f"{i:03d}.png")
    from_folder = extract_features(scan_folder(tmp_path), lite0, batch_size=16, use_cache=False, num_workers=0,
                                   verbose=False)
    from_array = extract_features(X, lite0, batch_size=16, use_cache=False, verbose=False)
    np.testing.assert_allclose(np.asarray(from_folder.features), from_array.features, atol=1e-5)


@pytest.mark.skipif(not onnx_available(), reason="onnxruntime is not installed")
def test_auto_runtime_weighs_the_export_against_the_input_size(tmp_path):
    """"auto" takes ONNX Runtime for 1,000 images at 224 px but not at 64 px (the export costs the same, the
    saving per image is about 20× smaller), and from a few dozen images once the graph is exported."""
    from deepclust.features._extractor import onnx_min_images

    assert onnx_min_images(224) < 1000 < onnx_min_images(64)
    assert onnx_min_images(224, exported=True) < 100
    small = create_extractor("efficientnet_lite0", device="cpu", input_size=64)
    assert small.select_runtime(1000, tmp_path) == "torch" and not (tmp_path / "onnx").exists()
    large = create_extractor("efficientnet_lite0", device="cpu", input_size=224)
    assert large.select_runtime(1000, tmp_path) == "onnx"
    again = create_extractor("efficientnet_lite0", device="cpu", input_size=224)
    assert again.select_runtime(80, tmp_path) == "onnx"  # the graph above is reused
