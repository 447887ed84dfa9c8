"""The papers' formulas, each alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepclust.formulas import kl_clustering_loss, kmeans_friendly_loss, soft_assignment, target_distribution


def test_soft_assignment_matches_hand_computation():
    """q rows sum to 1 and equal the Student's t kernel computed by hand (alpha = 1 and 2)."""
    z = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    mu = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    q = soft_assignment(z, mu, alpha=1.0)
    assert torch.allclose(q.sum(1), torch.ones(2))
    k = torch.tensor([1 / (1 + 0.0), 1 / (1 + 25.0)])
    assert torch.allclose(q[0], k / k.sum())
    q2 = soft_assignment(z, mu, alpha=2.0)
    k2 = torch.tensor([(1 + 5 / 2) ** -1.5, (1 + 8 / 2) ** -1.5])
    assert torch.allclose(q2[1], k2 / k2.sum())


def test_target_distribution_sharpens_and_normalises():
    """p puts more mass than q on each row's largest entry, rows sum to 1, and a uniform q stays uniform."""
    q = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.55, 0.45]])
    p = target_distribution(q)
    assert torch.allclose(p.sum(1), torch.ones(3))
    assert (p.max(1).values > q.max(1).values).all()
    u = torch.full((4, 3), 1 / 3)
    assert torch.allclose(target_distribution(u), u)


def test_kl_loss_is_zero_at_target_and_has_finite_gradient():
    """KL(P‖Q) is 0 when Q = P, positive otherwise, and its gradient is finite even with zeros in P."""
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    assert kl_clustering_loss(p, p.clone()).item() < 1e-6
    z = torch.randn(2, 3, requires_grad=True)
    mu = torch.randn(2, 3)
    loss = kl_clustering_loss(p, soft_assignment(z, mu))
    loss.backward()
    assert loss.item() > 0 and torch.isfinite(z.grad).all()


def test_kl_loss_reductions_by_hand():
    """DEC's batch mean sums each row's terms; DTC's (F.kl_div's default) averages all B × K terms: K times less."""
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    q = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
    rows = [0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75), 1.0 * np.log(1.0 / 0.5)]
    assert kl_clustering_loss(p, q).item() == pytest.approx(np.mean(rows), rel=1e-5)
    assert kl_clustering_loss(p, q, reduction="mean").item() == pytest.approx(np.sum(rows) / 4, rel=1e-5)
    reference = torch.nn.functional.kl_div(q.log(), p)  # DTC's call: log-probabilities of Q, then P
    assert kl_clustering_loss(p, q, reduction="mean").item() == pytest.approx(reference.item(), rel=1e-5)
    with pytest.raises(ValueError, match="reduction"):
        kl_clustering_loss(p, q, reduction="sum")


def test_kmeans_friendly_loss_by_hand():
    """||z − M s||² averaged over the batch."""
    z = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    mu = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    s = torch.tensor([0, 1])
    assert kmeans_friendly_loss(z, mu, s).item() == (2.0 + 1.0) / 2
