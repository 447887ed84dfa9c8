"""Batched feature extraction with a progress bar and an on-disk cache (memory-mapped ``.npy``)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._atomic import atomic_path, write_json
from .._progress import track
from ..datasets import ImageFolder, SkippedFile, iter_array_batches, iter_folder_batches
from ._extractor import FeatureExtractor

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """``$DEEPCLUST_CACHE`` or ``~/.cache/deepclust/features``."""
    return Path(os.environ.get("DEEPCLUST_CACHE", Path.home() / ".cache" / "deepclust" / "features"))


@dataclass
class ExtractedFeatures:
    """Features of the images that could be read (``features[i]`` belongs to image ``indices[i]``)."""

    features: np.ndarray
    indices: np.ndarray
    failed: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0
    from_cache: bool = False
    cache_path: Path | None = None

    @property
    def images_per_second(self) -> float:
        n = len(self.indices) + len(self.failed)
        return n / self.seconds if self.seconds > 0 else float("nan")


def cache_key(source, extractor: FeatureExtractor, augment=None) -> str:
    """Hash of what determines the features: the files (path, size, mtime) or array bytes, the extractor, and the
    augmented copy (if any)."""
    h = hashlib.sha256()
    if isinstance(source, ImageFolder):
        h.update(json.dumps([str(source.root.resolve()), source.fingerprint()]).encode())
    else:
        arr = np.ascontiguousarray(source)
        h.update(f"{arr.shape}{arr.dtype}".encode())
        h.update(memoryview(arr).cast("B"))
    h.update(json.dumps([CACHE_VERSION, extractor.spec.name, extractor.layer, extractor.weights_id,
                         extractor.input_size]).encode())
    if augment is not None:
        h.update(augment.key.encode())
    return h.hexdigest()[:32]


def extract_features(source, extractor: FeatureExtractor, *, batch_size: int = 64, cache_dir=None,
                     use_cache: bool = True, num_workers: int | None = None, augment=None,
                     verbose: bool = True) -> ExtractedFeatures:
    """Features for every readable image of ``source`` (an :class:`ImageFolder` or a uint8 array ``(N, H, W[, C])``).

    Images are decoded and processed ``batch_size`` at a time, so memory holds one batch of images plus the
    features. With ``use_cache``, results are stored under ``cache_dir`` and a second call returns them at once.
    ``augment`` (an :class:`ImageAugmentation`) extracts the features of an augmented copy of the images instead.
    """
    n = len(source)
    if n == 0:
        raise ValueError("no images to extract features from")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = cache_key(source, extractor, augment) if use_cache else None
    if key is not None:
        hit = _read_cache(cache_dir, key)
        if hit is not None:
            return hit
    is_folder = isinstance(source, ImageFolder)
    batches = (iter_folder_batches(source, extractor.input_size, batch_size, num_workers) if is_folder
               else iter_array_batches(source, batch_size))
    start = time.perf_counter()
    ok = np.zeros(n, dtype=bool)
    failed: list[SkippedFile] = []
    target = cache_dir / f"{key}.npy" if key is not None else None
    with (atomic_path(target) if target is not None else nullcontext()) as tmp:
        out = (np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, extractor.n_features))
               if tmp is not None else np.zeros((n, extractor.n_features), np.float32))
        desc = (f"features ({extractor.spec.name}/{extractor.layer}, {extractor.input_size}px"
                f"{f', augmented copy {augment.copy + 1}' if augment is not None else ''})")
        for batch in track(batches, total=n, description=desc, verbose=verbose):
            if len(batch.indices):
                images = augment(batch.images, batch.indices) if augment is not None else batch.images
                out[batch.indices] = extractor(images)
                ok[batch.indices] = True
            paths = source.paths if is_folder else None
            failed += [SkippedFile(paths[i] if paths else str(i), reason) for i, reason in batch.failed]
        if tmp is not None:
            out.flush()
            del out
    seconds = time.perf_counter() - start
    indices = np.flatnonzero(ok)
    if target is None:
        return ExtractedFeatures(out[indices], indices, failed, seconds)
    what = f"{len(source)} images of {source.root}" if is_folder else f"array {tuple(np.shape(source))}"
    description = (f"{extractor.spec.name}/{extractor.layer} at {extractor.input_size}px, {what}"
                   f"{f', augmented copy {augment.copy + 1}' if augment is not None else ''}")
    write_json(cache_dir / f"{key}.json", {"description": description, "indices": indices.tolist(),
                                           "seconds": seconds,
                                           "failed": [[f.path, f.reason] for f in failed]})
    result = _read_cache(cache_dir, key)
    result.from_cache, result.seconds = False, seconds
    return result


def _read_cache(cache_dir: Path, key: str) -> ExtractedFeatures | None:
    meta_path, npy = cache_dir / f"{key}.json", cache_dir / f"{key}.npy"
    if not (meta_path.exists() and npy.exists()):
        return None
    meta = json.loads(meta_path.read_text())
    indices = np.asarray(meta["indices"], dtype=np.int64)
    all_rows = np.load(npy, mmap_mode="r")
    feats = all_rows if len(indices) == len(all_rows) else all_rows[indices]
    return ExtractedFeatures(feats, indices, [SkippedFile(p, r) for p, r in meta["failed"]], 0.0, True, npy)
