"""Choosing k without labels: the prediction strength decides; silhouette and eigengap are recorded as votes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from deepclust import _progress, cluster_images, load_dataset
from deepclust.cluster import FeatureClustering, KSelection, prediction_strength, select_n_clusters


@pytest.mark.parametrize("k", [3, 5, 20])
def test_planted_blobs_through_the_default_reduction(k):
    """Well-separated planted blobs (64-d, through L2 + PCA + UMAP as every run) give k within ±1. 750 points, not
    1,500 (half the time): both sizes gave exactly k for k = 3, 5, 20 on draws k, k + 100, k + 200."""
    X, _ = make_blobs(750, n_features=64, centers=k, cluster_std=1.0, random_state=k)
    model = FeatureClustering(None, random_state=0).fit(X)
    assert abs(model.n_clusters_ - k) <= 1, model.k_selection_.to_dict()["curve"]
    assert set(model.k_selection_.votes) == {"prediction strength", "silhouette", "eigengap"}


def test_digits_features_give_about_ten_not_two(tmp_path):
    """On the 8×8 digits' CNN features the silhouette alone says 2; the chosen k is within 8–12, with the curves and
    a runner-up recorded."""
    X, y = load_dataset("digits")
    run = cluster_images(X, labels_true=y, verbose=False, cache_dir=tmp_path)
    sel = run.k_selection
    assert 8 <= sel["k"] <= 12, sel["curve"]
    assert sel["votes"]["silhouette"] == 2  # what the old chooser said: the reason for the change
    assert sel["runner_up"] is not None and set(sel["curves"]) == {"prediction strength", "silhouette", "eigengap"}
    assert run.metrics["acc"] > 0.7


def test_prediction_strength_is_high_for_the_true_k_only():
    """Two clear blobs: k = 2 is fully reproducible, k = 5 is not."""
    X, _ = make_blobs(600, centers=2, n_features=4, cluster_std=0.5, random_state=0)

    def make(k):
        return KMeans(k, n_init=3, random_state=0)

    assert prediction_strength(X, 2, make) > 0.95 > prediction_strength(X, 5, make)


def test_uniform_noise_gets_no_large_k():
    """No structure: halving a square is reproducible, more clusters are not, so k stays at 2 or 3, never k_max."""
    X = np.random.RandomState(0).uniform(size=(400, 2))
    sel = select_n_clusters(X, lambda k: KMeans(k, n_init=3, random_state=0), k_max=8)
    assert sel.k <= 3 and max(sel.scores[2:]) < 0.8


def test_votes_far_apart_or_no_supported_k_make_a_caveat():
    """Votes of 4, 13 and 18 (320 photos of 8 kinds of things) give a caveat naming the other candidates; votes
    within a factor of two give none; no supported k says so in the caveat too."""
    sel = KSelection(4, [2, 3, 4], [0.9, 0.85, 0.82],
                     votes={"prediction strength": 4, "silhouette": 13, "eigengap": 18})
    assert "silhouette 13, eigengap 18" in sel.caveat and "-k 13 or -k 18" in sel.caveat
    assert sel.to_dict()["caveat"] == sel.caveat
    assert KSelection(9, [9], [0.9], votes={"prediction strength": 9, "silhouette": 10, "eigengap": 12}).caveat == ""
    assert "no k reached" in KSelection(3, [3], [0.5], note="no k reached prediction strength 0.8.").caveat


def test_the_k_search_gives_a_line_per_interval_in_a_log(monkeypatch, capsys):
    """Under a pipe the reduction says what it does and the k search says how far it got, k by k."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_progress, "PLAIN_EVERY_S", 0.0)
    X, _ = make_blobs(300, n_features=8, centers=3, random_state=0)
    FeatureClustering(None, k_max=5, umap_components=None, verbose=True, random_state=0).fit(X)
    err = capsys.readouterr().err
    assert "reducing 300 feature vectors: L2" in err
    assert "choosing k from 2 to 5: 1/4 (25%)" in err and "choosing k from 2 to 5: finished at 4/4" in err


def test_options_that_only_choose_k_are_refused_with_k_and_k_max_beyond_the_images(tmp_path):
    """-k 3 with --k-min 5 or --k-max 12 does nothing the user asked: refused in one sentence; --k-max 30 on 20
    images is more clusters than images: refused, with the most a sample of 20 can test (5)."""
    from typer.testing import CliRunner

    from deepclust.cli import app

    common = ["--dataset", "digits", "--quiet", "--map", "none", "--cache-dir", str(tmp_path / "c")]
    for extra in (["-k", "3", "--k-min", "5"], ["-k", "3", "--k-max", "12"]):
        result = CliRunner().invoke(app, ["cluster", *common, *extra, "--out", str(tmp_path / "x")])
        text = " ".join(result.output.split())
        assert result.exit_code == 2 and "only the choice of k" in text and "Traceback" not in text, text
    result = CliRunner().invoke(app, ["cluster", *common, "--limit", "20", "--k-max", "30", "--out",
                                      str(tmp_path / "y")])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "--k-max=30 is more clusters than the 20 samples: give at most 5" in text, text
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_a_few_images_without_k_choose_within_what_they_can_test():
    """16 images and no k: the default k_max (20) is lowered to what 16 can test (4), silently, never refused."""
    X, _ = make_blobs(16, n_features=8, centers=2, random_state=0)
    model = FeatureClustering(None, umap_components=None, random_state=0).fit(X)
    assert 2 <= model.n_clusters_ <= 4 and max(model.k_selection_.ks) == 4
