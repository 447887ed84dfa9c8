"""Features in shards: the unit of resuming an interrupted extraction and of distributing it.

A source of N images is cut into shards of consecutive images. While an extraction runs, every finished shard is
written to ``CACHE/KEY.parts/`` as a plain ``.npy`` file (its features) and a ``.json`` file (which of its images
could not be read), each by an atomic rename, so a run that is killed resumes from the last complete shard and a
shard is never half-written or counted twice. When every shard is there they are streamed into one memory-mapped
``KEY.npy`` and the parts are removed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._atomic import atomic_path, write_json

#: Images per shard: ~20 MB of EfficientNet-Lite0 features, a few seconds of work on 2 cores.
SHARD_SIZE = 4096


def shard_ranges(n: int, shard_size: int = SHARD_SIZE) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in shards of ``shard_size`` images."""
    if int(shard_size) < 1:
        raise ValueError(f"the shard size must be at least 1, got {shard_size}")
    return [(a, min(a + int(shard_size), n)) for a in range(0, n, int(shard_size))]


@dataclass
class FeatureShard:
    """The features of images ``start..stop-1``: ``features[i]`` is image ``start + i`` (zeros where it failed)."""

    start: int
    stop: int
    features: np.ndarray
    ok: np.ndarray
    failed: list[tuple[int, str]] = field(default_factory=list)  # (image number, reason)

    @property
    def n_items(self) -> int:
        return self.stop - self.start


def extract_shards(source, extractor, ranges, *, batch_size: int, num_workers=None, augment=None, offset: int = 0,
                   advance=None) -> Iterator[FeatureShard]:
    """Yield one :class:`FeatureShard` per ``(start, stop)`` of ``ranges``, in order, decoding all of them through one
    reader (one set of decoding processes for the whole job). ``offset``: the number of ``source``'s first image in
    the whole data set (a worker's slice), which the augmentation and the shard numbers are counted from.
    ``advance(n)`` is called after every batch."""
    plan = [np.arange(a + i, min(a + i + batch_size, b)) for a, b in ranges for i in range(0, b - a, batch_size)]
    batches = source.batches(extractor.input_size, batch_size, plan, num_workers, upscale=False)
    pending = iter(ranges)
    shard = None
    for batch in batches:
        if shard is None:
            a, b = next(pending)
            shard = FeatureShard(a + offset, b + offset, np.zeros((b - a, extractor.n_features), np.float32),
                                 np.zeros(b - a, bool))
            seen = 0
        local = batch.indices - (shard.start - offset)
        if len(local):
            images = batch.images if augment is None else augment(batch.images, batch.indices + offset)
            shard.features[local] = extractor(images)
            shard.ok[local] = True
        shard.failed += [(int(i) + offset, reason) for i, reason in batch.failed]
        seen += batch.n_items
        if advance is not None:
            advance(batch.n_items)
        if seen == shard.n_items:
            yield shard
            shard = None


class ShardStore:
    """The finished shards of one extraction under ``CACHE/KEY.parts/`` (see the module's docstring)."""

    def __init__(self, cache_dir, key: str, n_images: int, n_features: int, shard_size: int):
        self.root = Path(cache_dir) / f"{key}.parts"
        self.layout = {"n_images": int(n_images), "n_features": int(n_features), "shard_size": int(shard_size)}
        layout_file = self.root / "layout.json"
        if layout_file.exists():
            try:
                same = json.loads(layout_file.read_text()) == self.layout
            except ValueError:
                same = False
            if not same:  # parts of another cut of the same images: start over rather than mix them
                shutil.rmtree(self.root)
        if not layout_file.exists():
            write_json(layout_file, self.layout)

    def _stem(self, start: int) -> Path:
        return self.root / f"shard_{start:012d}"

    def done(self) -> set[int]:
        """The start of every complete shard (its ``.json`` is written last)."""
        return {int(p.stem.removeprefix("shard_")) for p in self.root.glob("shard_*.json")
                if p.with_suffix(".npy").exists()}

    def write(self, shard: FeatureShard) -> None:
        stem = self._stem(shard.start)
        with atomic_path(stem.with_suffix(".npy")) as tmp, open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(shard.features, np.float32))
        write_json(stem.with_suffix(".json"), {"start": shard.start, "stop": shard.stop,
                                               "ok": np.flatnonzero(shard.ok).tolist(), "failed": shard.failed})

    def read(self, start: int) -> FeatureShard:
        stem = self._stem(start)
        meta = json.loads(stem.with_suffix(".json").read_text())
        features = np.load(stem.with_suffix(".npy"), mmap_mode="r")
        ok = np.zeros(meta["stop"] - meta["start"], bool)
        ok[np.asarray(meta["ok"], np.int64)] = True
        return FeatureShard(meta["start"], meta["stop"], features, ok, [tuple(f) for f in meta["failed"]])

    def assemble(self, target: Path, ranges) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """Stream the shards, in order, into one memory-mapped ``target`` (all N rows); returns the numbers of the
        images that have features, and the failures."""
        ok, failed = [], []
        with atomic_path(target) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                            shape=(self.layout["n_images"], self.layout["n_features"]))
            for a, b in ranges:
                shard = self.read(a)
                out[a:b] = shard.features
                ok.append(np.flatnonzero(shard.ok) + a)
                failed += shard.failed
            out.flush()
            del out
        return (np.concatenate(ok) if ok else np.zeros(0, np.int64)), failed

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
