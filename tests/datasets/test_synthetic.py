"""The colour data sets built offline: emoji by Unicode subgroup, the same emoji on photo crops (with their masks),
crops of the shipped photographs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from deepclust.datasets import _synthetic as synthetic
from deepclust.datasets import class_names, dataset_available, load_dataset

needs_emoji = pytest.mark.skipif(not synthetic.emoji_available(),
                                 reason="needs Debian's fonts-noto-color-emoji and unicode-data (scripts/setup.sh)")


@needs_emoji
def test_emoji_classes_follow_unicode_subgroups():
    """Every class gets emoji of its subgroups only (a bird is in 'bird', an apple in 'fruit'), and every class has
    enough distinct emoji to be a class."""
    pairs = synthetic.emoji_by_subgroup()
    by_emoji = dict(pairs)
    names = synthetic.EMOJI_CLASSES
    assert names[by_emoji["\U0001F426"]] == "bird" and names[by_emoji["\U0001F34E"]] == "fruit"
    assert names[by_emoji["\U0001F697"]] == "vehicle" and names[by_emoji["\U0001F3BB"]] == "musical instrument"
    counts = np.bincount([c for _, c in pairs], minlength=len(names))
    assert counts.min() >= 10 and counts.max() <= 40


@needs_emoji
def test_composite_masks_cover_exactly_the_pasted_pixels():
    """Pasting the same emoji onto a photo crop and onto white changes the pixels inside its mask only (outside the
    mask the photo is untouched; inside, the emoji's own pixels are the same on either background)."""
    X_photo, y_photo, masks = synthetic.load_emoji_on_photos(return_masks=True, copies=1)
    assert X_photo.shape == (len(y_photo), 224, 224, 3) and masks.shape == X_photo.shape[:3]
    share = masks.reshape(len(masks), -1).mean(axis=1)
    assert 0.05 < share.min() and share.max() < 0.8  # an object of half to four fifths of the side, never empty
    emoji = synthetic.render_emoji("\U0001F34E")
    background = synthetic.random_crop(synthetic.load_photos()[0], 96, np.random.RandomState(0))
    on_photo, mask = synthetic.paste(background, emoji, (10, 20, 60))
    on_white, mask_white = synthetic.paste(np.full_like(background, 255), emoji, (10, 20, 60))
    assert np.array_equal(mask, mask_white) and mask.sum() > 0.3 * 60 * 60
    near_object = ndimage.binary_dilation(mask, iterations=5)  # the faint anti-aliased rim lies just outside it
    assert np.array_equal(on_photo[~near_object], background[~near_object])
    changed = np.any(on_photo != background, axis=-1)
    assert mask[changed].mean() > 0.9
    same_inside = np.all(on_photo == on_white, axis=-1)[mask].mean()
    assert same_inside > 0.8  # the object's opaque pixels do not depend on the background


@needs_emoji
def test_the_same_seed_gives_the_same_images_and_labels_follow_the_objects():
    """Built twice, a set is identical; the object set on photos carries the same labels as on white, so the two
    differ only by background."""
    a, ya = load_dataset("emoji")
    b, yb = load_dataset("emoji")
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    _, y_photos = load_dataset("emoji-on-photos")
    assert np.array_equal(ya, y_photos)
    assert np.unique(ya).tolist() == list(range(len(class_names("emoji"))))
    assert dataset_available("emoji")


def test_photo_crops_come_from_their_photo():
    """A crop labelled ``c`` is a piece of photo ``c``: its colours are closer to that photo's than to the others'
    (mean colour of the crop against each photo's mean colour, for most crops)."""
    X, y = load_dataset("photo-crops")
    assert X.shape == (400, 224, 224, 3) and np.bincount(y).tolist() == [40] * 10
    photo_means = np.array([p.reshape(-1, 3).mean(0) for p in synthetic.load_photos()])
    crop_means = X.reshape(len(X), -1, 3).mean(1)
    nearest = np.argmin(((crop_means[:, None] - photo_means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y).mean() > 0.6
    assert class_names("photo-crops") == list(synthetic.PHOTO_NAMES)


def test_missing_font_is_said_with_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(synthetic, "EMOJI_FONT", tmp_path / "none.ttf")
    synthetic._emoji_font.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="fonts-noto-color-emoji"):
            synthetic.render_emoji("\U0001F34E")
    finally:
        synthetic._emoji_font.cache_clear()


def test_cluttered_transfer_split_pastes_known_and_novel_objects_on_separate_photos(monkeypatch):
    """Fashion-MNIST garments, colourised, on photo crops: known classes on one pool of photos, novel ones on the
    other, every image with its object; on a flat background only the masked pixels (and their thin anti-aliased
    rim) differ from it, so the masks cover the pasted pixels."""
    X, y = load_dataset("fashion-mnist", split="test")
    X, y = X[:60], y[:60]
    assert not set(synthetic.KNOWN_PHOTOS) & set(synthetic.NOVEL_PHOTOS)
    used = []
    real = synthetic.photo_crops_of

    def recording(photos, size, scale=(0.35, 0.6)):
        used.append(len(photos))
        return real(photos, size, scale)

    monkeypatch.setattr(synthetic, "photo_crops_of", recording)
    Xk, yk, Xn, yn, mk, mn = synthetic.cluttered_transfer_split(X, y, range(5), size=96)
    assert set(yk.tolist()) <= set(range(5)) and set(yn.tolist()) <= set(range(5, 10)) and len(yk) + len(yn) == 60
    assert Xk.shape == (len(yk), 96, 96, 3) and mn.shape == Xn.shape[:3] and used == [5, 5]
    assert min(m.mean() for m in (*mk, *mn)) > 0.02  # never an empty mask
    flat = np.full((96, 96, 3), 7, np.uint8)
    monkeypatch.setattr(synthetic, "photo_crops_of", lambda photos, size, scale=None: lambda rng: flat)
    _, _, Xn, _, _, mn = synthetic.cluttered_transfer_split(X, y, range(5), size=96)
    change = np.abs(Xn.astype(int) - 7).max(axis=-1)
    rim = np.stack([ndimage.binary_dilation(m, iterations=2) for m in mn])
    assert change[~rim].max() <= 16  # outside the mask and its rim only Lanczos' faint ringing (≤ 13 measured)
    assert (change[mn] > 16).mean() > 0.95
