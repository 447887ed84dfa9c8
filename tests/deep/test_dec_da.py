"""DEC-DA's batch augmentation: random shifts and rotations, each image on its own, reproducible from a seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepclust.deep import DEC
from deepclust.deep._augment import batch_augmenter, random_affine


def _dot_images(n: int = 8, side: int = 20) -> torch.Tensor:
    images = torch.zeros(n, 1, side, side)
    images[:, :, side // 2, side // 2] = 1.0
    return images


def test_no_shift_no_rotation_is_the_identity():
    images = torch.rand(4, 3, 12, 10)
    out = random_affine(images, torch.Generator().manual_seed(0), shift=0.0, rotation=0.0)
    torch.testing.assert_close(out, images, atol=1e-5, rtol=0)


def test_shift_moves_each_image_by_at_most_the_stated_share():
    """A dot in the middle moves by at most 10 % of the side (2 px of 20), and not all images move alike."""
    images = _dot_images()
    out = random_affine(images, torch.Generator().manual_seed(0), rotation=0.0)
    ys, xs = np.indices((20, 20))
    weights = out[:, 0].numpy() / out[:, 0].numpy().sum(axis=(1, 2), keepdims=True)
    centres = np.stack([(weights * ys).sum(axis=(1, 2)), (weights * xs).sum(axis=(1, 2))], 1)
    moved = np.abs(centres - 10)
    assert moved.max() <= 2.0 + 1e-4
    assert moved.max() > 0.5 and len(np.unique(centres.round(3), axis=0)) == len(images)


def test_flip_mirrors_about_half_of_the_images_and_reflection_pads_with_the_image():
    """DTC's augmentation: with flip, each image is itself or its left–right mirror, both occur; a shifted image
    padded by reflection repeats its own pixels, not its edge."""
    images = torch.rand(16, 2, 9, 7)
    out = random_affine(images, torch.Generator().manual_seed(0), shift=0.0, rotation=0.0, flip=True)
    mirrored = [torch.allclose(o, i.flip(-1), atol=1e-5) for o, i in zip(out, images)]
    kept = [torch.allclose(o, i, atol=1e-5) for o, i in zip(out, images)]
    assert all(m or k for m, k in zip(mirrored, kept)) and 3 <= sum(mirrored) <= 13
    ramp = torch.arange(8.0).repeat(4, 1, 8, 1)  # columns 0..7
    reflected, border = (random_affine(ramp, torch.Generator().manual_seed(3), shift=0.25, rotation=0.0, padding=p)
                         for p in ("reflection", "border"))
    torch.testing.assert_close(reflected[..., 3:5], border[..., 3:5])  # the same shifts inside
    assert not torch.allclose(reflected, border)  # other values where the image ran out


def test_rotation_only_keeps_the_centre_and_turns_a_bar():
    """Rotating a horizontal bar about the centre tilts it by at most 10°: its ends leave their row a little."""
    images = torch.zeros(6, 1, 21, 21)
    images[:, :, 10, 3:18] = 1.0
    out = random_affine(images, torch.Generator().manual_seed(1), shift=0.0)
    assert torch.allclose(out[:, 0, 10, 10], torch.ones(6), atol=1e-4)  # the centre stays
    off_row = out[:, 0].sum(dim=(1, 2)) - out[:, 0, 10].sum(dim=1)
    assert (off_row > 0.05).all()  # every bar tilted a little
    assert (out[:, 0, :, 3].sum(1) > 0).all() and (out[:, 0, :8, :].sum(dim=(1, 2)) < 1.5).all()  # ≤ 10°: ~1.2 px


def test_same_seed_same_batches():
    images = torch.rand(5, 1, 16, 16)
    a = random_affine(images, torch.Generator().manual_seed(7))
    b = random_affine(images, torch.Generator().manual_seed(7))
    c = random_affine(images, torch.Generator().manual_seed(8))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_flattened_rows_are_augmented_as_their_images():
    """The fully connected networks see (H·W·C) rows in channels-last order: they are augmented as the images."""
    images = torch.rand(3, 3, 8, 6)  # N, C, H, W
    rows = images.permute(0, 2, 3, 1).reshape(3, -1)
    out_rows = batch_augmenter(torch.Generator().manual_seed(2), row_shape=(8, 6, 3))(rows)
    out_images = batch_augmenter(torch.Generator().manual_seed(2))(images)
    torch.testing.assert_close(out_rows, out_images.permute(0, 2, 3, 1).reshape(3, -1))


def test_augment_needs_images():
    features = np.random.RandomState(0).normal(size=(40, 16)).astype(np.float32)
    with pytest.raises(ValueError, match="give images"):
        DEC(2, augment=True, pretrain_epochs=1, max_iter=5).fit(features)


@pytest.mark.slow
def test_idec_da_clusters_agree_on_shifted_and_rotated_copies(mnist_5k, tmp_path):
    """What DEC-DA trains for: from one pretrained autoencoder, 300 clustering iterations on 1,250 real MNIST
    digits (every 4th of the class-sorted 5,000) with ``augment=True`` give shifted/rotated copies the label of
    their original far more often than without, and clusters above k-means on the pixels. Measured (seeds 0, 1):
    agreement 0.90 / 0.89 against 0.51 / 0.53; NMI 0.54 / 0.53 against 0.50 / 0.49 without, k-means 0.47."""
    from sklearn.cluster import KMeans

    from deepclust.deep import IDEC
    from deepclust.metrics import nmi_score

    X, y = mnist_5k
    X, y = X[::4], y[::4]
    images = torch.from_numpy(X.astype(np.float32) / 255)[:, None]
    moved = (random_affine(images, torch.Generator().manual_seed(123)) * 255).round().byte()[:, 0].numpy()
    params = dict(max_iter=300, update_interval=30, batch_size=128, device="cpu", random_state=0)
    path = DEC(10, pretrain_epochs=20, pretrain_optimizer="adam", pretrain_lr=1e-3,  # the start it was measured on
               **dict(params, max_iter=1)).fit(X).save_autoencoder(tmp_path / "ae.pt")
    scores = {}
    for augment in (False, True):
        model = IDEC(10, augment=augment, autoencoder=path, **params).fit(X)
        scores[augment] = (np.mean(model.predict(X) == model.predict(moved)), nmi_score(y, model.labels_))
    kmeans = KMeans(10, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1).astype(np.float32))
    assert scores[True][0] >= scores[False][0] + 0.25, scores
    assert scores[True][1] >= max(scores[False][1], nmi_score(y, kmeans) + 0.03), scores


def test_same_seed_same_labels_with_augmentation(mnist_5k):
    """The random shifts and rotations come from the estimator's seed: two fits agree label for label."""
    X = mnist_5k[0][::12]
    params = dict(augment=True, pretrain_epochs=3, max_iter=60, update_interval=20, batch_size=128, device="cpu")
    a = DEC(10, random_state=5, **params).fit_predict(X)
    b = DEC(10, random_state=5, **params).fit_predict(X)
    np.testing.assert_array_equal(a, b)


def test_tiny_images_are_warned_about():
    """On 8×8 images DEC-DA measured worse than DEC: the user is told."""
    X = np.random.RandomState(0).randint(0, 255, (40, 8, 8)).astype(np.uint8)
    with pytest.warns(RuntimeWarning, match="coarse"):
        DEC(2, augment=True, pretrain_epochs=1, max_iter=2, batch_size=16, device="cpu", random_state=0).fit(X)
