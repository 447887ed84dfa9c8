"""JULE's own parts (the agglomeration on blobs, the triplets, the batches; the graph degree linkage itself is
checked in tests/cluster/test_gdl.py), and the method on real digits: it must beat k-means on the pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepclust.cluster._gdl import agglomerate, initial_clusters, sample_affinity
from deepclust.deep import JULE
from deepclust.deep._jule import JULENet, batch_triplets, cluster_batches, weighted_triplet_loss


def test_agglomerate_finds_blobs_and_triplets_pair_the_right_samples():
    from sklearn.datasets import make_blobs

    from deepclust.metrics import clustering_accuracy_score

    Z, y = make_blobs(300, centers=4, n_features=5, cluster_std=0.6, random_state=0)
    W = sample_affinity(Z, K_s=10)
    start = initial_clusters(W)
    labels = agglomerate(W, start, Z=Z, n_clusters=4)
    assert len(np.unique(labels)) == 4 and clustering_accuracy_score(y, labels) > 0.95
    # two far outliers have no reciprocal edge to anyone: they join the nearest blob instead of staying clusters
    Zo = np.r_[Z, [[40.0] * 5, [40.5] * 5]]
    Wo = sample_affinity(Zo, K_s=10)
    labels = agglomerate(Wo, initial_clusters(Wo), Z=Zo, n_clusters=4)
    assert len(np.unique(labels)) == 4 and np.bincount(labels).min() > 50
    # JULE.torch absorbs such orphans only while more than 20 × k clusters remain: below, the pair stays apart
    kept = agglomerate(Wo, initial_clusters(Wo), Z=Zo, n_clusters=5, orphan_limit=20)
    assert np.bincount(kept).min() == 2 and kept[-1] == kept[-2]
    joined = agglomerate(Wo, initial_clusters(Wo), Z=Zo, n_clusters=5, orphan_limit=0)
    assert np.bincount(joined)[joined[-1]] > 2

    lab = np.array([0, 0, 0, 1, 1, 2])
    a, p, n = batch_triplets(lab, n_negatives=2, gen=torch.Generator().manual_seed(0))
    assert (lab[a] == lab[p]).all() and (a != p).all() and (lab[a] != lab[n]).all()
    assert len(a) == (6 + 2) * 2  # ordered same-cluster pairs, two negatives each
    batches = cluster_batches(np.repeat(np.arange(30), 4), 20, np.random.RandomState(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(120))
    first = np.repeat(np.arange(30), 4)[batches[0]]
    assert len(np.unique(first)) <= 6  # whole clusters, not 20 strangers
    anchor = torch.tensor([[0.0, 0.0]])
    loss = weighted_triplet_loss(anchor, torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), gamma=2.0,
                                 margin=0.2)
    assert float(loss) == pytest.approx(2 * 1 - 1 + 0.2)


def test_training_follows_the_reference_settings():
    """JULE.torch's train.lua: SGD lr 0.01, momentum 0.9 dampened by 0.9 (Torch's optim.sgd default: the velocity
    is a moving average of the gradients), weight decay 5e-5, the "inv" lr policy; γ = 1; random batches; and the
    merge steps inside the loop embed with batch-norm's batch statistics."""
    model = JULE()
    assert (model.gamma, model.batches, model.orphan_limit, model.labels_from) == (1.0, "random", 20.0, "final")
    net = torch.nn.Linear(1, 1, bias=False)
    opt, schedule = model._optimizer(net)
    assert {k: opt.defaults[k] for k in ("lr", "momentum", "dampening", "weight_decay")} == {
        "lr": 0.01, "momentum": 0.9, "dampening": 0.9, "weight_decay": 5e-5}
    net.weight.data.fill_(0.0)
    velocity = expected = 0.0
    for step, grad in enumerate([1.0, 1.0, -2.0]):  # Torch: v ← 0.9 v + 0.1 g after a first raw step
        net.weight.grad = torch.tensor([[grad]])
        opt.param_groups[0]["weight_decay"] = 0.0
        opt.step()
        lr = 0.01 * (1 + 1e-4 * step) ** -0.75
        velocity = grad if step == 0 else 0.9 * velocity + 0.1 * grad
        expected -= lr * velocity
        assert float(net.weight) == pytest.approx(expected, rel=1e-5)
        schedule.step()
    x = torch.rand(30, 1, 16, 16) * 5 + 3  # far from batch-norm's initial running statistics
    jnet = JULENet(1, (16, 16), 8)
    assert not np.allclose(model._embed(jnet, x, train_mode=True), model._embed(jnet, x))


@pytest.fixture(scope="module")
def mnist_1000(mnist_5k):
    from deepclust.datasets import subset_indices

    X, y = mnist_5k
    rows, _ = subset_indices(len(X), 1000, y, random_state=0)  # 100 of each digit
    return X[rows], y[rows]


# Measured (seed 0, 1,000 digits, one thread): NMI 0.802 with 5 CNN epochs per period, 0.749 for the same
# agglomeration without the CNN (epochs_per_period=0), 0.494 for k-means on the pixels. The CNN's part is what the
# test guards: a JULE whose training stopped helping (as before the fidelity work) falls to the agglomeration's.
MARGIN = 0.03


@pytest.mark.slow
def test_jule_beats_its_own_agglomeration_without_the_cnn(mnist_1000):
    """1,000 MNIST digits, 5 CNN epochs per period (the CPU test budget): the clusters beat the same recurrent
    agglomeration on the raw pixels without CNN training by a margin, every period is logged, predict agrees with
    the labels on most images."""
    from deepclust.metrics import nmi_score

    X, y = mnist_1000
    baseline = nmi_score(y, JULE(10, epochs_per_period=0, random_state=0, device="cpu").fit(X).labels_)
    model = JULE(10, epochs_per_period=5, random_state=0, device="cpu").fit(X, y)
    nmi = nmi_score(y, model.labels_)
    assert nmi > baseline + MARGIN, f"JULE NMI {nmi:.3f} vs its agglomeration without the CNN {baseline:.3f}"
    h = model.history_
    assert h["period"][0] == 0 and h["clusters_after"][-1] == 10 == len(np.unique(model.labels_))
    assert h["clusters_before"][1:] == h["clusters_after"][:-1] and len(h["nmi"]) == len(h["period"])
    assert (model.predict(X) == model.labels_).mean() > 0.8
    assert model.transform(X[:3]).shape == (3, 160)


def test_same_seed_same_labels_and_bad_input(mnist_1000):
    X, _ = mnist_1000
    state = torch.random.get_rng_state()
    fast = dict(epochs_per_period=1, device="cpu")
    a = JULE(5, random_state=3, **fast).fit(X[:200]).labels_
    b = JULE(5, random_state=3, **fast).fit(X[:200]).labels_
    np.testing.assert_array_equal(a, b)
    c = JULE(5, random_state=3, batches="random", **fast).fit(X[:200]).labels_  # the reference's random batches
    np.testing.assert_array_equal(c, JULE(5, random_state=3, batches="random", **fast).fit(X[:200]).labels_)
    assert torch.equal(state, torch.random.get_rng_state())
    with pytest.raises(ValueError, match="batches must be"):
        JULE(3, batches="mixed", **fast).fit(X[:100])
    with pytest.raises(ValueError, match="images"):
        JULE(3, **fast).fit(X[:100].reshape(100, -1))
    with pytest.raises(ValueError, match="exceeds the number of images"):
        JULE(300, **fast).fit(X[:100])
    with pytest.raises(ValueError, match="eta must be"):
        JULE(3, eta=0, **fast).fit(X[:100])


def test_auto_labels_are_the_partition_with_the_higher_silhouette(mnist_1000, monkeypatch):
    """labels_from="auto" takes the final pass or the recurrent partition, whichever has the higher silhouette on
    the trained network's features (on Fashion-MNIST the final pass put 41-60 % of the images in one cluster and
    lost to the recurrent one); the final pass on a tie; an undefined silhouette (one cluster) counts as the worst;
    the history says which partition the labels are and keeps both silhouettes."""
    from deepclust.deep import _jule
    from deepclust.metrics import internal_scores

    X, _ = mnist_1000
    fast = dict(epochs_per_period=1, device="cpu", random_state=0)
    model = JULE(5, labels_from="auto", **fast).fit(X[:200])
    final, recurrent = model.final_labels_, model.recurrent_labels_
    assert not np.array_equal(final, recurrent)
    for key, labels in (("final_pass", final), ("recurrent", recurrent)):
        assert model.history_[key]["silhouette"] == pytest.approx(
            internal_scores(model.embedding_, labels)["silhouette"])

    def fit_with_silhouettes(of_final, of_recurrent, **params):
        def scores(Z, labels, **kwargs):
            return {"silhouette": of_final if np.array_equal(labels, final) else of_recurrent}

        monkeypatch.setattr(_jule, "internal_scores", scores)
        return JULE(5, **{"labels_from": "auto", **fast, **params}).fit(X[:200])

    cases = [(0.2, 0.1, final), (0.1, 0.2, recurrent), (0.1, 0.1, final), (float("nan"), -0.5, recurrent),
             (0.0, float("nan"), final), (float("nan"), float("nan"), final)]
    for of_final, of_recurrent, expected in cases:
        chosen = fit_with_silhouettes(of_final, of_recurrent)
        np.testing.assert_array_equal(chosen.labels_, expected)
        assert chosen.history_["labels_from"] == ("final" if expected is final else "recurrent")
    forced = fit_with_silhouettes(0.1, 0.2, labels_from="final")
    assert forced.history_["labels_from"] == "final"
    np.testing.assert_array_equal(forced.labels_, final)


def test_jule_from_the_command_line(tmp_path):
    """`deepclust cluster --method jule` with its options writes a run folder with the per-period curves."""
    import json

    from typer.testing import CliRunner

    from deepclust.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["cluster", "--dataset", "mnist-5k", "--limit", "300", "-k", "5", "--method",
                                      "jule", "--epochs-per-period", "1", "--K-s", "10", "--out", str(out), "--quiet",
                                      "--map", "none"])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["parameters"]["method"] == "jule" and info["parameters"]["graph_neighbors"] == 10
    history = json.loads((out / "training.json").read_text())["clustering"]
    assert history["period"][0] == 0 and history["clusters_after"][-1] == 5
    assert (out / "figures/training.png").stat().st_size > 5000
