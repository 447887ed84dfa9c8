"""DEC and its descendants: IDEC = DEC + reconstruction loss; DCEC = IDEC on a convolutional autoencoder;
GAPDCEC = DCEC with global average pooling on the last conv layer."""

from __future__ import annotations

import torch.nn.functional as F

from ._base import DeepClusteringBase, TrainingState, store_params
from ._formulas import kl_clustering_loss, soft_assignment, target_distribution
from ._networks import ConvAutoencoder, MLPAutoencoder


class DEC(DeepClusteringBase):
    """Deep Embedded Clustering.

    A stacked autoencoder d-500-500-2000-10 is pretrained on reconstruction; k-means in its embedding initialises
    the centres; then the encoder and centres minimise KL(P‖Q) between the Student's t soft assignment Q and the
    sharpened target P, refreshed every ``update_interval`` iterations, until fewer than ``tol`` of the labels
    change between refreshes.

    Parameters
    ----------
    n_clusters : int, default=10
    hidden_dims : tuple, default=(500, 500, 2000)
    embedding_dim : int, default=10
    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel.
    pretrain_epochs : int, default=200
        Autoencoder pretraining epochs (Adam, lr ``pretrain_lr``), as the Keras reference; the paper pretrains
        layer-wise. Reduce it on a CPU and say so.
    pretrain_lr : float, default=1e-3
    optimizer : {"sgd", "adam"}, default="sgd"
    learning_rate : float, default=0.01
    momentum : float, default=0.9
        SGD with lr 0.01 and momentum 0.9 in the clustering stage, as the paper.
    batch_size : int, default=256
    maxiter : int, default=20000
    update_interval : int, default=140
    tol : float, default=0.001
        Stop when fewer than this fraction of labels changed since the last target refresh (0.1 %).
    n_init : int, default=20
        k-means restarts for the initial centres.
    augment : bool, default=False
        DEC-DA (Guo et al. 2018): every training batch, in pretraining and in clustering, is shifted by up to 10 %
        of the side and rotated by up to 10° at random; the targets still come from the clean images. Needs images
        (N, H, W[, C]). Off by default, as the paper of each method.
    autoencoder : path or None
        A pretrained autoencoder saved by ``save_autoencoder`` (skips pretraining).
    device : {"auto", "cpu", "cuda"}
    random_state : int or None
    verbose : bool

    Attributes
    ----------
    labels_, cluster_centers_ (in the embedding), n_iter_, history_ (per refresh: iteration, delta_label, loss parts,
    n_empty, largest_share, collapsed, and ACC/NMI/ARI when ``y`` was given to fit), pretrain_history_,
    autoencoder_, pretrained_autoencoder_.

    References
    ----------
    J. Xie, R. Girshick, A. Farhadi. Unsupervised Deep Embedding for Clustering Analysis. ICML 2016.
    X. Guo, E. Zhu, X. Liu, J. Yin. Deep Embedded Clustering with Data Augmentation. ACML 2018 (``augment``).

    Examples
    --------
    >>> from deepclust.deep import DEC
    >>> model = DEC(10, pretrain_epochs=50, random_state=0)  # doctest: +SKIP
    >>> labels = model.fit_predict(X)  # doctest: +SKIP
    """

    def __init__(self, n_clusters=10, *, hidden_dims=(500, 500, 2000), embedding_dim=10, alpha=1.0,
                 pretrain_epochs=200, pretrain_lr=1e-3, optimizer="sgd", learning_rate=0.01, momentum=0.9,
                 batch_size=256, maxiter=20000, update_interval=140, tol=0.001, n_init=20, augment=False,
                 autoencoder=None, device="auto", random_state=None, verbose=False):
        store_params(self, locals())

    def _build_network(self, input_shape):
        return MLPAutoencoder((input_shape[0], *self.hidden_dims, self.embedding_dim))

    def _refresh(self, state: TrainingState, q) -> None:
        state.targets = target_distribution(q)

    def _clustering_loss(self, state: TrainingState, z, idx):
        return kl_clustering_loss(state.targets[idx], soft_assignment(z, state.centers, self.alpha))

    def _batch_loss(self, state: TrainingState, x, idx) -> dict:
        loss_c = self._clustering_loss(state, state.net.encode(x), idx)
        return {"loss": loss_c, "loss_clustering": loss_c}


class IDEC(DEC):
    """Improved DEC: DEC that keeps the decoder and minimises L_r + γ·L_c, so the embedding keeps the local
    structure of the data (γ = 0.1; Adam, lr 0.001, as the reference code for MNIST).

    Parameters are DEC's plus ``gamma`` (weight of the clustering loss).

    References
    ----------
    X. Guo, L. Gao, X. Liu, J. Yin. Improved Deep Embedded Clustering with Local Structure Preservation. IJCAI 2017.
    """

    def __init__(self, n_clusters=10, *, hidden_dims=(500, 500, 2000), embedding_dim=10, alpha=1.0, gamma=0.1,
                 pretrain_epochs=200, pretrain_lr=1e-3, optimizer="adam", learning_rate=0.001, momentum=0.9,
                 batch_size=256, maxiter=20000, update_interval=140, tol=0.001, n_init=20, augment=False,
                 autoencoder=None, device="auto", random_state=None, verbose=False):
        store_params(self, locals())

    def _batch_loss(self, state: TrainingState, x, idx) -> dict:
        z, x_rec = state.net(x)
        loss_r = F.mse_loss(x_rec, x)
        loss_c = self._clustering_loss(state, z, idx)
        return {"loss": loss_r + self.gamma * loss_c, "loss_reconstruction": loss_r, "loss_clustering": loss_c}


class DCEC(IDEC):
    """Deep Convolutional Embedded Clustering: IDEC's loss on a convolutional autoencoder
    conv(32,5×5,s2) → conv(64,5×5,s2) → conv(128,3×3,s2) → flatten → dense(10), mirrored decoder.

    Parameters are IDEC's, with ``filters`` (default (32, 64, 128)) in place of ``hidden_dims``. Input: images
    (N, H, W[, C]).

    References
    ----------
    X. Guo, X. Liu, E. Zhu, J. Yin. Deep Clustering with Convolutional Autoencoders. ICONIP 2017.
    """

    network = "conv"
    global_pool = False

    def __init__(self, n_clusters=10, *, filters=(32, 64, 128), embedding_dim=10, alpha=1.0, gamma=0.1,
                 pretrain_epochs=200, pretrain_lr=1e-3, optimizer="adam", learning_rate=0.001, momentum=0.9,
                 batch_size=256, maxiter=20000, update_interval=140, tol=0.001, n_init=20, augment=False,
                 autoencoder=None, device="auto", random_state=None, verbose=False):
        store_params(self, locals())

    def _build_network(self, input_shape):
        return ConvAutoencoder(input_shape, tuple(self.filters), self.embedding_dim, global_pool=self.global_pool)


class GAPDCEC(DCEC):
    """DCEC with global average pooling over the last convolutional feature maps instead of flattening, then the
    10-unit embedding: far fewer weights in the embedding layer and features that do not depend on position.
    Same losses; SGD with lr 0.01 and momentum 0.9, update interval 140, tol 0.1 %.

    References
    ----------
    M. Kolla, T. VenuGopal. Global Average Pooling based Deep Convolutional Embedded Clustering (GAPDCEC), 2018.
    """

    global_pool = True

    def __init__(self, n_clusters=10, *, filters=(32, 64, 128), embedding_dim=10, alpha=1.0, gamma=0.1,
                 pretrain_epochs=200, pretrain_lr=1e-3, optimizer="sgd", learning_rate=0.01, momentum=0.9,
                 batch_size=256, maxiter=20000, update_interval=140, tol=0.001, n_init=20, augment=False,
                 autoencoder=None, device="auto", random_state=None, verbose=False):
        store_params(self, locals())
