"""Batched extraction, the on-disk cache, and the scikit-learn transformer."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline

from deepclust.datasets import scan_folder
from deepclust.features import ImageFeatures, create_extractor, extract_features
from deepclust.metrics import clustering_accuracy_score


@pytest.fixture(scope="module")
def lite0():
    return create_extractor("efficientnet_lite0", device="cpu", input_size=64)


def test_array_and_cache(tmp_path, lite0):
    """A second extraction of the same array comes from the cache, identical; another array is not a hit."""
    X = np.random.RandomState(0).randint(0, 256, (10, 28, 28), dtype=np.uint8)
    first = extract_features(X, lite0, batch_size=4, cache_dir=tmp_path, verbose=False)
    again = extract_features(X, lite0, batch_size=4, cache_dir=tmp_path, verbose=False)
    assert not first.from_cache and again.from_cache
    np.testing.assert_array_equal(np.asarray(first.features), np.asarray(again.features))
    other = extract_features(X[::-1].copy(), lite0, cache_dir=tmp_path, verbose=False)
    assert not other.from_cache
    np.testing.assert_allclose(np.asarray(other.features), np.asarray(first.features)[::-1], rtol=1e-4, atol=1e-5)


def test_folder_cache_follows_file_changes(tmp_path, shapes_folder, lite0):
    """Changing one file's mtime invalidates the cache; bad files are listed, not featurised."""
    folder = scan_folder(shapes_folder)
    first = extract_features(folder, lite0, cache_dir=tmp_path, num_workers=0, verbose=False)
    assert len(first.indices) == 30 and len(first.failed) == 3
    assert extract_features(scan_folder(shapes_folder), lite0, cache_dir=tmp_path, verbose=False).from_cache
    os.utime(shapes_folder / folder.paths[0], ns=(1, 1))
    assert not extract_features(scan_folder(shapes_folder), lite0, cache_dir=tmp_path, num_workers=0,
                                verbose=False).from_cache


def test_features_separate_shapes(shapes_folder, lite0):
    """Pretrained features + k-means recover the three shape classes of the test folder (ACC ≥ 0.9)."""
    folder = scan_folder(shapes_folder)
    feats = extract_features(folder, lite0, use_cache=False, num_workers=0, verbose=False)
    y = folder.labels_from_subfolders()[feats.indices]
    labels = KMeans(3, n_init=10, random_state=0).fit_predict(np.asarray(feats.features))
    acc = clustering_accuracy_score(y, labels)
    assert acc >= 0.9, f"ACC {acc:.3f} on three obvious shape classes"


def test_image_features_is_a_transformer():
    """ImageFeatures clones, and works inside make_pipeline with KMeans; bad input is a ValueError."""
    X = np.random.RandomState(0).randint(0, 256, (12, 16, 16), dtype=np.uint8)
    model = make_pipeline(ImageFeatures(input_size=64), KMeans(2, n_init=2, random_state=0))
    assert len(clone(model).fit_predict(X)) == 12
    assert ImageFeatures(input_size=64).fit_transform(X).shape == (12, 1280)
    with pytest.raises(ValueError, match="uint8"):
        ImageFeatures().fit(X.astype(float))


def test_views_of_one_extractor_share_one_pass_and_one_cache_entry(tmp_path):
    """``extract_views`` returns each view as extracting it alone would, reads both Lite0 layers in one pass (one
    cache entry), and reads them back from the cache the second time."""
    from deepclust import extract_views
    from deepclust.features import pixel_features

    X = np.random.RandomState(0).randint(0, 256, (20, 28, 28), dtype=np.uint8)
    views = ("efficientnet_lite0:pool", "pixels", "efficientnet_lite0:stage4")
    arrays, indices = extract_views(X, views, cache_dir=tmp_path, verbose=False)
    np.testing.assert_array_equal(indices, np.arange(20))
    for view, array in zip(views, arrays):
        if view == "pixels":
            np.testing.assert_array_equal(array, pixel_features(X))
            continue
        alone = create_extractor("efficientnet_lite0", view.split(":")[1], device="cpu", input_size=64)(X)
        np.testing.assert_allclose(array, alone, rtol=1e-5, atol=1e-6)
    assert len(list(tmp_path.glob("*.npy"))) == 1
    again, _ = extract_views(X, views, cache_dir=tmp_path, verbose=False)
    assert all(np.array_equal(a, b) for a, b in zip(arrays, again)) and len(list(tmp_path.glob("*.npy"))) == 1
