"""Pick the torch device: CUDA when present, else CPU."""

from __future__ import annotations

import re
from contextlib import contextmanager

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


def free_cpu_cores(sample_s: float = 0.3) -> int:
    """Cores not busy with other work right now (at least 1): the idle share of every core over ``sample_s``
    seconds (psutil), summed and rounded."""
    import os

    import psutil

    busy = psutil.cpu_percent(interval=sample_s, percpu=True)
    idle = sum(100.0 - b for b in busy) / 100.0
    return max(1, min(os.cpu_count() or 1, int(idle + 0.5)))


@contextmanager
def cpu_threads(device: str, *, who: str = "", verbose: bool = False):
    """Inside the block, torch's intra-op threads are as many as the cores other processes leave free (never more
    than torch had); restored after. Why: torch's threads wait for each other at every operation, so one of them
    descheduled by another process stalls all of them — DTC's clustering epochs ran over 12× slower with one other
    2-thread job on 2 cores, far more than the half share the cores left them. On CUDA nothing changes. Yields
    the number of threads used."""
    import torch

    before = torch.get_num_threads()
    if str(device) != "cpu":
        yield before
        return
    n = min(before, free_cpu_cores())
    if n < before and verbose and who:
        from ._progress import say

        say(f"{who}: other work is using the cores; {n} of {before} torch threads")
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)
