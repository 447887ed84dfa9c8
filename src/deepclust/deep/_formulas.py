"""The papers' formulas as small pure functions (shapes in the docstrings), each unit-tested alone."""

from __future__ import annotations

from typing import Literal

import torch


def soft_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Student's t kernel between embeddings and centres (DEC, Xie et al. 2016, eq. 1).

    q_ij = (1 + ||z_i - mu_j||² / alpha)^(-(alpha + 1) / 2), normalised over j.

    z: (N, d), centers: (K, d) → q: (N, K), rows sum to 1.
    """
    dist2 = torch.cdist(z, centers).pow(2)
    q = (1.0 + dist2 / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's auxiliary target (eq. 3): p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), f_j = Σ_i q_ij.

    Squaring sharpens confident assignments; dividing by the cluster frequency f_j keeps large clusters from
    swallowing the rest. q: (N, K) → p: (N, K), rows sum to 1.
    """
    weight = q.pow(2) / q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_clustering_loss(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-10, *,
                       reduction: Literal["batchmean", "mean"] = "batchmean") -> torch.Tensor:
    """KL(P‖Q) = Σ_i Σ_j p_ij log(p_ij / q_ij) (DEC eq. 2). p, q: (B, K) → scalar.

    ``reduction``: "batchmean" sums over the K clusters and averages over the batch (DEC's and DEC-keras' loss);
    "mean" averages over all B × K elements, K times smaller (PyTorch's ``F.kl_div`` default, which DTC's code
    uses: its step sizes and its consistency weight are tuned against that scale)."""
    terms = p * (torch.log(p + eps) - torch.log(q + eps))
    if reduction == "mean":
        return terms.mean()
    if reduction != "batchmean":
        raise ValueError(f"reduction must be 'batchmean' or 'mean', got {reduction!r}")
    return terms.sum(dim=1).mean()


def kmeans_friendly_loss(z: torch.Tensor, centers: torch.Tensor, assignments: torch.Tensor) -> torch.Tensor:
    """DCN's clustering term (Yang et al. 2017, eq. 5 without λ/2): ||f(x_i) − M s_i||², batch mean.

    z: (B, d), centers: (K, d), assignments: (B,) long → scalar.
    """
    return (z - centers[assignments]).pow(2).sum(dim=1).mean()
