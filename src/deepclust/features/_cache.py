"""What the feature cache holds, and clearing it: the cache grows with every new folder, extractor and layer."""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path


def default_cache_dir() -> Path:
    """``$DEEPCLUST_CACHE`` or ``~/.cache/deepclust/features``."""
    return Path(os.environ.get("DEEPCLUST_CACHE", Path.home() / ".cache" / "deepclust" / "features"))


@dataclass(frozen=True)
class CacheEntry:
    """One cached feature matrix: ``KEY.npy`` and its ``KEY.json``."""

    key: str
    path: Path
    description: str
    n_images: int
    size_bytes: int
    last_used: _dt.datetime


def list_feature_cache(cache_dir=None) -> list[CacheEntry]:
    """The cache's entries, most recently used first."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    entries = []
    for npy in root.glob("*.npy") if root.is_dir() else []:
        meta_path = npy.with_suffix(".json")
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {}
        size = npy.stat().st_size + (meta_path.stat().st_size if meta_path.exists() else 0)
        used = _dt.datetime.fromtimestamp(max(npy.stat().st_atime, npy.stat().st_mtime))
        entries.append(CacheEntry(npy.stem, npy, meta.get("description", "(older entry: no description)"),
                                  len(meta.get("indices", [])), size, used))
    return sorted(entries, key=lambda e: e.last_used, reverse=True)


def find_cache_entry(key: str, cache_dir=None) -> CacheEntry:
    """The entry whose key is or starts with ``key`` (``deepclust cache list`` shows the first 12 characters);
    ``ValueError`` with one sentence for a key that names no entry or several."""
    key = str(key).strip().removesuffix(".npy")
    entries = list_feature_cache(cache_dir)
    found = [e for e in entries if key and e.key.startswith(key)]
    if len(found) == 1:
        return found[0]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if found:
        raise ValueError(f"{key!r} starts {len(found)} cache entries in {root} "
                       f"({', '.join(e.key[:12] for e in found)}); give more of the key")
    raise ValueError(f"no cache entry {key!r} in {root} ({len(entries)} entries; `deepclust cache list` shows their "
                   f"keys)")


def clear_feature_cache(cache_dir=None, key: str | None = None) -> int:
    """Remove every cached feature file (and half-written leftovers, and the shards of unfinished extractions),
    or with ``key`` only the entry it names (see :func:`find_cache_entry`); returns the number of entries removed."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if key is not None:
        entry = find_cache_entry(key, root)
        _remove(entry)
        shutil.rmtree(root / f"{entry.key}.parts", ignore_errors=True)
        return 1
    entries = list_feature_cache(root)
    for e in entries:
        _remove(e)
    for leftover in root.glob(".*.tmp") if root.is_dir() else []:
        leftover.unlink(missing_ok=True)
    for parts in root.glob("*.parts") if root.is_dir() else []:  # shards of extractions that never finished
        shutil.rmtree(parts, ignore_errors=True)
    return len(entries)


def _remove(entry: CacheEntry) -> None:
    entry.path.unlink(missing_ok=True)
    entry.path.with_suffix(".json").unlink(missing_ok=True)
