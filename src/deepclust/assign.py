"""Assign new images to the clusters of an earlier run, for the methods that can ``predict``: the run folder keeps
the fitted estimator (``model.joblib``) and how its input was made, so new images are embedded as the run's were."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import SkippedFile
from .inputs import INPUTS, PREDICT_INPUTS, InputSettings

MODEL_FILE = "model.joblib"


@dataclass
class Assignment:
    """New images and the cluster each got (``paths`` relative to the folder, or array indices)."""

    paths: list[str]
    labels: np.ndarray
    skipped: list[SkippedFile] = field(default_factory=list)
    run_dir: Path | None = None

    def cluster_sizes(self) -> dict[int, int]:
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts)}


def save_model(estimator, folder: Path) -> str | None:
    """Write ``model.joblib`` when the estimator can assign new samples; returns why not otherwise (for run.json)."""
    import joblib

    if not hasattr(estimator, "predict"):
        return f"{type(estimator).__name__} is transductive: it clusters only the images it was fitted on"
    try:
        joblib.dump(estimator, folder / MODEL_FILE)
    except Exception as exc:  # an estimator that cannot be pickled must not lose the whole run
        (folder / MODEL_FILE).unlink(missing_ok=True)
        return f"the fitted estimator could not be saved ({type(exc).__name__}: {exc})"
    return None


def prepare_like_run(info: dict, source, **runtime):
    """The method's input for ``source`` (an opened folder or array), made with the run's recorded input settings
    (``run.json``'s ``parameters.input_settings``); ``runtime``: batch_size, device, cache settings, verbose."""
    params = info.get("parameters", {})
    recorded = dict(params.get("input_settings", {}))
    typical_size = int(recorded.pop("typical_size", 224))
    if recorded.get("views"):
        recorded["views"] = tuple(recorded["views"])
    kind = PREDICT_INPUTS.get(params["input"], params["input"])
    return INPUTS[kind](source, InputSettings(**recorded, **runtime), typical_size)


def assign_images(run_dir: str | os.PathLike, source, *, batch_size: int = 64, device: str = "auto",
                  cache_dir=None, use_cache: bool = True, num_workers: int | None = None,
                  verbose: bool = True) -> Assignment:
    """Assign the images of ``source`` (a folder or a uint8 array) to the clusters of the run in ``run_dir``.

    The images are prepared with the run's recorded input settings (extractor, layer, input size, views, image size)
    and given to the saved estimator's ``predict``. Raises ``ValueError`` for a run whose method cannot assign new
    images (agglomerative clustering is transductive) and ``FileNotFoundError`` for a folder that is no run.
    """
    import joblib

    from .pipeline import _open_source

    run_dir = Path(run_dir)
    info_path = run_dir / "run.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{info_path} not found: is {run_dir} a run folder of deepclust cluster?")
    info = json.loads(info_path.read_text())
    params = info.get("parameters", {})
    if not (run_dir / MODEL_FILE).is_file():
        why = info.get("model_not_saved") or "the run folder has no saved model (written by an older deepclust)"
        raise ValueError(f"the run's method {params.get('method')} cannot assign new images: {why}; cluster the "
                         f"old and new images together instead")
    estimator = joblib.load(run_dir / MODEL_FILE)
    if hasattr(estimator, "device"):
        estimator.set_params(device=device)
    source, _, _, skipped = _open_source(source, None)
    prepared = prepare_like_run(info, source, batch_size=batch_size, device=device, cache_dir=cache_dir,
                                use_cache=use_cache, num_workers=num_workers, verbose=verbose)
    labels = np.asarray(estimator.predict(prepared.X), dtype=np.int64)
    paths = ([source.paths[i] for i in prepared.indices] if hasattr(source, "paths")
             else [str(i) for i in prepared.indices])
    return Assignment(paths, labels, skipped + prepared.failed, run_dir)
