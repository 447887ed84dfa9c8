"""Large images: decoded reduced within deepclust's pixel limit, or set aside with the reason; never a crash."""

import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepclust.datasets import _folder, iter_folder_batches, load_image, scan_folder

HAS_VIPS = _folder._vips() is not None


def _photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth colour picture with mild noise (what a camera JPEG looks like to a resampler)."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([128 + 100 * np.sin(x / 97 + k) * np.cos(y / 61 - k) for k in range(3)], axis=-1)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _png_single_colour(path: Path, side: int, rgba=(200, 30, 30, 128)) -> Path:
    """An RGBA PNG of ``side × side`` in one colour, written row by row (never the whole image in memory)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    row = b"\x00" + bytes(rgba) * side
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = side.to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def big_png(tmp_path_factory) -> Path:
    """8,000 × 8,000 RGBA (64 megapixels: over deepclust's limit, under Pillow's), 256 MB if decoded whole."""
    return _png_single_colour(tmp_path_factory.mktemp("big") / "big.png", 8000)


def test_reduced_jpeg_decode_matches_a_full_decode_then_resize(tmp_path):
    """A 6-megapixel JPEG decoded by DCT scaling gives the pixels of a full decode then resize within 3 grey levels
    on average (and over 99% of them within 16)."""
    path = tmp_path / "photo.jpg"
    Image.fromarray(_photo(3000, 2000)).save(path, quality=92)
    reduced = load_image(path, 224).astype(np.int16)
    with Image.open(path) as im:
        full = im.convert("RGB").resize((224, 224), Image.Resampling.BILINEAR, box=(500, 0, 2500, 2000))
    diff = np.abs(reduced - np.asarray(full, np.int16))
    assert diff.mean() < 3.0, f"mean difference {diff.mean():.2f} grey levels"
    assert (diff <= 16).mean() > 0.99, f"{(diff > 16).mean():.4f} of the pixels differ by more than 16"


def test_jpeg_over_the_limit_is_decoded_reduced_with_a_named_warning(tmp_path, monkeypatch):
    """Without a size, a JPEG over MAX_DECODE_PIXELS comes back at the DCT scale that fits the limit, warned by name."""
    monkeypatch.setattr(_folder, "MAX_DECODE_PIXELS", 1_000_000)
    path = tmp_path / "wide.jpg"
    Image.fromarray(_photo(2400, 1600)).save(path, quality=90)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img = load_image(path)
    assert img.shape == (800, 1200, 3)  # 1/2 would be 1.0 MP > 1 MP: 1/2 is 960,000 pixels, within
    messages = [str(w.message) for w in caught]
    assert any(str(path) in m and "decoded reduced to 1200×800" in m for m in messages), messages


def test_png_over_the_limit_without_pyvips_is_skipped_with_the_reason(big_png, monkeypatch):
    """Without pyvips a PNG over the limit is not decoded: ImageTooLarge says its size and the limit, and a folder
    stream sets it aside with that reason instead of stopping."""
    monkeypatch.setattr(_folder, "_vips", lambda: None)
    with pytest.raises(_folder.ImageTooLarge, match=r"8000×8000 pixels \(64 megapixels\) is over deepclust's "
                                                    r"decoding limit \(40 megapixels"):
        load_image(big_png, 224)
    Image.new("RGB", (50, 40), "blue").save(big_png.parent / "small.png")
    batches = list(iter_folder_batches(scan_folder(big_png.parent), 32, num_workers=0))
    failed = dict(f for b in batches for f in b.failed)
    assert sum(len(b.indices) for b in batches) == 1 and list(failed) == [0]
    assert failed[0].startswith("ImageTooLarge: 8000×8000 pixels") and "pyvips" in failed[0]


@pytest.mark.skipif(not HAS_VIPS, reason="pyvips (the optional extra deepclust[vips]) is not installed")
def test_png_over_the_limit_is_shrunk_by_libvips_in_bounded_memory(big_png):
    """With pyvips, the 64-megapixel PNG is decoded reduced: right colour (composited on white), and the process
    grows by less than 150 MB (a whole decode takes 256 MB for the pixels alone)."""
    code = textwrap.dedent(f"""
        from pathlib import Path
        from deepclust.datasets import load_image
        from deepclust.datasets._folder import _vips
        def peak_mb():
            status = Path("/proc/self/status").read_text().split("VmHWM:")[1]
            return int(status.split()[0]) / 1024
        _vips()
        Path("/proc/self/clear_refs").write_text("5")  # the peak so far (imports) is forgotten
        before = peak_mb()
        img = load_image({str(big_png)!r}, 224)
        print(*img.shape, *img[100, 100].tolist(), peak_mb() - before)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert [int(v) for v in out[:3]] == [224, 224, 3], out
    # half-transparent red on white: 200·α + 255·(1 − α) with α = 128/255, and 30·α + 255·(1 − α)
    assert np.allclose([int(v) for v in out[3:6]], [227.4, 142.1, 142.1], atol=2), out
    assert float(out[6]) < 150, f"decoding grew the process by {float(out[6]):.0f} MB"


@pytest.mark.skipif(not HAS_VIPS, reason="pyvips (the optional extra deepclust[vips]) is not installed")
def test_libvips_decode_matches_pillow_on_a_transparent_drawing(tmp_path, monkeypatch):
    """The libvips route (taken by files over VIPS_MIN_PIXELS) gives the Pillow route's pixels within 4 grey levels
    on average, transparency composited on white the same way."""
    rgba = np.dstack([_photo(1200, 900), np.tile(np.linspace(0, 255, 1200, dtype=np.uint8), (900, 1))])
    path = tmp_path / "drawing.png"
    Image.fromarray(rgba, "RGBA").save(path)
    monkeypatch.setattr(_folder, "VIPS_MIN_PIXELS", 10**9)
    pillow = load_image(path, 96).astype(np.int16)
    monkeypatch.setattr(_folder, "VIPS_MIN_PIXELS", 100_000)  # 1.08 megapixels: libvips, as for a large drawing
    vips = load_image(path, 96).astype(np.int16)
    diff = np.abs(vips - pillow)
    assert vips.shape == (96, 96, 3) and diff.mean() < 4.0, f"mean difference {diff.mean():.2f} grey levels"


def test_header_of_a_bomb_is_set_aside_not_decoded(tmp_path):
    """A PNG whose header claims 100,000 × 100,000 pixels is set aside by Pillow's hard limit, with pyvips too."""
    path = tmp_path / "bomb.png"
    ihdr = (100_000).to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    chunk = len(ihdr).to_bytes(4, "big") + b"IHDR" + ihdr + zlib.crc32(b"IHDR" + ihdr).to_bytes(4, "big")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    batches = list(iter_folder_batches(scan_folder(tmp_path), 32, num_workers=0))
    [(index, reason)] = [f for b in batches for f in b.failed]
    assert "DecompressionBombError" in reason and "hard limit" in reason
