"""Stream the images of a folder: recursive, sorted, uint8, bad files set aside with a reason."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
#: The file that marks a deepclust run folder; the reader never descends into one (its figures are not input).
RUN_MARKER = "run.json"


@dataclass(frozen=True)
class SkippedFile:
    """A file (or folder) that got no cluster, and why."""

    path: str
    reason: str


@dataclass
class ImageFolder:
    """The image files found under ``root`` (paths relative to it, sorted) and what was set aside while scanning."""

    root: Path
    paths: list[str]
    skipped: list[SkippedFile] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def fingerprint(self) -> list[tuple[str, int, int]]:
        """``(path, size, mtime_ns)`` per file: what the feature cache is keyed on."""
        out = []
        for rel in self.paths:
            st = (self.root / rel).stat()
            out.append((rel, st.st_size, st.st_mtime_ns))
        return out

    def labels_from_subfolders(self) -> np.ndarray | None:
        """The first folder of each path as its label, or None when some image lies directly in ``root``."""
        parts = [Path(p).parts for p in self.paths]
        if not parts or any(len(p) < 2 for p in parts):
            return None
        return np.array([p[0] for p in parts])


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
    marker = Path(path) / RUN_MARKER
    try:
        with marker.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return b'"deepclust_version"' in head


def load_image(path: str | os.PathLike, size: int | None = None, upscale: bool = True) -> np.ndarray:
    """Decode one image to uint8 RGB ``(H, W, 3)``; with ``size``, centre-cropped and resized to ``size × size``
    (with ``upscale=False`` a square smaller than ``size`` keeps its own side: the extractor resizes whole batches
    itself, as it does for arrays, at a fraction of the cost of one resize per image).

    EXIF orientation is applied; palette, grayscale, CMYK and 16-bit images are converted, and transparency is
    composited on white. Raises ``OSError``/``ValueError`` for files that cannot be decoded.
    """
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        if size is not None:
            im.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster for big photos
        im = ImageOps.exif_transpose(im)
        im = _to_rgb(im)
        if size is not None:
            side = size if upscale else min(size, *im.size)
            im = ImageOps.fit(im, (side, side), Image.Resampling.BILINEAR)
        arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.size == 0:
        raise ValueError(f"decoded to an unexpected shape {arr.shape}")
    return arr


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
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")


@dataclass
class ImageBatch:
    """A batch of decoded images: ``images[i]`` is image number ``indices[i]``; ``failed`` lists the rest."""

    indices: np.ndarray
    images: np.ndarray
    failed: list[tuple[int, str]]

    @property
    def n_items(self) -> int:
        return len(self.indices) + len(self.failed)


class _FolderDataset:
    """Map-style dataset: one decoded image or the reason it could not be decoded (never raises)."""

    def __init__(self, folder: ImageFolder, size: int, upscale: bool = True):
        self.folder, self.size, self.upscale = folder, size, upscale

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, i: int):
        try:
            return i, load_image(self.folder.root / self.folder.paths[i], self.size, self.upscale), None
        except Exception as exc:  # a bad file must never stop a run: record it and go on
            return i, None, f"{type(exc).__name__}: {exc}"


def _collate(items, size: int | None = None) -> ImageBatch:
    """One batch; squares of different sides (kept small by ``upscale=False``) are brought to ``size`` first."""
    ok = [(i, img) for i, img, _ in items if img is not None]
    failed = [(i, reason) for i, img, reason in items if img is None]
    if size is not None and len({img.shape for _, img in ok}) > 1:
        from PIL import Image

        ok = [(i, img if img.shape[0] == size else np.asarray(Image.fromarray(img).resize(
            (size, size), Image.Resampling.BILINEAR))) for i, img in ok]
    images = np.stack([img for _, img in ok]) if ok else np.zeros((0, 0, 0, 3), np.uint8)
    return ImageBatch(np.array([i for i, _ in ok], dtype=np.int64), images, failed)


def default_num_workers() -> int:
    """Decoding processes: none on 1–2 cores (measured: a worker there takes the model's CPU and gains nothing),
    else one per core beyond two, at most 4, so decoding overlaps the forward pass."""
    return max(0, min(4, (os.cpu_count() or 1) - 2))


def iter_folder_batches(folder: ImageFolder, size: int, batch_size: int = 64, num_workers: int | None = None,
                        batches: list[np.ndarray] | None = None, upscale: bool = True) -> Iterator[ImageBatch]:
    """Decode the images of ``folder`` in order, ``batch_size`` at a time, in worker processes (with no worker
    process, in one background thread, which decodes the next batches while the caller works on this one: Pillow
    releases the GIL while it decodes); ``batches`` (lists of image numbers) replaces the plain order, e.g. to read
    only the shards not yet done. ``upscale=False``: images smaller than ``size`` keep their side when a whole
    batch shares it (see :func:`load_image`)."""
    num_workers = default_num_workers() if num_workers is None else num_workers
    plan = batches if batches is not None else [np.arange(a, min(a + batch_size, len(folder)))
                                                for a in range(0, len(folder), batch_size)]
    dataset = _FolderDataset(folder, size, upscale)
    collate = functools.partial(_collate, size=size)
    if num_workers == 0:
        yield from _prefetched(lambda idx: collate([dataset[int(i)] for i in idx]), plan)
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_sampler=[b.tolist() for b in plan], num_workers=num_workers,
                        collate_fn=collate, prefetch_factor=4, persistent_workers=False)
    yield from loader


def _prefetched(load, plan, depth: int = 2):
    """``load(item)`` for every item of ``plan``, in order, computed up to ``depth`` items ahead in one thread."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="deepclust-decode") as pool:
        ahead = deque(pool.submit(load, item) for item in plan[:depth])
        for item in plan[depth:]:
            ahead.append(pool.submit(load, item))
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
