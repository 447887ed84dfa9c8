"""One training loop for the DEC family. A method supplies hooks: build the network, the optimiser, refresh the
targets every ``update_interval`` iterations, the loss of a batch, and (DCN) an update after each step."""

from __future__ import annotations

import warnings
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from .._device import resolve_device
from .._progress import track
from .._training import History, embed_batches, empty_and_largest, run_epoch, seeded, train_step
from ..formulas import soft_assignment
from ..methods import N_CLUSTERS, NON_NEGATIVE, POSITIVE, POSITIVE_INT, Interval, check_params
from ._augment import batch_augmenter

if TYPE_CHECKING:
    import torch

    from ._networks import ConvAutoencoder, MLPAutoencoder

ENCODE_BATCH = 2048


@dataclass
class TrainingState:
    """What the loop carries between iterations (never stored on the estimator's parameters)."""

    X: torch.Tensor
    net: MLPAutoencoder | ConvAutoencoder
    centers: torch.Tensor
    labels: np.ndarray
    targets: torch.Tensor | None = None  # set by _refresh (DCN: _init_state) before the first batch
    extra: dict = field(default_factory=dict)


#: What every method of the DEC family offers a run (see ``deepclust.methods.OUTPUTS``).
OUTPUTS = ("cluster_centers_", "probabilities_", "history_", "pretrain_history_", "run_details_")


class DeepClusteringBase(ClusterMixin, TransformerMixin, BaseEstimator):
    """The loop shared by the DEC family; the methods (:class:`~deepclust.deep.DEC` and its kin) add the network and
    the clustering loss.

    Parameters
    ----------
    pretrain_epochs : int or None
        Autoencoder pretraining epochs, always end to end (DEC's paper and DCN's code pretrain layer-wise); None: the
        chosen optimiser's (:func:`pretraining_recipe`). Reduce it on a CPU and say so.
    pretrain_optimizer : {"auto", "sgd", "adam"}
        Optimiser of the pretraining (SGD with momentum ``momentum``, or Adam); "auto" guesses from the data what
        DEC-keras picks by data-set name (:func:`pretraining_recipe`).
    pretrain_lr : float or None
        Its learning rate; None: the chosen optimiser's.
    optimizer : {"sgd", "adam"}
        Optimiser of the clustering stage (default: the method's paper's or reference code's; GAPDCEC: DCEC's Adam,
        see its docstring).
    learning_rate : float
        Learning rate of the clustering stage (default: as ``optimizer``).
    momentum : float, default=0.9
        SGD's momentum, in the clustering stage and in an SGD pretraining.
    batch_size : int, default=256
        Samples per step, in pretraining and clustering.
    max_iter : int, default=20000
        Clustering iterations at most.
    update_interval : int or None, default=None
        Iterations between refreshes of the target distribution; None: our rule by the data's size, 30 up to
        10,000 samples, 140 above (:func:`default_update_interval`; no reference code sets it by size).
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
        Where the network trains ("auto": CUDA when present).
    random_state : int or None
        Same value, same labels.
    verbose : bool
        Progress bars.

    Subclasses set ``network`` ("mlp" or "conv"), ``trainable_centers`` and implement ``_build_network``,
    ``_refresh`` and ``_batch_loss`` (and optionally ``_after_step``).
    """

    network = "mlp"
    trainable_centers = True

    # --- hooks -------------------------------------------------------------------------------------------------
    def _build_network(self, input_shape):
        raise NotImplementedError

    def _refresh(self, state: TrainingState, q) -> None:
        """Called every ``update_interval`` iterations with the soft assignment ``q`` (N, K) of all data."""
        raise NotImplementedError

    def _batch_loss(self, state: TrainingState, x, idx) -> dict:
        """Loss parts of one batch; the key ``"loss"`` is what is minimised."""
        raise NotImplementedError

    def _after_step(self, state: TrainingState, x, idx) -> None:
        """After each optimiser step (DCN updates assignments and centres here)."""

    # --- data ----------------------------------------------------------------------------------------------------
    def _prepare(self, X, *, fit: bool = False):
        """Checked input as a float tensor: uint8 images are scaled to [0, 1]; MLP methods flatten images; conv
        methods take images (N, H, W[, C]), and a 2-D matrix (N, D) as N one-row images (1-D signals)."""
        import torch

        X = check_array(X, dtype="numeric", allow_nd=True, ensure_min_samples=2 if fit else 1)
        shape = tuple(int(d) for d in X.shape[1:])
        if fit:
            self.input_shape_, self.n_features_in_ = shape, int(np.prod(shape))
        elif int(np.prod(shape)) != self.n_features_in_ or (self.network == "conv" and shape != self.input_shape_):
            raise ValueError(f"X has {int(np.prod(shape))} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input (samples of shape {shape} given, "
                             f"{self.input_shape_} fitted)")
        Xf = X.astype(np.float32) / 255.0 if X.dtype == np.uint8 else X.astype(np.float32)
        if self.network == "conv":
            if Xf.ndim == 2:
                Xf = Xf[:, None, :]
            if Xf.ndim == 3:
                Xf = Xf[:, :, :, None]
            Xf = Xf.transpose(0, 3, 1, 2)
        else:
            Xf = Xf.reshape(len(Xf), -1)
        return torch.from_numpy(np.ascontiguousarray(Xf))

    def _augmenter(self, X, gen):
        """DEC-DA's random shifts and rotations for the training batches, or None when ``augment`` is off."""
        if not self.augment:
            return None
        shape = np.shape(X)
        if len(shape) not in (3, 4):
            raise ValueError(f"augment=True shifts and rotates images: give images (N, H, W[, C]), not a feature "
                             f"matrix {shape}")
        if min(shape[1], shape[2]) < 16:
            warnings.warn(f"augment=True on {shape[1]}×{shape[2]} images: a 10° turn and a 10 % shift are coarse at "
                          f"this size and made the clusters worse on the 8×8 digits", RuntimeWarning, stacklevel=3)
        channels = 1 if len(shape) == 3 else shape[3]
        return batch_augmenter(gen, None if self.network == "conv" else (shape[1], shape[2], channels))

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": N_CLUSTERS, "batch_size": POSITIVE_INT, "max_iter": POSITIVE_INT,
        "update_interval": Interval(int, 1, none=True), "pretrain_epochs": Interval(int, 0, none=True),
        "tol": NON_NEGATIVE, "learning_rate": POSITIVE, "pretrain_lr": Interval(float, 0, closed="neither", none=True)}

    # --- the loop ------------------------------------------------------------------------------------------------
    def _check_params(self):
        check_params(self)

    def fit(self, X, y=None):
        """Pretrain (or load) the autoencoder, initialise centres with k-means, then train the clustering.

        ``y`` is optional and used only to log ACC/NMI/ARI in ``history_`` (never for training).
        """
        self._check_params()
        X_t = self._prepare(X, fit=True)
        if len(X_t) < self.n_clusters:
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of samples ({len(X_t)})")
        device = resolve_device(self.device)
        with seeded(self.random_state, device) as rng:
            X_t = X_t.to(device)
            augment = self._augmenter(X, rng.generator)
            net = self._load_or_pretrain(X_t, rng.generator, device, augment)
            self._fit_clustering(X_t, y, net, rng.generator, rng.seed, augment)
        recipe = self.pretraining_
        self.run_details_ = {"update_interval": self.update_interval_, **({
            "pretrain_optimizer": recipe["optimizer"], "pretrain_lr": recipe["lr"],
            "pretrain_epochs": recipe["epochs"]} if recipe else {})}  # run.json: the values used, not the None given
        return self

    def _load_or_pretrain(self, X, gen, device, augment=None):
        import torch

        net = self._build_network(tuple(X.shape[1:]))
        if self.autoencoder is not None:
            saved = torch.load(self.autoencoder, map_location="cpu", weights_only=True)
            if saved.get("config") != net.config:
                raise ValueError(f"the autoencoder in {self.autoencoder} is {saved.get('config')}, "
                                 f"but {type(self).__name__} here needs {net.config}")
            net.load_state_dict(saved["state_dict"])
            self.pretraining_ = None  # loaded, not pretrained here
            self.pretrain_history_ = saved.get("history", [])
            net = net.to(device)
        else:
            net = net.to(device)
            self.pretraining_ = pretraining_recipe(self.pretrain_optimizer, self.pretrain_lr, self.pretrain_epochs, X)
            self.pretrain_history_ = pretrain_autoencoder(
                net, X, batch_size=self.batch_size, gen=gen, momentum=self.momentum, augment=augment,
                verbose=self.verbose, **self.pretraining_)
        weights = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        self.pretrained_autoencoder_ = {"config": net.config, "history": self.pretrain_history_, "state_dict": weights}
        return net

    def _fit_clustering(self, X, y, net, gen, seed, augment=None):
        import torch
        from sklearn.cluster import KMeans

        z = encode(net, X)
        km = KMeans(self.n_clusters, n_init=self.n_init, random_state=seed).fit(z.cpu().numpy())
        centers = torch.tensor(km.cluster_centers_, dtype=torch.float32, device=X.device)
        state = TrainingState(X=X, net=net, centers=centers.requires_grad_(self.trainable_centers),
                              labels=km.labels_.astype(np.int64))
        self._init_state(state)
        params = list(net.parameters()) + ([state.centers] if self.trainable_centers else [])
        opt = (torch.optim.SGD(params, lr=self.learning_rate, momentum=self.momentum) if self.optimizer == "sgd"
               else torch.optim.Adam(params, lr=self.learning_rate))
        history = History("iteration", "delta_label", "n_empty", "largest_share", "collapsed")
        running: dict[str, float] = {}
        n, bs = len(X), min(int(self.batch_size), len(X))
        self.update_interval_ = interval = (default_update_interval(n) if self.update_interval is None
                                            else int(self.update_interval))
        perm, pos, ite = None, n, 0
        steps = track(range(int(self.max_iter)), total=int(self.max_iter), description=f"{type(self).__name__}",
                      verbose=self.verbose)
        with closing(steps):  # the progress line ends with the loop (a break, an error), not after the final encoding
            for ite in steps:
                if ite % interval == 0:
                    q = self._soft(net, X, state.centers)
                    labels = q.argmax(1).cpu().numpy()
                    delta = float((labels != state.labels).mean()) if ite > 0 else 1.0
                    state.labels = labels
                    self._refresh(state, q)
                    self._record(history, ite, delta, labels, running, y)
                    running = {}
                    if ite > 0 and delta < self.tol:
                        break
                if pos + bs > n:
                    perm, pos = torch.randperm(n, generator=gen).to(X.device), 0
                assert perm is not None  # drawn at the first iteration: pos starts at n
                idx = perm[pos:pos + bs]
                pos += bs
                x = X[idx] if augment is None else augment(X[idx])  # DEC-DA: the targets stay the clean images'
                parts = self._batch_loss(state, x, idx)
                train_step(parts["loss"], [opt], who=type(self).__name__, where=f"at iteration {ite}")
                self._after_step(state, x, idx)
                for k, v in parts.items():
                    running[k] = running.get(k, 0.0) + float(v.detach()) / interval
        z = encode(net, X)
        q = soft_assignment(z, state.centers.detach(), getattr(self, "alpha", 1.0))
        self.labels_ = q.argmax(1).cpu().numpy().astype(np.int64)
        self.embedding_, self.probabilities_ = z.cpu().numpy(), q.cpu().numpy()  # of the training data
        self._record(history, ite + 1, float((self.labels_ != state.labels).mean()), self.labels_, running, y)
        self.n_iter_ = ite + 1
        self.history_ = history
        self.autoencoder_ = net.cpu().eval()
        self.cluster_centers_ = state.centers.detach().cpu().numpy()
        if history["collapsed"][-1]:
            warnings.warn(f"{type(self).__name__}: the clustering collapsed ({history['n_empty'][-1]} empty clusters, "
                          f"largest cluster {history['largest_share'][-1]:.0%} of the data); try another "
                          f"random_state, more pretraining or a smaller learning_rate", RuntimeWarning, stacklevel=3)

    def _init_state(self, state: TrainingState) -> None:
        """Extra state a method needs before the loop (DCN: per-cluster counts)."""

    def _record(self, history: History, ite, delta, labels, running, y):
        n_empty, largest = empty_and_largest(labels, self.n_clusters)
        history.log(int(ite), delta_label=delta, n_empty=n_empty, largest_share=largest,
                    collapsed=bool(n_empty > 0 or largest > max(0.5, 2.0 / self.n_clusters)))
        for k, v in running.items():
            history.setdefault(k, [float("nan")] * (len(history["iteration"]) - 1)).append(v)
        for k in [k for k in history if k.startswith("loss") and len(history[k]) < len(history["iteration"])]:
            history[k].append(float("nan"))
        history.log_scores(y, labels)

    def _soft(self, net, X, centers):
        return soft_assignment(encode(net, X), centers.detach(), getattr(self, "alpha", 1.0))

    # --- after fit -----------------------------------------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """The learned embedding z = f(x) (N, embedding_dim)."""
        check_is_fitted(self, "autoencoder_")
        return encode(self.autoencoder_, self._prepare(X)).numpy()

    def predict_proba(self, X) -> np.ndarray:
        """Soft assignments q (N, K) to the learned centres (Student's t kernel); rows sum to 1. Named as in
        scikit-learn and as SCAN's and DTC's."""
        import torch

        check_is_fitted(self, "autoencoder_")
        return self._soft(self.autoencoder_, self._prepare(X), torch.from_numpy(self.cluster_centers_)).numpy()

    def predict(self, X) -> np.ndarray:
        """The most likely cluster of new samples."""
        return self.predict_proba(X).argmax(1).astype(np.int64)

    def save_autoencoder(self, path) -> Path:
        """Save the pretrained autoencoder (weights + architecture) to reuse with ``autoencoder=path``."""
        import torch

        check_is_fitted(self, "autoencoder_")
        path = Path(path)
        torch.save(self.pretrained_autoencoder_, path)
        return path


def store_params(estimator, params: dict) -> None:
    """What every ``__init__`` here does and nothing more: store each keyword argument under its own name."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def encode(net, X, batch_size: int = ENCODE_BATCH):
    """Embeddings of all of X (N, d), batch by batch, without gradients, on X's device
    (:func:`~deepclust._training.embed_batches` of the encoder)."""
    return embed_batches(net.encode, X, module=net, batch_size=batch_size, device=X.device).to(X.device)


def default_update_interval(n_samples: int) -> int:
    """Iterations between target refreshes for ``n_samples``: 30 up to 10,000 samples, 140 above (about every 0.8
    and 0.5 epochs at batch 256). The size rule is ours; it borrows the two values DEC-keras picks by data-set name
    (140 for MNIST and Fashion-MNIST; 30 for USPS, Reuters-10k, STL). IDEC's and DCEC's codes use 140 throughout."""
    return 30 if n_samples <= 10_000 else 140


#: The pretraining recipes: DEC-keras's SGD for MNIST and Fashion-MNIST (DEC, and IDEC, which here starts from DEC's
#: recipe), and Adam for 200 epochs elsewhere (DCEC's code; our choice for DCN and for DEC on other data).
PRETRAINING = {"sgd": {"lr": 1.0, "epochs": 300}, "adam": {"lr": 1e-3, "epochs": 200}}


def pretraining_recipe(optimizer: str, lr: float | None, epochs: int | None, X) -> dict:
    """The pretraining's ``optimizer``, ``lr`` and ``epochs``. ``"auto"`` approximates from the data what DEC-keras
    picks by data-set name (SGD for 300 epochs on MNIST and Fashion-MNIST, 50 on Reuters-10k; Adam for 50 on USPS,
    10 on STL): SGD (lr 1, momentum 0.9, 300 epochs) for MNIST-like inputs, at least 784 values per sample in
    [0, 1], else Adam (lr 10⁻³, 200 epochs: our choice). SGD at lr 1 diverged in the first epoch on the 64 values
    of the 8×8 digits. ``lr`` and ``epochs`` left None take the chosen optimiser's values (:data:`PRETRAINING`)."""
    if optimizer == "auto":
        x = X.reshape(len(X), -1)
        mnist_like = x.shape[1] >= 784 and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
        optimizer = "sgd" if mnist_like else "adam"
    recipe = PRETRAINING[optimizer]
    return {"optimizer": optimizer, "lr": float(recipe["lr"] if lr is None else lr),
            "epochs": int(recipe["epochs"] if epochs is None else epochs)}


def pretrain_autoencoder(net, X, *, epochs: int, batch_size: int = 256, lr: float = 1e-3, gen=None,
                         optimizer: str = "adam", momentum: float = 0.9, augment=None,
                         verbose: bool = False) -> list[float]:
    """Train ``net`` to reconstruct X (MSE) end to end, with Adam (as DCEC's code; DCN's pretrains layer-wise with
    SGD) or SGD with momentum (DEC-keras: lr 1, momentum 0.9); returns the mean loss per epoch. ``augment``: a
    function applied to each batch first (DEC-DA reconstructs the augmented batch)."""
    import torch

    def reconstruction(idx):
        x = X[idx] if augment is None else augment(X[idx])
        return torch.nn.functional.mse_loss(net(x)[1], x)

    opt = (torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum) if optimizer == "sgd"
           else torch.optim.Adam(net.parameters(), lr=lr))
    losses = []
    for epoch in track(range(int(epochs)), total=int(epochs), description="pretraining autoencoder",
                       verbose=verbose):
        perm = torch.randperm(len(X), generator=gen).to(X.device)
        losses.append(run_epoch(perm.split(batch_size), reconstruction, [opt], who="autoencoder pretraining",
                                where=f"in epoch {epoch + 1}", lr_name="pretrain_lr", weight_by_size=True))
    return losses
