"""DCN: an autoencoder trained so that its embedding suits k-means, with alternating updates."""

from __future__ import annotations

import os
from typing import Literal

import torch
import torch.nn.functional as F

from ..formulas import kmeans_friendly_loss
from ..methods import register_method
from ._base import OUTPUTS, DeepClusteringBase, TrainingState, store_params
from ._networks import MLPAutoencoder


@register_method("dcn", inputs=("pixels", "features"), family="deep", paper="Yang et al., ICML 2017",
                 symbols={"kmeans_weight": "lambda"}, outputs=OUTPUTS)
class DCN(DeepClusteringBase):
    """Deep Clustering Network: minimise reconstruction + λ/2 · ||f(x) − M s||², alternating (1) a gradient step on
    the network with assignments s and centres M fixed, (2) each sample's assignment to its nearest centre, and
    (3) each centre as a running mean, M_k ← M_k − (1/c_k)(M_k − f(x_i)), with c_k the count of samples it has
    absorbed (started at ``initial_count``).

    Parameters
    ----------
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Widths of the encoder's hidden layers (the decoder mirrors them).
    embedding_dim : int, default=10
        Size of the embedding the clusters live in.
    kmeans_weight : float, default=0.05
        Weight λ of the k-means-friendly loss against the per-pixel mean reconstruction error. In the reference
        code the paper's MNIST 0.05 weighs the other term, the summed reconstruction error, with the clustering term
        at 1; λ/2 = 0.025 here gives about that 1 : 20 ratio only on 784-pixel images (0.025 × 784 ≈ 20).
    initial_count : float, default=100
        Count c_k each centre starts with in its running mean.

    The training parameters are those of the shared loop (:class:`~deepclust.deep.DeepClusteringBase`). Pretraining:
    Adam, lr 0.001, 200 epochs end to end (ours; the reference pretrains layer by layer, momentum SGD at lr 0.01 for
    50 epochs each). Clustering optimiser: Adam, lr 0.001. ``update_interval`` and ``tol`` are used for the stopping
    rule and the history, as in DEC.

    References
    ----------
    B. Yang, X. Fu, N. D. Sidiropoulos, M. Hong. Towards K-means-friendly Spaces: Simultaneous Deep Learning and
    Clustering. ICML 2017.
    """

    trainable_centers = False

    def __init__(self, n_clusters: int = 10, *, hidden_dims: tuple[int, ...] = (500, 500, 2000),
                 embedding_dim: int = 10, kmeans_weight: float = 0.05, initial_count: float = 100,
                 pretrain_epochs: int = 200, pretrain_lr: float = 1e-3,
                 pretrain_optimizer: Literal["auto", "sgd", "adam"] = "adam",
                 optimizer: Literal["sgd", "adam"] = "adam", learning_rate: float = 0.001, momentum: float = 0.9,
                 batch_size: int = 256, max_iter: int = 20000, update_interval: int | None = None, tol: float = 0.001,
                 n_init: int = 20, augment: bool = False, autoencoder: str | os.PathLike | None = None,
                 device: str = "auto", random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def _build_network(self, input_shape):
        return MLPAutoencoder((input_shape[0], *self.hidden_dims, self.embedding_dim))

    def _init_state(self, state: TrainingState) -> None:
        state.extra["counts"] = torch.full((self.n_clusters,), float(self.initial_count), device=state.X.device)
        state.targets = torch.as_tensor(state.labels, device=state.X.device)

    def _refresh(self, state: TrainingState, q) -> None:
        state.targets = q.argmax(1)  # nearest centre for every sample

    def _batch_loss(self, state: TrainingState, x, idx) -> dict:
        z, x_rec = state.net(x)
        loss_r = F.mse_loss(x_rec, x)
        assert state.targets is not None  # set by _init_state
        loss_c = kmeans_friendly_loss(z, state.centers, state.targets[idx])
        return {"loss": loss_r + self.kmeans_weight / 2 * loss_c, "loss_reconstruction": loss_r,
                "loss_clustering": loss_c}

    def _after_step(self, state: TrainingState, x, idx) -> None:
        with torch.no_grad():
            z = state.net.encode(x)
            s = torch.cdist(z, state.centers).argmin(1)
            assert state.targets is not None  # set by _init_state
            state.targets[idx] = s
            for k in torch.unique(s).tolist():
                members = z[s == k]
                c_old = state.extra["counts"][k]
                c_new = c_old + len(members)
                # the per-sample running-mean updates of the paper, summed in closed form over the batch
                state.centers[k] = (c_old * state.centers[k] + members.sum(0)) / c_new
                state.extra["counts"][k] = c_new



