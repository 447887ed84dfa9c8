"""Stream the images of a folder: recursive, sorted, uint8, bad files set aside with a reason."""

from __future__ import annotations

import functools
import json
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from .._outputs import RUN_FILE, written_by_deepclust
from ._interface import ImageBatch, SkippedFile, Source

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
#: The file that marks a deepclust run folder; the reader never descends into one (its figures are not input).


@dataclass
class ImageFolder(Source):
    """The image files found under ``root`` (paths relative to it, sorted), what was set aside while scanning, and
    the images' known labels (``labels``, e.g. from their subfolders), if any: a :class:`Source`."""

    root: Path
    paths: list[str]
    skipped: list[SkippedFile] = field(default_factory=list)
    labels: np.ndarray | None = field(default=None, compare=False, repr=False)
    kind: ClassVar[str] = "folder"
    vectors = None

    def __len__(self) -> int:
        return len(self.paths)

    @functools.cached_property
    def typical_size(self) -> int:
        """The median larger side of the first readable images (headers only)."""
        sizes = []
        for rel in self.paths[:32]:
            try:
                sizes.append(max(image_size(self.root / rel)))
            except Exception:  # unreadable files are reported by the extraction, not here
                continue
        return int(np.median(sizes)) if sizes else 224

    @property
    def name(self) -> str:
        return str(self.root)

    def take(self, rows) -> ImageFolder:
        rows = np.asarray(rows, dtype=np.intp)
        return ImageFolder(self.root, [self.paths[i] for i in rows], self.skipped,
                           None if self.labels is None else np.asarray(self.labels)[rows])

    def describe(self) -> dict:
        return {"kind": "folder", "root": str(self.root.resolve())}

    def hash_into(self, h) -> None:
        h.update(json.dumps([str(self.root.resolve()), self.fingerprint()]).encode())

    def batches(self, size: int, batch_size: int = 64, plan=None, num_workers=None,
                upscale: bool = True) -> Iterator[ImageBatch]:
        return iter_folder_batches(self, size, batch_size, num_workers, plan, upscale=upscale)

    def pixels(self, size: int, grayscale: bool, batch_size: int = 64, num_workers=None, verbose: bool = False):
        from .._progress import track

        X = np.zeros((len(self), size, size, 1 if grayscale else 3), np.uint8)
        ok = np.zeros(len(self), bool)
        failed = []
        for batch in track(self.batches(size, batch_size, num_workers=num_workers), total=len(self),
                           description="loading images", verbose=verbose):
            if len(batch.indices):
                imgs = batch.images
                if grayscale:  # ITU-R 601 luma
                    imgs = np.round(imgs @ np.array([0.299, 0.587, 0.114]))[..., None].astype(np.uint8)
                X[batch.indices], ok[batch.indices] = imgs, True
            failed += [SkippedFile(self.paths[i], reason) for i, reason in batch.failed]
        indices = np.flatnonzero(ok)
        return X[indices], indices, failed

    def image(self, row: int, size: int = 96) -> np.ndarray:
        return load_image(self.root / self.paths[row], size)

    def map_images(self, fn, *, mode: str = "RGB", min_side: int = 0, reduce_to: int | None = None,
                   num_workers: int | None = None, verbose: bool = False, description: str = "") -> list:
        from concurrent.futures import ThreadPoolExecutor

        from .._progress import track

        def one(rel: str):
            from PIL import ExifTags, ImageOps

            try:
                with open_image(self.root / rel) as im:
                    if min(im.size) < min_side:
                        return None
                    if reduce_to is not None:  # JPEG: decoded at 1/2 … 1/8 scale
                        im.draft(mode, (reduce_to, reduce_to))
                    if im.getexif().get(ExifTags.Base.Orientation, 1) not in (0, 1):
                        im = ImageOps.exif_transpose(im)
                    return fn(im.convert(mode))
            except Exception:  # an unreadable file gives nothing; the run lists it as skipped
                return None

        workers = num_workers or min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(max(1, workers)) as pool:  # decoding releases the GIL
            return list(track(pool.map(one, self.paths), total=len(self), description=description,
                              verbose=verbose))

    def fingerprint(self) -> list[tuple[str, int, int]]:
        """``(path, size, mtime_ns)`` per file: what the feature cache is keyed on."""
        out = []
        for rel in self.paths:
            st = (self.root / rel).stat()
            out.append((rel, st.st_size, st.st_mtime_ns))
        return out

    def labels_from_subfolders(self, depth: str | int = "first") -> np.ndarray | None:
        """Each image's folder, relative to ``root``, as its label; None when some image lies directly in ``root``.

        Parameters
        ----------
        depth : "first", "deepest" or int, default="first"
            Which folders name the class of ``2023/Holiday/a.jpg``: ``"first"`` the first level (``2023``),
            ``"deepest"`` the image's own folder (``2023/Holiday``), an int ``N`` (or its text, ``"2"``) the first
            ``N`` levels joined with ``/`` (every image must lie at least ``N`` folders deep).

        Examples
        --------
        >>> folder = ImageFolder(Path("photos"), ["2023/Holiday/a.jpg", "2023/Work/b.jpg", "2024/c.jpg"])
        >>> folder.labels_from_subfolders().tolist(), folder.labels_from_subfolders("deepest").tolist()
        (['2023', '2023', '2024'], ['2023/Holiday', '2023/Work', '2024'])
        """
        levels = _label_depth(depth)
        folders = [Path(p).parts[:-1] for p in self.paths]
        if not folders or any(not f for f in folders):
            return None
        if levels is None:
            return np.array(["/".join(f) for f in folders])
        shallow = [p for p, f in zip(self.paths, folders) if len(f) < levels]
        if shallow:
            raise ValueError(f"labels from the first {levels} folder levels were asked for, but {len(shallow)} "
                             f"image(s) lie fewer folders deep under {self.root} (e.g. {shallow[0]}): choose a "
                             f"smaller depth, or 'deepest' (each image's own folder)")
        return np.array(["/".join(f[:levels]) for f in folders])


def _label_depth(depth: str | int) -> int | None:
    """The number of folder levels that name a class (None: all of them, the image's own folder)."""
    if isinstance(depth, str) and depth.strip().isdigit():
        depth = int(depth)
    if depth == "first":
        return 1
    if depth == "deepest":
        return None
    if isinstance(depth, (int, np.integer)) and not isinstance(depth, bool) and depth >= 1:
        return int(depth)
    raise ValueError(f"the subfolder depth of labels must be 'first', 'deepest' or a number of folder levels "
                     f"(1 or more), got {depth!r}")


def scan_folder(root: str | os.PathLike) -> ImageFolder:
    """Find every image under ``root``, recursively, following symlinks once (loops are cut and reported).

    Hidden files and folders (name starting with ``.``), deepclust run folders (see :func:`is_run_folder`: their
    montages are results, not input) and files without an image extension are not read; they are listed in
    ``skipped``. The order is the sorted relative POSIX path, so runs are reproducible.
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    paths: list[str] = []
    skipped: list[SkippedFile] = []
    seen_dirs: set[tuple[int, int]] = set()

    def rel(p: str) -> str:
        return Path(os.path.relpath(p, root)).as_posix()

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=lambda e: skipped.append(
            SkippedFile(rel(e.filename or str(root)), f"cannot list folder: {e.strerror}"))):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen_dirs:
            skipped.append(SkippedFile(rel(dirpath), "symlink loop: folder already visited"))
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        kept = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if d.startswith("."):
                skipped.append(SkippedFile(rel(full), "hidden folder"))
            elif is_run_folder(full):
                skipped.append(SkippedFile(rel(full), "a deepclust run folder (holds run.json): results, not input"))
            else:
                kept.append(d)
        dirnames[:] = sorted(kept)
        for name in filenames:
            full = os.path.join(dirpath, name)
            if name.startswith("."):
                skipped.append(SkippedFile(rel(full), "hidden file"))
            elif os.path.islink(full) and not os.path.exists(full):  # os.walk lists a link to nowhere as a file
                skipped.append(SkippedFile(rel(full), "broken link or symlink loop"))
            elif Path(name).suffix.lower() not in IMAGE_EXTENSIONS:
                skipped.append(SkippedFile(rel(full), "not an image file extension"))
            elif not os.path.isfile(full):
                skipped.append(SkippedFile(rel(full), "broken link or not a regular file"))
            else:
                paths.append(rel(full))
    paths.sort()
    skipped.sort(key=lambda s: s.path)
    return ImageFolder(root=root, paths=paths, skipped=skipped)


def is_run_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder written by deepclust: it holds a ``run.json`` that names a deepclust version."""
    return written_by_deepclust(Path(path) / RUN_FILE)


#: Pillow first shrinks a large image by a whole factor in boxes, then resamples what is left, when the image is
#: more than this many times (×2) larger than asked: the result matches a resampling of the whole image (Pillow's
#: documentation of ``reducing_gap``) at a fraction of its cost for photos of many megapixels.
REDUCING_GAP = 3.0
#: deepclust decodes no image of more than this many pixels whole. Pillow holds 4 bytes per pixel (RGB too), so an
#: image at the limit takes 160 MB decoded and about 360 MB while transparency is composited on white (the alpha
#: channel and a white canvas): two decoding threads stay under 1 GB. 40 megapixels reads whole any photo up to
#: 7,700 × 5,200; a larger file is decoded reduced where the format allows it (JPEG by DCT scaling, any format
#: libvips reads when the optional ``pyvips`` is installed: it shrinks PNG and TIFF line by line), else set aside with
#: the reason. Pillow's own hard limit (twice ``PIL.Image.MAX_IMAGE_PIXELS``) still applies on top.
MAX_DECODE_PIXELS = 40_000_000
#: With ``pyvips`` installed, a PNG, TIFF… (not a JPEG: Pillow's DCT scaling is as fast) of more than this many pixels
#: is decoded to a thumbnail by libvips even within :data:`MAX_DECODE_PIXELS`: measured on transparent PNG drawings,
#: 1.7× faster than Pillow at 1–2 megapixels and 2.5× at 4–36, in a few MB instead of up to 9 bytes per pixel.
VIPS_MIN_PIXELS = 1_000_000
_BOMB_LOCK = threading.Lock()
_BOMB_WARNED: set[str] = set()


def _new_lock_after_fork() -> None:
    global _BOMB_LOCK  # a worker process forked while a thread held the lock would wait for it forever
    _BOMB_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)


def load_image(path: str | os.PathLike, size: int | None = None, upscale: bool = True) -> np.ndarray:
    """Decode one image to uint8 RGB ``(H, W, 3)``; with ``size``, centre-cropped and resized to ``size × size``
    (with ``upscale=False`` a square smaller than ``size`` keeps its own side: the extractor resizes whole batches
    itself, as it does for arrays, at a fraction of the cost of one resize per image).

    With ``size``, large images are decoded reduced: JPEG at a fraction of its scale (``Image.draft``), any format
    shrunk by whole factors before the last resampling (:data:`REDUCING_GAP`), so a thumbnail of a 24-megapixel
    photo costs what decoding the file costs, not more. EXIF orientation is applied; palette, grayscale, CMYK and
    16-bit images are converted, and transparency is composited on white.

    No image over :data:`MAX_DECODE_PIXELS` is decoded whole: a JPEG is decoded at the DCT scale that brings it
    within the limit, any other format shrunk while libvips decodes it when ``pyvips`` is installed (the optional
    extra ``deepclust[vips]``), else :class:`ImageTooLarge` (a ``ValueError``) names its size and the limit; without
    ``size`` the image returned is then smaller than the file, with one warning that names it. An image larger than
    Pillow's limit against decompression bombs (``PIL.Image.MAX_IMAGE_PIXELS``) is warned about once per file and by
    name, saying how it was read; one over twice that limit raises ``PIL.Image.DecompressionBombError`` naming its
    size. Raises ``OSError``/``ValueError`` for files that cannot be decoded.
    """
    notes: list[str] = []
    try:
        return _decode(path, size, upscale, notes)
    finally:
        for note in notes:
            _warn_once(note)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of an image file from its header (nothing is decoded), warning once and by name about
    decompression bombs as :func:`load_image` does."""
    with open_image(path) as im:
        return im.size


@contextmanager
def open_image(path: str | os.PathLike):
    """``PIL.Image.open(path)`` as a context, with a decompression bomb warned about once and by name (Pillow's own
    warning names no file); for readers outside this module (perceptual hashes)."""
    notes: list[str] = []
    try:
        im = _open(path, notes)
    finally:
        for note in notes:
            _warn_once(note)
    with im:
        yield im


def _warn_once(message: str) -> None:
    """Warn (``PIL.Image.DecompressionBombWarning``) with ``message`` unless this process did already: the reader
    meets the same file several times (size probe, features, montages, thumbnails)."""
    from PIL import Image

    with _BOMB_LOCK:
        if message in _BOMB_WARNED:
            return
        _BOMB_WARNED.add(message)
    warnings.warn(message, Image.DecompressionBombWarning, stacklevel=3)


def _open(path, notes: list[str]):
    """``Image.open(path)``, with Pillow's decompression-bomb warning (which names no file) turned into a line in
    ``notes`` that does, and its error into one that says the size and the limit."""
    from PIL import Image

    # catch_warnings swaps process-wide state: threads that decode at the same time take turns (opening reads
    # only the header, so the turns are short)
    with _BOMB_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except Image.DecompressionBombError as exc:
            assert Image.MAX_IMAGE_PIXELS is not None  # None turns the check, and so this error, off
            raise Image.DecompressionBombError(
                f"{_megapixels(str(exc))}, over Pillow's hard limit against decompression bombs "
                f"({_mp(2 * Image.MAX_IMAGE_PIXELS)}, twice PIL.Image.MAX_IMAGE_PIXELS): not read (raise "
                f"PIL.Image.MAX_IMAGE_PIXELS to read it)") from exc
    for w in caught:
        if issubclass(w.category, Image.DecompressionBombWarning):
            width, height = im.size
            notes.append(f"{path}: {width}×{height} pixels ({_mp(width * height)}) is over Pillow's limit against "
                         f"decompression bombs ({_limit_mp()}); read anyway, which takes time and memory")
        else:  # someone else's warning, caught in passing: raised again as it came
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return im


def _mp(pixels: int) -> str:
    mp = pixels / 1e6
    return f"{mp:.0f} megapixels" if mp >= 10 else f"{mp:.2g} megapixels"


def _limit_mp() -> str:
    from PIL import Image

    return _mp(Image.MAX_IMAGE_PIXELS) if Image.MAX_IMAGE_PIXELS else "none"


def _megapixels(message: str) -> str:
    """The image size that Pillow's DecompressionBombError message states, in megapixels."""
    import re

    found = re.search(r"\((\d+) pixels\)", message)
    return _mp(int(found[1])) if found else "the image"


class ImageTooLarge(ValueError):
    """An image over :data:`MAX_DECODE_PIXELS` in a format that cannot be decoded reduced: not read."""


def _decode(path, size: int | None, upscale: bool, notes: list[str]) -> np.ndarray:
    """:func:`load_image`, with its warnings added to ``notes`` (to be raised by the caller's thread)."""
    from PIL import ExifTags, Image, ImageOps

    pillow_notes = len(notes)
    with _open(path, notes) as im:
        width, height = im.size
        if size is not None:
            im.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster for big photos
        if im.size[0] * im.size[1] > MAX_DECODE_PIXELS:
            _draft_within_limit(im)
        if im.size[0] * im.size[1] > MAX_DECODE_PIXELS:
            del notes[pillow_notes:]  # Pillow's "read anyway" does not hold: the note says what happened instead
            return _decode_vips(path, size, upscale, (width, height), notes)
        if size is not None and width * height > VIPS_MIN_PIXELS and im.format != "JPEG" and _vips() is not None:
            try:
                return _decode_vips(path, size, upscale, (width, height), notes)
            except ImageTooLarge:
                pass  # what libvips cannot read, Pillow may
        if im.size != (width, height) and (size is None or pillow_notes < len(notes)):
            del notes[pillow_notes:]
            limit = (f"deepclust's decoding limit ({_mp(MAX_DECODE_PIXELS)}, MAX_DECODE_PIXELS)"
                     if width * height > MAX_DECODE_PIXELS else f"Pillow's limit against decompression bombs "
                     f"({_limit_mp()})")
            notes.append(f"{path}: {width}×{height} pixels ({_mp(width * height)}) is over {limit}: decoded reduced "
                         f"to {im.size[0]}×{im.size[1]} by JPEG DCT scaling")
        # only a rotated image is copied: exif_transpose copies every image, a photo of 24 megapixels too
        rotated = im.getexif().get(ExifTags.Base.Orientation, 1) not in (0, 1)
        rgb = _to_rgb(ImageOps.exif_transpose(im) if rotated else im)
        if size is not None:
            width, height = rgb.size
            side = size if upscale else min(size, width, height)
            crop = min(width, height)  # the centred square, as ImageOps.fit cuts it
            box = ((width - crop) / 2, (height - crop) / 2, (width + crop) / 2, (height + crop) / 2)
            rgb = rgb.resize((side, side), Image.Resampling.BILINEAR, box=box, reducing_gap=REDUCING_GAP)
        arr = np.asarray(rgb, dtype=np.uint8)
    return _checked(arr)


def _checked(arr: np.ndarray) -> np.ndarray:
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.size == 0:
        raise ValueError(f"decoded to an unexpected shape {arr.shape}")
    return arr


def _draft_within_limit(im) -> None:
    """JPEG: the smallest DCT scale (1/2 … 1/8) that brings ``im`` within :data:`MAX_DECODE_PIXELS` (no-op for
    other formats, and where even 1/8 is over)."""
    width, height = im.size
    for scale in (2, 4, 8):
        if -(-width // scale) * -(-height // scale) <= MAX_DECODE_PIXELS:
            im.draft("RGB", (-(-width // scale), -(-height // scale)))
            return


@functools.lru_cache(maxsize=1)
def _vips():
    """The ``pyvips`` module (libvips: shrink-on-load, line by line), or None where it is not installed."""
    try:
        import pyvips
    except (ImportError, OSError):  # OSError: the Python package without the libvips library
        return None
    pyvips.cache_set_max(0)  # keep no decoded image around: each file is read once per pass
    return pyvips


def _decode_vips(path, size: int | None, upscale: bool, full: tuple[int, int], notes: list[str]) -> np.ndarray:
    """An image over :data:`MAX_DECODE_PIXELS` that Pillow cannot decode reduced, shrunk while libvips decodes it
    (``size``: the centred square at ``size``; none: the whole image within the limit); :class:`ImageTooLarge`
    without ``pyvips``."""
    width, height = full
    what = f"{width}×{height} pixels ({_mp(width * height)}) is over deepclust's decoding limit " \
           f"({_mp(MAX_DECODE_PIXELS)}, MAX_DECODE_PIXELS)"
    vips = _vips()
    if vips is None:
        raise ImageTooLarge(f"{what} and Pillow cannot decode this format reduced: not read (with pyvips installed, "
                            f"pip install 'deepclust[vips]', it is decoded reduced)")
    try:
        if size is not None:
            side = size if upscale else min(size, width, height)
            im = vips.Image.thumbnail(str(path), side, height=side, crop="centre")
        else:
            scale = (MAX_DECODE_PIXELS / (width * height)) ** 0.5
            im = vips.Image.thumbnail(str(path), max(1, int(width * scale)), height=max(1, int(height * scale)),
                                      size="down")
        if im.hasalpha():
            im = im.flatten(background=[255] * (im.bands - 1))
        im = im.colourspace("srgb")
        if im.format != "uchar":
            im = im.cast("uchar")
        arr = np.ascontiguousarray(im.numpy()[..., :3])
    except vips.Error as exc:
        raise ImageTooLarge(f"{what} and libvips could not decode it reduced: {str(exc).strip()}") from exc
    if size is None:
        notes.append(f"{path}: {what}: decoded reduced to {arr.shape[1]}×{arr.shape[0]} by libvips")
    return _checked(arr)


def _to_rgb(im):
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im).astype(np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
        if im.mode == "F":
            lo, hi = float(a.min()), float(a.max())
            a, top = a - lo, max(hi - lo, 1e-12)
        a = np.clip(np.round(a / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(a, mode="L").convert("RGB")
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # pasted through its alpha onto white: one white canvas and the alpha channel beside the decoded image
        # (alpha_composite took three more full-size copies: 2.7 GB for a 13,000-pixel-square drawing)
        if im.mode != "RGBA":
            im = im.convert("RGBA")
        white = Image.new("RGB", im.size, (255, 255, 255))
        white.paste(im, mask=im.getchannel("A"))
        return white
    return im if im.mode == "RGB" else im.convert("RGB")


class _FolderDataset:
    """Map-style dataset: one decoded image or the reason it could not be decoded, and the warnings decoding it
    raised (never raises)."""

    def __init__(self, folder: ImageFolder, size: int, upscale: bool = True):
        self.folder, self.size, self.upscale = folder, size, upscale

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, i: int):
        notes: list[str] = []
        try:
            return i, _decode(self.folder.root / self.folder.paths[i], self.size, self.upscale, notes), None, notes
        except Exception as exc:  # a bad file must never stop a run: record it and go on
            return i, None, f"{type(exc).__name__}: {exc}", notes


def _collate(items, size: int | None = None) -> ImageBatch:
    """One batch; squares of different sides (kept small by ``upscale=False``) are brought to ``size`` first."""
    ok = [(i, img) for i, img, _, _ in items if img is not None]
    failed = [(i, reason) for i, img, reason, _ in items if img is None]
    notes = [note for *_, item_notes in items for note in item_notes]
    if size is not None and len({img.shape for _, img in ok}) > 1:
        from PIL import Image

        ok = [(i, img if img.shape[0] == size else np.asarray(Image.fromarray(img).resize(
            (size, size), Image.Resampling.BILINEAR))) for i, img in ok]
    images = np.stack([img for _, img in ok]) if ok else np.zeros((0, 0, 0, 3), np.uint8)
    return ImageBatch(np.array([i for i, _ in ok], dtype=np.int64), images, failed, notes)


def default_num_workers() -> int:
    """Decoding processes: none on 1–2 cores (measured: a worker there takes the model's CPU and gains nothing),
    else one per core beyond two, at most 4, so decoding overlaps the forward pass."""
    return max(0, min(4, (os.cpu_count() or 1) - 2))


#: Threads that decode a batch's images when no worker process runs. Pillow and libvips release the GIL while they
#: decode, so two threads keep both cores of a small machine busy while the network waits for its next batch
#: (300 JPEGs of 6 MP through ONNX Runtime on 2 cores: 57 images/s with one thread, 74 with two, 75 with three).
DECODE_THREADS = 2


def iter_folder_batches(folder: ImageFolder, size: int, batch_size: int = 64, num_workers: int | None = None,
                        batches: list[np.ndarray] | None = None, upscale: bool = True) -> Iterator[ImageBatch]:
    """Decode the images of ``folder`` in order, ``batch_size`` at a time, in worker processes (with no worker
    process, in :data:`DECODE_THREADS` background threads, which decode the next batches while the caller works on
    this one); ``batches`` (lists of image numbers) replaces the plain order, e.g. to read
    only the shards not yet done. ``upscale=False``: images smaller than ``size`` keep their side when a whole
    batch shares it (see :func:`load_image`)."""
    num_workers = default_num_workers() if num_workers is None else num_workers
    plan = batches if batches is not None else [np.arange(a, min(a + batch_size, len(folder)))
                                                for a in range(0, len(folder), batch_size)]
    dataset = _FolderDataset(folder, size, upscale)
    collate = functools.partial(_collate, size=size)
    if num_workers == 0:
        batches_out = _prefetched(lambda idx, pool: collate(list(pool.map(lambda i: dataset[int(i)], idx))), plan)
    else:
        from torch.utils.data import DataLoader

        batches_out = DataLoader(
            dataset,  # type: ignore[arg-type]  # map-style by __getitem__/__len__; no torch Dataset: torch loads here
            batch_sampler=[b.tolist() for b in plan], num_workers=num_workers, collate_fn=collate, prefetch_factor=4,
            persistent_workers=False)
    for batch in batches_out:
        for note in batch.notes:  # decoded in another thread or process: warned here, where the caller listens
            _warn_once(note)
        yield batch


def _prefetched(load, plan, depth: int = 2):
    """``load(item, decoders)`` for every item of ``plan``, in order, computed up to ``depth`` items ahead in one
    thread, which hands the work of each item to ``decoders`` (:data:`DECODE_THREADS` threads)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="deepclust-batch") as pool, \
            ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="deepclust-decode") as decoders:
        ahead = deque(pool.submit(load, item, decoders) for item in plan[:depth])
        for item in plan[depth:]:
            ahead.append(pool.submit(load, item, decoders))
            yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def iter_array_batches(X: np.ndarray, batch_size: int = 64,
                       batches: list[np.ndarray] | None = None) -> Iterator[ImageBatch]:
    """Batches over an in-memory (or memory-mapped) uint8 array ``(N, H, W[, C])``; ``batches`` as in
    :func:`iter_folder_batches` (each a run of consecutive image numbers)."""
    plan = batches if batches is not None else [np.arange(a, min(a + batch_size, len(X)))
                                                for a in range(0, len(X), batch_size)]
    for idx in plan:
        if len(idx):
            yield ImageBatch(np.asarray(idx, np.int64), np.asarray(X[idx[0]:idx[-1] + 1]), [])
