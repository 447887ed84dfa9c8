"""Feature extraction on a Dask LocalCluster (worker processes on loopback): the same features and labels as in one
process, and a worker killed mid-run loses nothing and counts nothing twice."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

pytest.importorskip("distributed")

from deepclust import cluster_images  # noqa: E402
from deepclust.datasets import scan_folder  # noqa: E402
from deepclust.features import close_dask, connect_dask, create_extractor, extract_features  # noqa: E402
from deepclust.features._shards import ShardStore  # noqa: E402


@pytest.fixture(scope="module")
def client():
    c = connect_dask("local:2")
    yield c
    close_dask(c)


def test_dask_gives_the_labels_of_one_process(client, shapes_folder, tmp_path):
    """A folder clustered with its features extracted on two workers gets the labels (and, to float precision, the
    features) of the single-process run with the same seed."""
    here = cluster_images(shapes_folder, n_clusters=3, input_size=64, use_cache=False, num_workers=0,
                          labels_true="subfolders", verbose=False)
    there = cluster_images(shapes_folder, n_clusters=3, input_size=64, cache_dir=tmp_path, labels_true="subfolders",
                           verbose=False, dask=client)
    assert there.extraction["on_dask"] and not here.extraction["on_dask"]
    np.testing.assert_array_equal(there.labels, here.labels)
    assert there.paths == here.paths and sorted(f.path for f in there.skipped) == sorted(f.path for f in here.skipped)
    assert there.metrics["acc"] >= 0.9  # the three shapes, found again
    mine = extract_features(scan_folder(shapes_folder), create_extractor(input_size=64, device="cpu"),
                            use_cache=False, num_workers=0, verbose=False)
    # the workers' features as they wrote them to the cache in the run above (not a second run on Dask)
    theirs = extract_features(scan_folder(shapes_folder), create_extractor(input_size=64, device="cpu"),
                              cache_dir=tmp_path, verbose=False)
    assert theirs.from_cache
    np.testing.assert_array_equal(theirs.indices, mine.indices)
    np.testing.assert_allclose(np.asarray(theirs.features), mine.features, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_counts_nothing_twice(client, tmp_path, monkeypatch):
    """SIGKILL one worker while it holds shards: Dask reruns them elsewhere; every shard is written exactly once and
    the features equal the single-process ones."""
    X = np.random.RandomState(0).randint(0, 256, (480, 28, 28), dtype=np.uint8)
    # 64 px, not 128: a quarter of the compute; the kill still comes before the victim writes its first shard
    extractor = create_extractor("efficientnet_lite0", device="cpu", input_size=64, runtime="torch")
    writes: list[int] = []
    original = ShardStore.write
    monkeypatch.setattr(ShardStore, "write", lambda self, shard: (writes.append(shard.start), original(self, shard)))
    result = {}
    job = threading.Thread(target=lambda: result.update(out=extract_features(
        X, extractor, batch_size=16, shard_size=32, cache_dir=tmp_path, verbose=False, dask=client)))
    pids = client.run(os.getpid)
    job.start()
    victim = None
    deadline = time.time() + 120
    while victim is None and time.time() < deadline:
        busy = [w for w, tasks in client.processing().items() if tasks]
        victim = busy[0] if busy else None
        time.sleep(0.05)
    assert victim is not None, "no worker ever held a shard"
    os.kill(pids[victim], signal.SIGKILL)
    job.join(timeout=300)
    assert not job.is_alive()
    got = result["out"]
    assert sorted(writes) == list(range(0, 480, 32))  # each of the 15 shards once
    single = extract_features(X, extractor, batch_size=16, use_cache=False, verbose=False)
    np.testing.assert_array_equal(got.indices, np.arange(480))
    np.testing.assert_allclose(np.asarray(got.features), single.features, rtol=1e-4, atol=1e-5)


def test_bad_dask_addresses_are_one_line_errors():
    with pytest.raises(ValueError, match="not a Dask address"):
        connect_dask("my-cluster")
    with pytest.raises(ValueError, match="N >= 1"):
        connect_dask("local:0")
