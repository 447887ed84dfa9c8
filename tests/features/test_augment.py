"""Augmented copies: what they do to an image, that they do not depend on batching, and their cached features."""

from __future__ import annotations

import numpy as np
import pytest

from deepclust.features import ImageAugmentation, augmented_copies, create_extractor, extract_features


def _blobs(n=40, size=28):
    """Images with one bright square away from the border, so a shift of up to 3 px keeps it whole."""
    rng = np.random.RandomState(0)
    X = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        r, c = rng.randint(8, 14, 2)
        X[i, r:r + 6, c:c + 4] = 50 + i
    return X


def test_a_copy_shifts_and_flips_within_bounds():
    X = _blobs()
    A = ImageAugmentation(copy=0)(X, np.arange(len(X)))
    assert A.shape == X.shape and A.dtype == np.uint8
    np.testing.assert_array_equal(A.reshape(len(X), -1).sum(1), X.reshape(len(X), -1).sum(1))  # nothing cut off
    moved = 0
    for x, a in zip(X, A):
        rows_x, cols_x = np.nonzero(x)
        rows_a, cols_a = np.nonzero(a)
        assert abs(rows_a.mean() - rows_x.mean()) <= 3  # max_shift 0.1 of 28 px: 3 px
        centre = np.array([cols_a.mean(), 27 - cols_a.mean()])  # as shifted, or as shifted and flipped
        assert np.min(np.abs(centre - cols_x.mean())) <= 3
        moved += not np.array_equal(x, a)
    assert moved > 0.8 * len(X)


def test_a_copy_is_the_same_whatever_the_batches():
    X = _blobs()
    aug = ImageAugmentation(copy=2, seed=5)
    whole = aug(X, np.arange(len(X)))
    halves = np.concatenate([aug(X[:13], np.arange(13)), aug(X[13:], np.arange(13, len(X)))])
    np.testing.assert_array_equal(whole, halves)
    assert not np.array_equal(whole, ImageAugmentation(copy=3, seed=5)(X, np.arange(len(X))))
    assert aug(X[:, :, :, None], np.arange(len(X))).shape == (len(X), 28, 28, 1)  # channels kept


def test_without_flip_a_copy_is_only_shifted():
    """Digits and text must not be mirrored: with flip=False the copy is the flipped copy's shift alone."""
    X = _blobs()
    X[:, 4, 4] = 255  # a mark near the corner: a mirror moves it ~19 px, a shift at most 3
    flipped, shifted = (ImageAugmentation(copy=1, flip=f)(X, np.arange(len(X))) for f in (True, False))
    for a in shifted:
        assert np.nonzero(a == 255)[1].max() <= 7
    mirrored = [not np.array_equal(f, s) for f, s in zip(flipped, shifted)]
    assert 0.2 * len(X) < sum(mirrored) < 0.8 * len(X)  # the same draw: only the flip differs
    for f, s, m in zip(flipped, shifted, mirrored):
        if m:
            np.testing.assert_array_equal(f, s[:, ::-1])
    assert ImageAugmentation(copy=1, flip=False).key != ImageAugmentation(copy=1).key
    assert not any(a.flip for a in augmented_copies(2, flip=False))


def test_copies_are_listed_and_checked():
    assert [a.copy for a in augmented_copies(3)] == [0, 1, 2]
    assert augmented_copies(0) == []
    with pytest.raises(ValueError, match=">= 0"):
        augmented_copies(-1)


def test_features_of_a_copy_are_cached_apart_from_the_original(tmp_path):
    """The copy's features equal the features of the augmented images, and have their own cache entry."""
    lite0 = create_extractor("efficientnet_lite0", device="cpu", input_size=64)
    X = _blobs(12)
    aug = ImageAugmentation(copy=0)
    original = extract_features(X, lite0, batch_size=5, cache_dir=tmp_path, verbose=False)
    copy = extract_features(X, lite0, batch_size=5, cache_dir=tmp_path, augment=aug, verbose=False)
    assert not copy.from_cache
    direct = extract_features(aug(X, np.arange(len(X))), lite0, use_cache=False, verbose=False)
    np.testing.assert_allclose(np.asarray(copy.features), np.asarray(direct.features), rtol=1e-4, atol=1e-5)
    assert not np.allclose(np.asarray(copy.features), np.asarray(original.features))
    assert extract_features(X, lite0, cache_dir=tmp_path, augment=aug, verbose=False).from_cache
