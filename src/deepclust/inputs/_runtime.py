"""How the work runs, never what it computes: the device, batches, decoding processes, the extractor's runtime, the
feature cache, a Dask cluster and progress bars, declared once and taken by every entry point that reads images."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from ..features import RUNTIMES, close_dask, connect_dask
from ._setting import DEEP, setting


@dataclass
class Runtime:
    """How images are read and features extracted. Its settings change the time and memory a job takes, not its
    results, so run.json does not record them as input settings. ``dask`` is the cluster as given (an address, or a
    ``distributed.Client``); the client a job uses is :attr:`client`, kept apart: opened by :meth:`connected` for
    the job's length and closed after it when it opened it."""

    device: str = setting("auto", help="auto, cpu or cuda.", group="runtime")
    batch_size: int = setting(64, help="Images per batch when reading and extracting.", group="runtime", min=1)
    num_workers: int | None = setting(help="Image decoding processes (default: spare cores).", group="runtime",
                                      flag="--workers", min=0)
    # the values are RUNTIMES (typing flattens the tuple; mypy takes only literals)
    runtime: Literal[RUNTIMES] = setting(  # type: ignore[valid-type]
        "auto", help="features and views inputs: how the extractor runs: auto (ONNX Runtime on CPU when the job pays "
                     "for its export: ~700 images at 224 px, ~12,000 at 64 px), torch or onnx.", kinds=DEEP,
        group="runtime")
    dask: object = setting(
        help="features and views inputs: extract on a Dask cluster: local:N (N worker processes here) or "
             "tcp://HOST:PORT.",
        kinds=DEEP, group="runtime", cli_type=str,
        doc="Python: also a ``distributed.Client``; the clustering runs here.")
    cache_dir: str | os.PathLike | None = setting(
        help="features and views inputs: the feature cache folder (default: see `deepclust cache`).", kinds=DEEP,
        group="runtime")
    use_cache: bool = setting(True, help="features and views inputs: reuse and store features in the cache.",
                              kinds=DEEP, group="runtime", flag="--cache")
    verbose: bool = setting(True, help="Progress bars.", group="runtime", flag=None,
                            doc="The command line's --quiet turns them off.")
    #: The Dask client of the job in progress (see :meth:`connected`); None outside it or without ``dask``.
    client: object = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if int(self.batch_size) < 1:
            raise ValueError(f"the batch size must be at least 1, got {self.batch_size}")

    @contextmanager
    def connected(self) -> Iterator[Runtime]:
        """The job's length: :attr:`client` is the Dask client of ``dask`` (connected here, and closed after, when
        ``dask`` is an address), None without ``dask``."""
        client = connect_dask(self.dask) if self.dask is not None else None
        self.client = client
        try:
            yield self
        finally:
            self.client = None
            if client is not None and client is not self.dask:
                close_dask(client)

    def extraction(self) -> dict:
        """The keywords of :func:`~deepclust.features.extract_features` these settings give."""
        return dict(batch_size=self.batch_size, cache_dir=self.cache_dir, use_cache=self.use_cache,
                    num_workers=self.num_workers, verbose=self.verbose, dask=self.client)
