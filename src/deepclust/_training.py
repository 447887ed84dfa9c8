"""The training toolbox every loop that trains a network uses (the deep methods in :mod:`deepclust.deep`, SCAN's
heads in :mod:`deepclust.cluster`): a seeded context, one epoch with the NaN guard, batch embedding, and a
``History`` that knows its x-axis and logs external scores. A toolbox, not a framework: a method writes its own loop
from these pieces (the DEC family's template-method loop in :mod:`deepclust.deep._base` is one such loop).

It sits below both packages, as ``_device`` and ``_progress`` do, since ``cluster/`` may not import ``deep/``; torch
is imported where a function runs, so that importing :mod:`deepclust.cluster` stays light."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils import check_random_state

from .metrics import external_scores

if TYPE_CHECKING:
    import torch

#: The external scores a history logs against labels given to ``fit``.
SCORES = ("acc", "nmi", "ari")


@dataclass(frozen=True)
class Seeded:
    """What :func:`seeded` yields: the integer seed drawn and a CPU generator started from it."""

    seed: int
    generator: torch.Generator


@contextmanager
def seeded(random_state, device: str = "cpu"):
    """Seed torch locally for a fit: one seed is drawn from ``random_state`` (an int, None or a ``RandomState``,
    which this draw advances), torch's global RNG (and the current CUDA device's) is seeded with it inside the
    block and restored after it, and a ``torch.Generator`` seeded alike is yielded with it (:class:`Seeded`)."""
    import torch

    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    devices = [torch.cuda.current_device()] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield Seeded(seed, torch.Generator().manual_seed(seed))


def check_finite(loss: torch.Tensor, who: str, where: str = "", lr_name: str = "learning_rate") -> None:
    """The NaN guard: a clear error, naming the estimator, where it happened and the learning rate to lower
    (``lr_name``: the parameter of that stage, e.g. ``pretrain_lr``), when ``loss`` is not finite."""
    import torch

    if not torch.isfinite(loss):
        at = f" {where}" if where else ""
        raise FloatingPointError(f"{who}: the loss became {loss.item()}{at}; lower {lr_name}")


def train_step(loss: torch.Tensor, optimizers: Sequence, *, who: str, where: str = "",
               lr_name: str = "learning_rate") -> None:
    """One optimiser step on ``loss``: the NaN guard, then ``zero_grad``, ``backward`` and ``step`` of every
    optimiser (DeepCluster trains its network and its classifier with two)."""
    check_finite(loss, who, where, lr_name)
    for opt in optimizers:
        opt.zero_grad()
    loss.backward()
    for opt in optimizers:
        opt.step()


def run_epoch(batches: Iterable, loss_of: Callable, optimizers: Sequence, *, who: str, where: str = "",
              lr_name: str = "learning_rate", after_step: Callable | None = None,
              weight_by_size: bool = False) -> float:
    """One pass over ``batches``: ``loss_of(batch)`` gives a batch's loss (None skips the batch), then
    :func:`train_step`, then ``after_step()`` (a learning-rate schedule). Returns the mean loss over the steps
    taken (weighted by the batches' lengths with ``weight_by_size``), 0.0 when none was."""
    total, count = 0.0, 0
    for batch in batches:
        loss = loss_of(batch)
        if loss is None:
            continue
        train_step(loss, optimizers, who=who, where=where, lr_name=lr_name)
        if after_step is not None:
            after_step()
        weight = len(batch) if weight_by_size else 1
        total, count = total + float(loss.detach()) * weight, count + weight
    return total / max(count, 1)


def embed_batches(forward: Callable, X, *, module: torch.nn.Module | None = None, batch_size: int = 1024,
                  device: str | torch.device | None = None, train_mode: bool = False) -> torch.Tensor:
    """``forward`` applied to all of ``X``, batch by batch, without gradients, ``module`` (default: ``forward``
    itself) in evaluation mode, or in training mode with ``train_mode`` (batch-norm normalises each batch by its own
    statistics, and its running statistics move: JULE's merge steps inside its loop); the module's mode is restored
    after. Each batch is moved to ``device`` (default: the module's) and the outputs are concatenated on the CPU
    (N, d) as float32. Call ``.numpy()`` for an array."""
    import torch

    target = forward if module is None else module
    net = target if isinstance(target, torch.nn.Module) else None
    training = net is not None and net.training
    if net is not None:
        net.train(train_mode)
        if device is None:
            device = next(net.parameters()).device
    try:
        with torch.no_grad():
            out = [forward(X[i:i + batch_size].to(device).float()).cpu() for i in range(0, len(X), batch_size)]
    finally:
        if net is not None:
            net.train(training)
    return torch.cat(out) if out else torch.empty(0)


def empty_and_largest(labels, n_clusters: int) -> tuple[int, float]:
    """``(empty clusters, largest cluster's share)`` of a partition into ``n_clusters``."""
    sizes = np.bincount(np.asarray(labels), minlength=int(n_clusters))
    return int((sizes == 0).sum()), float(sizes.max() / max(len(labels), 1))


class History(dict):
    """A fit's training curves: a dict of equally long lists (what ``history_`` holds and ``training.json``
    stores), the first one the x-axis named ``x`` ("epoch", "period", "iteration").

    >>> h = History("epoch"); h.log(1, loss=0.5); h["loss"]
    [0.5]
    """

    def __init__(self, x: str, *columns: str):
        super().__init__({x: [], **{c: [] for c in columns}})
        self.x = x

    def log(self, x, **values) -> None:
        """One row: the x value and the named values (a new name starts a new list)."""
        self[self.x].append(x)
        for key, value in values.items():
            self.setdefault(key, []).append(value)

    def score(self, name: str, y, labels) -> None:
        """ACC/NMI/ARI of one partition (a start, a final pass) stored under ``name`` as a dict; nothing when ``y``
        is None."""
        if y is not None:
            scores = external_scores(np.asarray(y), np.asarray(labels))
            self[name] = {key: float(scores[key]) for key in SCORES}

    def log_scores(self, y, labels, keys: tuple[str, ...] = SCORES) -> None:
        """ACC/NMI/ARI of ``labels`` against ``y`` appended under their names; nothing when ``y`` is None (labels
        are used only to log, never to train); NaN when ``labels`` is None (a row not scored, to save time)."""
        if y is None:
            return
        if labels is None:
            scores = dict.fromkeys(keys, float("nan"))
        else:
            scores = external_scores(np.asarray(y), np.asarray(labels))
        for key in keys:
            self.setdefault(key, []).append(float(scores[key]))
