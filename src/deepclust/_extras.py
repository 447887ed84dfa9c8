"""Packages that only some paths need, installed with an extra (``pip install 'deepclust[attention]'``): importing
one that is missing is one sentence naming the extra, not a traceback from deep inside."""

from __future__ import annotations

import importlib

#: module → (its pip package, the extra that installs it, what needs it)
EXTRAS = {
    "cv2": ("opencv-python-headless", "attention", "--focus object and DTC's attention (GrabCut)"),
    "pytorch_grad_cam": ("grad-cam", "attention", "DTC's attention (Grad-CAM)"),
}


class MissingExtraError(ImportError):
    """A package an optional path needs is not installed; the message names the extra that installs it."""


def require(module: str):
    """``module`` imported, or :class:`MissingExtraError` saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # installed, but something it needs is missing: its own error says what
            raise
        package, extra, purpose = EXTRAS[module]
        raise MissingExtraError(f"{purpose} needs the package {package}: pip install 'deepclust[{extra}]'") from exc
