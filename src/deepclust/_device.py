"""Pick the torch device: CUDA when present, else CPU."""

from __future__ import annotations

import re

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def resolve_device(device: str = "auto") -> str:
    """Return ``"cuda"`` when ``device="auto"`` and CUDA is available, else the device asked for.

    Raises
    ------
    ValueError
        When the name is not a device (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``), or CUDA is asked for
        explicitly but is not available.
    """
    import torch

    if device is None:
        device = "auto"
    if not _DEVICE.match(str(device)):
        raise ValueError(f"unknown device {device!r}: use auto, cpu or cuda (cuda:N for one GPU of several)")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available here; use cpu or auto")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for but Apple's MPS is not available here; use cpu or auto")
    return str(device)
