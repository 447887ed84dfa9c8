"""The folder reader: formats, conversions, odd files, streaming."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from deepclust.datasets import iter_folder_batches, load_image, scan_folder


def test_scan_finds_images_sorted_and_lists_the_rest(shapes_folder):
    """Every real image is found once, in sorted order; hidden, non-image, loops and dangling links are listed."""
    folder = scan_folder(shapes_folder)
    assert folder.paths == sorted(folder.paths)
    real = [p for p in folder.paths if not p.startswith("bad/")]
    assert len(real) == 30 and all(not p.startswith("loop/") for p in folder.paths)
    reasons = {s.path: s.reason for s in folder.skipped}
    assert reasons[".hidden.png"] == "hidden file"
    assert reasons[".cache"] == "hidden folder"
    assert reasons["readme.txt"] == "not an image file extension"
    assert "symlink loop" in reasons["loop"]
    assert "broken link" in reasons["dangling.png"]


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
