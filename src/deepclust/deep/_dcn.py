"""DCN: an autoencoder trained so that its embedding suits k-means, with alternating updates."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import DeepClusteringBase, TrainingState, store_params
from ._formulas import kmeans_friendly_loss
from ._networks import MLPAutoencoder


class DCN(DeepClusteringBase):
    """Deep Clustering Network: minimise reconstruction + λ/2 · ||f(x) − M s||², alternating (1) a gradient step on
    the network with assignments s and centres M fixed, (2) each sample's assignment to its nearest centre, and
    (3) each centre as a running mean, M_k ← M_k − (1/c_k)(M_k − f(x_i)), with c_k the count of samples it has
    absorbed (started at ``initial_count``).

    Parameters are DEC's (without ``alpha``), plus ``lambda_`` (λ = 0.05, the paper's MNIST value) and
    ``initial_count``. Clustering optimiser: Adam, lr 0.001. ``update_interval`` and ``tol`` are used for the
    stopping rule and the history, as in DEC.

    References
    ----------
    B. Yang, X. Fu, N. D. Sidiropoulos, M. Hong. Towards K-means-friendly Spaces: Simultaneous Deep Learning and
    Clustering. ICML 2017.
    """

    trainable_centers = False

    def __init__(self, n_clusters=10, *, hidden_dims=(500, 500, 2000), embedding_dim=10, lambda_=0.05,
                 initial_count=100, pretrain_epochs=200, pretrain_lr=1e-3, optimizer="adam", learning_rate=0.001,
                 momentum=0.9, batch_size=256, maxiter=20000, update_interval=140, tol=0.001, n_init=20,
                 augment=False, autoencoder=None, device="auto", random_state=None, verbose=False):
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
        loss_c = kmeans_friendly_loss(z, state.centers, state.targets[idx])
        return {"loss": loss_r + self.lambda_ / 2 * loss_c, "loss_reconstruction": loss_r, "loss_clustering": loss_c}

    def _after_step(self, state: TrainingState, x, idx) -> None:
        with torch.no_grad():
            z = state.net.encode(x)
            s = torch.cdist(z, state.centers).argmin(1)
            state.targets[idx] = s
            for k in torch.unique(s).tolist():
                members = z[s == k]
                c_old = state.extra["counts"][k]
                c_new = c_old + len(members)
                # the per-sample running-mean updates of the paper, summed in closed form over the batch
                state.centers[k] = (c_old * state.centers[k] + members.sum(0)) / c_new
                state.extra["counts"][k] = c_new



