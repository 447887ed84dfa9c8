"""The training toolbox (``deepclust._training``): seeding, one epoch with the NaN guard, batch embedding, History."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from deepclust._training import History, embed_batches, run_epoch, seeded


def test_seeded_is_reproducible_and_restores_the_global_state():
    """The same random_state gives the same seed and draws; torch's global RNG is as it was after the block."""
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    with seeded(7) as a:
        first = (torch.rand(3), torch.rand(3, generator=a.generator))
    assert torch.equal(torch.random.get_rng_state(), before)
    with seeded(7) as b:
        second = (torch.rand(3), torch.rand(3, generator=b.generator))
    assert a.seed == b.seed and all(torch.equal(x, y) for x, y in zip(first, second))
    rs = np.random.RandomState(0)
    with seeded(rs):
        pass
    assert rs.randint(10**6) != np.random.RandomState(0).randint(10**6)  # a RandomState is advanced by the draw


def test_run_epoch_steps_averages_skips_and_guards():
    """Every batch is one step; None skips a batch; the mean loss (weighted by size on request); NaN is an error."""
    w = torch.nn.Parameter(torch.tensor(1.0))
    opt = torch.optim.SGD([w], lr=0.1)
    batches = [torch.ones(2), torch.ones(1), torch.ones(4)]
    mean = run_epoch(batches, lambda b: None if len(b) == 1 else (w * b).sum(), [opt], who="test")
    assert mean == pytest.approx((2.0 + 4 * 0.8) / 2)
    assert w.item() == pytest.approx(1.0 - 0.1 * 2 - 0.1 * 4)
    sized = run_epoch([torch.ones(1), torch.ones(3)], lambda b: 0 * w + len(b), [], who="test", weight_by_size=True)
    assert sized == pytest.approx((1 * 1 + 3 * 3) / 4)
    with pytest.raises(FloatingPointError, match="test: the loss became nan in epoch 3; lower learning_rate"):
        run_epoch([torch.ones(1)], lambda b: (w * float("nan")).sum(), [opt], who="test", where="in epoch 3")


def test_embed_batches_runs_in_eval_mode_and_restores_the_mode():
    """Outputs of all rows in order, on the CPU, no gradient, computed in evaluation mode (dropout off); the
    module's own mode is restored after (a training loop that embeds goes on training)."""
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.5))
    X = torch.randn(10, 3)
    out = embed_batches(net, X, batch_size=4)
    assert out.shape == (10, 2) and not out.requires_grad and net.training
    assert torch.allclose(out, net.eval()(X))
    embed_batches(net, X)
    assert not net.training


def test_embed_batches_in_train_mode_normalises_each_batch_by_its_own_statistics():
    """With train_mode, batch-norm uses each batch's statistics (JULE's merge steps in its loop) and its running
    statistics move; the eval mode the module was in is restored."""
    net = torch.nn.BatchNorm1d(2).eval()
    X = torch.randn(8, 2) * 3 + 5
    out = embed_batches(net, X, batch_size=4, train_mode=True)
    for half in (out[:4], out[4:]):
        assert torch.allclose(half.mean(0), torch.zeros(2), atol=1e-5)
    assert not net.training and not torch.allclose(net.running_mean, torch.zeros(2))


def test_history_knows_its_axis_and_logs_scores():
    """log appends a row under the x-axis; log_scores adds ACC/NMI/ARI only when labels are given; score stores
    one partition's scores as a dict under its name."""
    h = History("epoch", "loss")
    h.log(1, loss=0.5)
    h.log_scores(None, [0, 1])
    h.log_scores([0, 0, 1, 1], [1, 1, 0, 0])
    assert h.x == "epoch" and h == {"epoch": [1], "loss": [0.5], "acc": [1.0], "nmi": [1.0], "ari": [1.0]}
    h.score("start", None, [0, 1])
    h.score("start", [0, 0, 1, 1], [0, 1, 1, 1])
    assert set(h["start"]) == {"acc", "nmi", "ari"} and h["start"]["acc"] == 0.75


def test_cpu_threads_leave_the_cores_other_work_uses(monkeypatch):
    """Torch's threads follow the free cores inside the block (never more than it had), and are restored after; a
    CUDA fit is left alone."""
    import deepclust._device as device

    assert 1 <= device.free_cpu_cores(0.05) <= (os.cpu_count() or 1)
    before = torch.get_num_threads()
    monkeypatch.setattr(device, "free_cpu_cores", lambda sample_s=0.3: 1)
    with device.cpu_threads("cpu") as n:
        assert n == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before
    monkeypatch.setattr(device, "free_cpu_cores", lambda sample_s=0.3: before + 8)
    with device.cpu_threads("cpu") as n:
        assert n == before == torch.get_num_threads()
    with device.cpu_threads("cuda") as n:
        assert n == before
