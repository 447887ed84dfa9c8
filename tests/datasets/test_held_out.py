"""The held-out colour panel built offline: desktop icons by icon-theme folder, the same icons on other photographs
(with their masks), EmojiOne's emoji of other Unicode subgroups than the first panel's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from deepclust.datasets import _held_out as held_out
from deepclust.datasets import _synthetic as synthetic

needs_held_out = pytest.mark.skipif(
    not held_out.held_out_available(),
    reason="needs Debian's oxygen-icon-theme, gnome-icon-theme, mate-backgrounds, ruby-gemojione and unicode-data "
           "(scripts/setup.sh)")


@needs_held_out
def test_icons_are_a_fixed_function_of_the_seed_with_their_labels():
    """Built twice with one seed, the icons are identical; another seed moves them but keeps the labels; every
    class is there, each icon drawn ``copies`` times one after the other."""
    a, ya = held_out.load_icons(size=64, per_class=3)
    b, yb = held_out.load_icons(size=64, per_class=3)
    c, yc = held_out.load_icons(size=64, per_class=3, seed=1)
    assert a.shape == (len(ya), 64, 64, 3) and a.dtype == np.uint8 and ya.dtype == np.int64
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert np.array_equal(ya, yc) and not np.array_equal(a, c)
    assert np.bincount(ya).tolist() == [6] * len(held_out.ICON_CLASSES)
    assert np.array_equal(ya[::2], ya[1::2])


@needs_held_out
def test_icon_classes_are_the_theme_folders_and_each_icon_is_drawn_once():
    """Each icon's class is the folder it lives in; no symbolic link, nothing under 128 px, no icon twice; the
    full set has 60 icons of each class but the faces (30)."""
    pairs = held_out.icon_files()
    names = held_out.ICON_CLASSES
    for path, c in pairs:
        assert path.parent.name in held_out.ICON_FOLDERS[names[c]] and not path.is_symlink()
        assert int(path.parent.parent.name.split("x")[0]) >= held_out.MIN_ICON_SIZE
    assert len({p.read_bytes() for p, _ in pairs}) == len(pairs)
    counts = dict(zip(names, np.bincount([c for _, c in pairs]).tolist()))
    assert counts == {**dict.fromkeys(names, 60), "face": 30}
    assert {p.parent.parent.parent.name for p, _ in pairs} >= {"base", "gnome"}  # both themes


@needs_held_out
def test_masks_cover_exactly_the_pasted_icon(monkeypatch):
    """On real photos each image has its object (a mask of a sensible share); the mask is where the pasted icon is
    more opaque than not (its alpha, read off the same images on two flat backgrounds)."""
    X, y, masks = held_out.load_icons_on_photos(size=96, per_class=2, return_masks=True)
    assert X.shape == (len(y), 96, 96, 3) and masks.shape == X.shape[:3] and masks.dtype == bool
    share = masks.reshape(len(masks), -1).mean(axis=1)
    assert 0.03 < share.min() and share.max() < 0.8
    _, y_white = held_out.load_icons(size=96, per_class=2)
    assert np.array_equal(y, y_white)
    # The same seed on two flat backgrounds places every icon alike: their difference gives each pixel's alpha.
    out = []
    for colour in ((255, 0, 255), (255, 255, 255)):
        flat = np.broadcast_to(np.asarray(colour, np.uint8), (96, 96, 3))
        monkeypatch.setattr(held_out, "photo_crops_of", lambda photos, size, flat=flat: lambda rng: flat.copy())
        out.append(held_out.load_icons_on_photos(size=96, per_class=2, return_masks=True))
    (magenta, _, mask), (white, _, mask_white) = out
    assert np.array_equal(mask, mask_white)
    alpha = 1 - (white[..., 1].astype(float) - magenta[..., 1]) / 255
    rim = np.stack([ndimage.binary_dilation(m, iterations=1) ^ ndimage.binary_erosion(m, iterations=1) for m in mask])
    agree = (alpha > 0.5) == mask
    assert agree[~rim].mean() > 0.999  # off the one-pixel rim, where resampling rounds, the mask is the opaque icon
    assert alpha[mask].mean() > 0.9 and alpha[~mask].mean() < 0.05


@needs_held_out
def test_photos_are_other_than_the_first_panels():
    """The backgrounds are MATE's twelve nature photographs, decoded no smaller than 640 px a side."""
    photos = held_out.load_held_out_photos()
    assert len(photos) == 12 and min(min(p.shape[:2]) for p in photos) >= 640
    assert held_out.PHOTO_DIR.parts[-3:] == ("backgrounds", "mate", "nature")


@needs_held_out
def test_emojione_draws_other_subgroups_than_the_first_panel():
    """EmojiOne's emoji of twelve subgroups the first panel does not use, each class with enough emoji; an
    aeroplane is an aircraft, a pizza a dish; the set is a fixed function of its seed."""
    first = {s for subs in synthetic.EMOJI_SUBGROUPS.values() for s in subs}
    assert not first & {s for subs in held_out.EMOJIONE_SUBGROUPS.values() for s in subs}
    pairs = held_out.emojione_by_subgroup()
    by_emoji = dict(pairs)
    names = held_out.EMOJIONE_CLASSES
    assert names[by_emoji["\u2708"]] == "aircraft & boat" and names[by_emoji["\U0001F355"]] == "dish"
    counts = np.bincount([c for _, c in pairs], minlength=len(names))
    assert counts.min() >= 15 and counts.max() <= 40
    a, ya = held_out.load_emojione(size=64, max_per_class=2)
    b, _ = held_out.load_emojione(size=64, max_per_class=2)
    assert a.shape == (2 * 2 * len(names), 64, 64, 3) and np.array_equal(a, b)
    assert np.bincount(ya).tolist() == [4] * len(names)


@pytest.mark.parametrize(("setting", "call", "package"), [
    ("ICON_THEMES", lambda: held_out.icon_files(), "oxygen-icon-theme"),
    ("PHOTO_DIR", lambda: held_out.load_held_out_photos(), "mate-backgrounds"),
    ("EMOJIONE_DIR", lambda: held_out.emojione_by_subgroup(), "ruby-gemojione"),
])
def test_missing_files_are_said_with_the_package_to_install(monkeypatch, tmp_path, setting, call, package):
    """Without the installed files, each loader says which Debian package to install, and the sets say they are
    unavailable."""
    missing = tmp_path / "none"
    value = ({"oxygen": (missing, "oxygen-icon-theme"), "gnome": (missing, "gnome-icon-theme")}
             if setting == "ICON_THEMES" else Path(missing))
    monkeypatch.setattr(held_out, setting, value)
    with pytest.raises(synthetic.MissingSystemFileError, match=f"apt-get install {package}"):
        call()
    assert not held_out.held_out_available()
