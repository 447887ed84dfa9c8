"""The folder reader: formats, conversions, odd files, streaming."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepclust.datasets import ImageFolder, iter_folder_batches, load_image, scan_folder


def test_scan_finds_images_sorted_and_lists_the_rest(shapes_folder):
    """Every real image is found once, in sorted order; hidden, non-image, loops and dangling links are listed (a link
    to itself as what it is, not as a file without an image extension)."""
    os.symlink(shapes_folder / "self", shapes_folder / "self")
    folder = scan_folder(shapes_folder)
    assert folder.paths == sorted(folder.paths)
    real = [p for p in folder.paths if not p.startswith("bad/")]
    assert len(real) == 30 and all(not p.startswith("loop/") for p in folder.paths)
    reasons = {s.path: s.reason for s in folder.skipped}
    assert reasons[".hidden.png"] == "hidden file"
    assert reasons[".cache"] == "hidden folder"
    assert reasons["readme.txt"] == "not an image file extension"
    assert "symlink loop" in reasons["loop"]
    assert "broken link" in reasons["dangling.png"] and "symlink loop" in reasons["self"]


def test_stream_sets_bad_files_aside(shapes_folder):
    """Empty, truncated and text files are reported with a reason; every readable image arrives as uint8."""
    folder = scan_folder(shapes_folder)
    seen, failed = [], {}
    for batch in iter_folder_batches(folder, size=32, batch_size=7, num_workers=1):
        assert batch.images.dtype == np.uint8
        assert batch.images.shape[1:] == (32, 32, 3) or len(batch.images) == 0
        seen += batch.indices.tolist()
        failed.update({folder.paths[i]: r for i, r in batch.failed})
    assert sorted(failed) == ["bad/empty.png", "bad/notes.png", "bad/truncated.png"]
    assert all(failed.values())
    assert len(seen) == 30 and seen == sorted(seen)


def test_missing_folder_is_a_clear_error(tmp_path):
    """A folder that does not exist raises FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="nothere"):
        scan_folder(tmp_path / "nothere")


def test_exif_orientation_is_applied(tmp_path):
    """A 20×10 JPEG tagged 'rotate 90°' loads as 10 wide × 20 high."""
    im = Image.new("RGB", (20, 10), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(tmp_path / "r.jpg", exif=exif.tobytes())
    assert load_image(tmp_path / "r.jpg").shape == (20, 10, 3)


def test_sixteen_bit_grayscale_is_scaled(tmp_path):
    """A 16-bit grey PNG of value 65535 becomes 255, 32896 becomes 128 (not clipped to white)."""
    arr = np.array([[65535, 32896]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "g16.png")
    img = load_image(tmp_path / "g16.png")
    assert img[0, 0].tolist() == [255, 255, 255] and img[0, 1].tolist() == [128, 128, 128]


def test_transparency_composited_on_white(tmp_path):
    """Fully transparent RGBA pixels become white; opaque ones keep their colour; palette transparency too."""
    arr = np.zeros((2, 2, 4), np.uint8)
    arr[0, 0] = (10, 20, 30, 255)
    Image.fromarray(arr, "RGBA").save(tmp_path / "a.png")
    img = load_image(tmp_path / "a.png")
    assert img[0, 0].tolist() == [10, 20, 30] and img[1, 1].tolist() == [255, 255, 255]
    pal = Image.fromarray(arr, "RGBA").convert("P")
    pal.info["transparency"] = pal.getpixel((1, 1))
    pal.save(tmp_path / "p.gif", transparency=pal.getpixel((1, 1)))
    assert load_image(tmp_path / "p.gif")[1, 1].tolist() == [255, 255, 255]


def test_cmyk_and_grayscale_convert_to_rgb(tmp_path):
    """CMYK (pure cyan) and L images load as 3-channel RGB with the right colours."""
    Image.new("CMYK", (4, 4), (255, 0, 0, 0)).save(tmp_path / "c.jpg", quality=100)
    c = load_image(tmp_path / "c.jpg")[0, 0]
    assert c.shape == (3,) and c[0] < 40 and c[1] > 200 and c[2] > 200
    Image.new("L", (4, 4), 77).save(tmp_path / "l.bmp")
    assert load_image(tmp_path / "l.bmp")[0, 0].tolist() == [77, 77, 77]


def test_resize_centre_crops_to_square(tmp_path):
    """With ``size``, a wide image is centre-cropped then resized to size × size."""
    arr = np.zeros((10, 30, 3), np.uint8)
    arr[:, 10:20] = 255  # white centre third
    Image.fromarray(arr).save(tmp_path / "w.png")
    img = load_image(tmp_path / "w.png", size=8)
    assert img.shape == (8, 8, 3) and img.mean() > 240


def test_labels_from_subfolders_at_the_depth_asked_for():
    """"first" takes the first folder, "deepest" the image's own folder, N the first N levels joined with "/"
    (also given as text); images in the root give None whatever the depth."""
    folder = ImageFolder(Path("photos"), ["2023/Holiday/a.jpg", "2023/Holiday/b.jpg", "2023/Work/c.jpg",
                                          "2024/Holiday/d/e.jpg"])
    assert folder.labels_from_subfolders().tolist() == ["2023", "2023", "2023", "2024"]
    assert folder.labels_from_subfolders("first").tolist() == ["2023", "2023", "2023", "2024"]
    assert folder.labels_from_subfolders("deepest").tolist() == ["2023/Holiday", "2023/Holiday", "2023/Work",
                                                                 "2024/Holiday/d"]
    assert folder.labels_from_subfolders(2).tolist() == ["2023/Holiday", "2023/Holiday", "2023/Work",
                                                         "2024/Holiday"]
    assert folder.labels_from_subfolders("2").tolist() == folder.labels_from_subfolders(2).tolist()
    flat = ImageFolder(Path("photos"), ["2023/Holiday/a.jpg", "b.jpg"])
    assert all(flat.labels_from_subfolders(d) is None for d in ("first", "deepest", 1, 2))


def test_labels_from_subfolders_refuses_bad_depths_and_shallow_images():
    """A depth that is not "first", "deepest" or a positive number, and a number deeper than some image lies, are
    each a ValueError that says what is wrong (naming a shallow image)."""
    folder = ImageFolder(Path("photos"), ["2023/Holiday/a.jpg", "2024/b.jpg"])
    for bad in (0, -1, "last", 1.5, True, None):
        with pytest.raises(ValueError, match="'first', 'deepest' or a number"):
            folder.labels_from_subfolders(bad)
    with pytest.raises(ValueError, match=r"first 2 folder levels.*1 image\(s\).*2024/b\.jpg"):
        folder.labels_from_subfolders(2)


def test_large_images_are_reduced_to_the_same_picture(tmp_path):
    """A 3000×1200 photo-like PNG and JPEG, decoded reduced to 48 pixels, match Pillow's centre crop and plain
    bilinear resize of the whole image (mean difference under 2 of 255)."""
    from PIL import ImageOps

    rng = np.random.RandomState(0)
    base = Image.fromarray(rng.randint(0, 256, (12, 30, 3), dtype=np.uint8)).resize((3000, 1200),
                                                                                  Image.Resampling.BICUBIC)
    for name in ("big.png", "big.jpg"):
        base.save(tmp_path / name, quality=95)
        with Image.open(tmp_path / name) as im:
            plain = np.asarray(ImageOps.fit(im.convert("RGB"), (48, 48), Image.Resampling.BILINEAR), np.float64)
        reduced = load_image(tmp_path / name, size=48)
        assert reduced.shape == (48, 48, 3)
        assert np.abs(reduced - plain).mean() < 2, np.abs(reduced - plain).mean()


@pytest.fixture
def bomb_folder(tmp_path, monkeypatch):
    """A folder with an image over a (lowered) decompression-bomb limit, one over twice it, and an ordinary one."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    root = tmp_path / "bombs"
    root.mkdir()
    Image.new("L", (40, 40), 128).save(root / "large.png")  # 1,600 pixels: over the limit, read with a warning
    Image.new("1", (50, 50)).save(root / "huge.png")  # 2,500 pixels: over twice the limit, not read
    Image.new("RGB", (20, 20), (0, 90, 0)).save(root / "small.png")
    return root


def _bomb_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_decompression_bomb_warning_names_the_file_once(bomb_folder):
    """An image over Pillow's limit is read, with one warning that names its path and size in megapixels, however
    often it is read (Pillow's own warning, which names no file, is not shown); one over the hard limit raises
    DecompressionBombError saying its size and the limit."""
    import warnings

    from deepclust.datasets import image_size

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            assert load_image(bomb_folder / "large.png", size=16).shape == (16, 16, 3)
        assert image_size(bomb_folder / "large.png") == (40, 40)
    found = _bomb_warnings(caught)
    assert len(found) == 1, found
    assert str(bomb_folder / "large.png") in found[0] and "40×40 pixels (0.0016 megapixels)" in found[0]
    with pytest.raises(Image.DecompressionBombError, match=r"0\.0025 megapixels, over Pillow's hard limit"):
        load_image(bomb_folder / "huge.png")


@pytest.mark.parametrize("workers", [0, 1])
def test_streaming_sets_bombs_aside_and_warns_once_by_name(bomb_folder, workers):
    """Reading a folder (in a thread, or in a worker process) never stops at a decompression bomb: the file over the
    hard limit is set aside with its reason, the large one is read, and its warning reaches the caller once, by
    name."""
    import warnings

    from deepclust.datasets import scan_folder as scan

    folder = scan(bomb_folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = list(iter_folder_batches(folder, size=16, batch_size=2, num_workers=workers))
        batches += list(iter_folder_batches(folder, size=16, batch_size=2, num_workers=workers))  # read again
    read = {folder.paths[i] for b in batches for i in b.indices}
    failed = {folder.paths[i]: reason for b in batches for i, reason in b.failed}
    assert read == {"large.png", "small.png"}
    assert list(failed) == ["huge.png"] and "DecompressionBombError" in failed["huge.png"]
    assert "hard limit against decompression bombs" in failed["huge.png"]
    found = _bomb_warnings(caught)
    assert len(found) == 1 and str(bomb_folder / "large.png") in found[0], found


def test_cluster_command_names_a_large_image_once_and_skips_a_bomb(shapes_folder, tmp_path, monkeypatch):
    """`deepclust cluster` on a folder with an image over Pillow's (lowered) limit and one over twice it: the run
    finishes, the warning that names the large image is printed once, and the other is listed as skipped with the
    reason."""
    import json

    from typer.testing import CliRunner

    from deepclust.cli import app

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)  # the shapes are 48×48 = 2,304 pixels
    Image.new("RGB", (90, 90), (200, 0, 0)).save(shapes_folder / "square" / "large.png")  # 8,100 pixels
    Image.new("RGB", (120, 120), (0, 0, 200)).save(shapes_folder / "disc" / "huge.png")  # 14,400 pixels
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["cluster", str(shapes_folder), "-k", "3", "--map", "none", "--out", str(out),
                                      "--workers", "0", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    text = "".join(result.output.split())  # the console wraps long lines anywhere, inside a path too
    assert text.count("square/large.png:90×90pixels") == 1, result.output
    assert "decompression bomb DOS attack" not in result.output  # Pillow's own, unnamed warning
    skipped = {s["path"]: s["reason"] for s in json.loads((out / "run.json").read_text())["skipped"]}
    assert "hard limit against decompression bombs" in skipped["disc/huge.png"]
