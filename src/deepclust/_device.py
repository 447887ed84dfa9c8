"""Pick the torch device: CUDA when present, else CPU."""

from __future__ import annotations


def resolve_device(device: str = "auto") -> str:
    """Return ``"cuda"`` when ``device="auto"`` and CUDA is available, else the device asked for.

    Raises
    ------
    ValueError
        When CUDA is asked for explicitly but is not available.
    """
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available; use device='cpu' or 'auto'")
    return str(device)
