"""The papers' formulas that more than one method uses, as small pure functions (shapes in the docstrings), each
unit-tested alone: DEC's Student's t assignment, sharpened target and KL loss (the DEC family, DTC), DCN's k-means
loss, SCAN's loss (SCAN, ``best``, adapt). A method module imports them from here and adds only what its paper
adds."""

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


def scan_loss(p_anchor: torch.Tensor, p_neighbor: torch.Tensor, entropy_weight: float):
    """SCAN's clustering loss per head (Van Gansbeke et al. 2020, eq. 2).

    p_anchor, p_neighbor : (B, H, K) softmax outputs of H heads for samples and one neighbour of each.
    Returns (consistency (H,), entropy (H,)); the loss minimised is ``consistency - entropy_weight * entropy``.
    """
    consistency = -torch.log((p_anchor * p_neighbor).sum(-1).clamp_min(1e-8)).mean(0)
    mean = p_anchor.mean(0)
    entropy = -(mean * torch.log(mean.clamp_min(1e-8))).sum(-1)
    return consistency, entropy
