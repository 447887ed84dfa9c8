"""Batched feature extraction with a progress bar and an on-disk cache (memory-mapped ``.npy``)."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._atomic import write_json
from .._progress import progress_bar
from ..datasets import SkippedFile, as_source
from ._cache import default_cache_dir
from ._extractor import FeatureExtractor
from ._shards import SHARD_SIZE, FeatureShard, ShardStore, extract_shards, shard_ranges

CACHE_VERSION = 2  # 2: the runtime (PyTorch or ONNX Runtime) is part of the key


@dataclass
class ExtractedFeatures:
    """Features of the images that could be read (``features[i]`` belongs to image ``indices[i]``)."""

    features: np.ndarray
    indices: np.ndarray
    failed: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0
    from_cache: bool = False
    cache_path: Path | None = None
    runtime: str | None = None  # "torch" or "onnx" (None: read from an older cache entry)
    n_extracted: int | None = None  # images extracted by this call (fewer than all when it resumed)

    @property
    def images_per_second(self) -> float:
        n = self.n_extracted if self.n_extracted is not None else len(self.indices) + len(self.failed)
        return n / self.seconds if self.seconds > 0 else float("nan")


def cache_key(source, extractor: FeatureExtractor, augment=None) -> str:
    """Hash of what determines the features: the files (path, size, mtime) or array bytes, the extractor, and the
    augmented copy (if any)."""
    h = hashlib.sha256()
    as_source(source).hash_into(h)
    h.update(json.dumps([CACHE_VERSION, extractor.spec.name, extractor.layer, extractor.weights_id,
                         extractor.input_size, extractor.active_runtime]).encode())
    if augment is not None:
        h.update(augment.key.encode())
    return h.hexdigest()[:32]


def transform_name(augment) -> str:
    """How progress bars and the cache listing name the transform given as ``augment``: its ``description`` (object
    focus), else its augmented copy's number."""
    return getattr(augment, "description", None) or f"augmented copy {augment.copy + 1}"


def extract_features(source, extractor: FeatureExtractor, *, batch_size: int = 64, cache_dir=None,
                     use_cache: bool = True, num_workers: int | None = None, augment=None,
                     verbose: bool = True, shard_size: int = SHARD_SIZE, dask=None) -> ExtractedFeatures:
    """Features for every readable image of ``source`` (an :class:`ImageFolder` or a uint8 array ``(N, H, W[, C])``).

    Images are decoded and processed ``batch_size`` at a time, so memory holds one batch of images plus the
    features. With ``use_cache``, results are stored under ``cache_dir`` and a second call returns them at once;
    they are written shard by shard (``shard_size`` images), so an interrupted extraction resumes from its last
    complete shard. ``augment`` (an :class:`ImageAugmentation`, an :class:`ObjectFocus`, or any callable
    ``(images, indices) -> images`` with a ``key`` for the cache) extracts the features of the transformed images
    instead. ``dask`` (a ``distributed.Client``: :func:`connect_dask` makes one from an address) extracts the shards
    as tasks on a Dask cluster, each worker with its own copy of the extractor; only features travel back.
    """
    source = as_source(source)
    n = len(source)
    if n == 0:
        raise ValueError("no images to extract features from")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    runtime = extractor.select_runtime(n, cache_dir)
    key = cache_key(source, extractor, augment) if use_cache else None
    if key is not None:
        hit = _read_cache(cache_dir, key)
        if hit is not None:
            return hit
    ranges = shard_ranges(n, shard_size)
    store = ShardStore(cache_dir, key, n, extractor.n_features, shard_size) if key is not None else None
    done = store.done() if store is not None else set()
    pending = [r for r in ranges if r[0] not in done]
    resumed = n - sum(b - a for a, b in pending)
    if resumed and verbose:
        print(f"resuming the extraction: {len(ranges) - len(pending)} of {len(ranges)} shards "
              f"({resumed} images) are already in the cache", file=sys.stderr)
    desc = (f"features ({extractor.spec.name}/{extractor.layer}, {extractor.input_size}px, {runtime}"
            f"{f', {transform_name(augment)}' if augment is not None else ''}"
            f"{', on Dask' if dask is not None else ''})")
    start = time.perf_counter()
    kept: list[FeatureShard] = []
    with progress_bar(total=n, description=desc, verbose=verbose, completed=resumed) as advance:
        if dask is not None:
            from ._distributed import extract_shards_on_dask

            shards = extract_shards_on_dask(dask, source, extractor, pending, batch_size=batch_size,
                                            augment=augment, advance=advance)
        else:
            shards = extract_shards(source, extractor, pending, batch_size=batch_size, num_workers=num_workers,
                                    augment=augment, advance=advance)
        for shard in shards:
            if store is not None:
                store.write(shard)
            else:
                kept.append(shard)
    seconds = time.perf_counter() - start
    paths = source.paths

    def skipped(failures):
        return [SkippedFile(paths[i], reason) for i, reason in failures]

    if store is None:
        kept.sort(key=lambda s: s.start)
        features = np.concatenate([s.features[s.ok] for s in kept])
        indices = np.concatenate([np.flatnonzero(s.ok) + s.start for s in kept])
        result = ExtractedFeatures(features, indices, skipped([f for s in kept for f in s.failed]), seconds)
        result.runtime, result.n_extracted = runtime, n
        return result
    indices, failures = store.assemble(cache_dir / f"{key}.npy", ranges)
    what = f"{len(source)} images of {source.name}"
    description = (f"{extractor.spec.name}/{extractor.layer} at {extractor.input_size}px ({runtime}), {what}"
                   f"{f', {transform_name(augment)}' if augment is not None else ''}")
    write_json(cache_dir / f"{key}.json", {"description": description, "indices": indices.tolist(),
                                           "seconds": seconds, "runtime": runtime,
                                           "failed": [[f.path, f.reason] for f in skipped(failures)]})
    store.remove()
    assert key is not None  # a store is kept under a cache key
    written = _read_cache(cache_dir, key)
    assert written is not None, f"the feature cache entry {key} just written could not be read back"
    written.from_cache, written.seconds = False, seconds
    written.runtime, written.n_extracted = runtime, n - resumed
    return written


def _read_cache(cache_dir: Path, key: str) -> ExtractedFeatures | None:
    meta_path, npy = cache_dir / f"{key}.json", cache_dir / f"{key}.npy"
    if not (meta_path.exists() and npy.exists()):
        return None
    meta = json.loads(meta_path.read_text())
    indices = np.asarray(meta["indices"], dtype=np.int64)
    all_rows = np.load(npy, mmap_mode="r")
    feats = all_rows if len(indices) == len(all_rows) else all_rows[indices]
    return ExtractedFeatures(feats, indices, [SkippedFile(p, r) for p, r in meta["failed"]], 0.0, True, npy,
                             meta.get("runtime"))
