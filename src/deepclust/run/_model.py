"""The fitted estimator of a run folder: saved when it can assign new images, loaded to assign them."""

from __future__ import annotations

import os
from pathlib import Path

MODEL_FILE = "model.joblib"


def save_model(estimator, folder: str | os.PathLike) -> str | None:
    """Write ``model.joblib`` when the estimator can assign new samples; returns why not otherwise (for run.json)."""
    import joblib

    from .._atomic import atomic_path

    if not hasattr(estimator, "predict"):
        return f"{type(estimator).__name__} is transductive: it clusters only the images it was fitted on"
    try:
        with atomic_path(Path(folder) / MODEL_FILE) as tmp:
            joblib.dump(estimator, tmp)
    except Exception as exc:  # an estimator that cannot be pickled must not lose the whole run
        return f"the fitted estimator could not be saved ({type(exc).__name__}: {exc})"
    return None


def load_model(folder: str | os.PathLike):
    """The estimator saved in ``folder`` by :func:`save_model`."""
    import joblib

    from .._umap import quiet_umap_import

    with quiet_umap_import():  # a saved UMAP imports umap, which notes TensorFlow's absence
        return joblib.load(Path(folder) / MODEL_FILE)
