"""Feature extraction as tasks on a Dask distributed cluster: one task per shard of images.

Each worker builds its own copy of the extractor once (from :meth:`FeatureExtractor.recipe`) and keeps it for the
shards it is given; a task returns only the shard's features, which the client writes to the shard store as they
arrive. A task is pure (the same shard gives the same features), so when a worker dies Dask reruns its shards
elsewhere, and the store's atomic, start-keyed shard files mean nothing is lost or counted twice. Workers read
folder images by path: on a real cluster the folder must be on a file system that every worker mounts."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import numpy as np

from ._shards import FeatureShard, extract_shards

_LOCAL = re.compile(r"^local(?::(\d+))?$")
_WORKER_EXTRACTORS: dict = {}  # in a worker process: recipe → extractor


def connect_dask(address):
    """A ``distributed.Client`` for ``address``: ``"local:N"`` starts a LocalCluster of N single-threaded worker
    processes on this machine (N defaults to the number of cores), ``"tcp://HOST:PORT"`` (or any address the
    scheduler listens on) joins a running cluster. A Client is returned as it is."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError("--dask needs the 'distributed' package: pip install 'deepclust[dask]'") from exc
    if isinstance(address, Client):
        return address
    match = _LOCAL.match(str(address))
    if match:
        import os

        n = int(match.group(1) or os.cpu_count() or 1)
        if n < 1:
            raise ValueError(f"--dask local:N needs N >= 1, got {n}")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        # closed with the client by close_dask; a mark of ours, which Client does not declare
        client._deepclust_owns_cluster = cluster  # type: ignore[attr-defined]
        return client
    if "://" not in str(address):
        raise ValueError(f"not a Dask address: {address!r}; use local:N or tcp://HOST:PORT")
    try:
        return Client(str(address), timeout=30)
    except OSError as exc:
        raise ConnectionError(f"could not reach the Dask scheduler at {address}: {exc}") from exc


def close_dask(client) -> None:
    """Close a client made by :func:`connect_dask` (and the local cluster it started)."""
    cluster = getattr(client, "_deepclust_owns_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def extract_shards_on_dask(client, source, extractor, ranges, *, batch_size: int, augment=None,
                           advance=None) -> Iterator[FeatureShard]:
    """Yield the shards of ``ranges`` as the cluster finishes them (in any order)."""
    from distributed import as_completed

    recipe = extractor.recipe()
    job = uuid.uuid4().hex[:12]
    futures = [client.submit(_extract_shard_task, recipe, source.take(np.arange(a, b)), a, batch_size, augment,
                             key=f"deepclust-shard-{job}-{a}", pure=False, retries=2)
               for a, b in ranges]
    for future in as_completed(futures):
        shard = future.result()
        future.release()
        if advance is not None:
            advance(shard.n_items)
        yield shard


def _extract_shard_task(recipe: dict, part, offset: int, batch_size: int, augment) -> FeatureShard:
    """On a worker: the features of one shard (``part`` holds its images; ``offset`` is its first image's number)."""
    import torch

    from ._cache import default_cache_dir
    from ._extractor import create_extractor

    try:
        from distributed import get_worker

        torch.set_num_threads(max(1, int(get_worker().state.nthreads)))
    except (ImportError, ValueError, AttributeError):
        pass
    key = repr(sorted(recipe.items()))
    extractor = _WORKER_EXTRACTORS.get(key)
    if extractor is None:
        extractor = _WORKER_EXTRACTORS[key] = create_extractor(**recipe)
        extractor.select_runtime(len(part), default_cache_dir())
    (shard,) = extract_shards(part, extractor, [(0, len(part))], batch_size=batch_size, num_workers=0,
                              augment=augment, offset=offset)
    return shard
