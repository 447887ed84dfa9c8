"""Run an extractor through ONNX Runtime on CPU: the same network, 2–4× the images per second of eager PyTorch on
small CPUs (measured by ``benchmarks/scale.py --cases runtime``).

The network is exported once per (backbone, layer, input size, weights) with ``torch.onnx.export``, checked against
PyTorch on a batch before it is used, and cached; PyTorch stays for CUDA and for every method that trains."""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np

from .._atomic import atomic_path

#: Largest difference allowed between ONNX Runtime's and PyTorch's features at export, relative to the features'
#: scale (measured: 4e-5 on EfficientNet-Lite0, whose features reach ~10).
EXPORT_TOLERANCE = 1e-4
OPSET = 18


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxRunner:
    """An ONNX Runtime session that maps a normalised float batch ``(B, 3, S, S)`` to features ``(B, D)``."""

    export_error: float  # set by export_checked: the largest difference from PyTorch on the example

    def __init__(self, path: Path, n_threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(n_threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # no busy-waiting between runs: the pool would spin against the PyTorch threads that preprocess the next
        # batch (measured on 2 cores: 1,400 img/s spinning, 1,600–1,950 not)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x) -> np.ndarray:
        """``x``: a torch tensor or array; returns float32 numpy."""
        batch = x.contiguous().numpy() if hasattr(x, "contiguous") else np.ascontiguousarray(x, np.float32)
        return self.session.run(None, {self.input_name: batch})[0]


def onnx_path(cache_dir: Path, identity: str) -> Path:
    """Where the exported graph of one network lives: keyed by everything that shapes it."""
    import torch

    digest = hashlib.sha256(f"{identity}|torch {torch.__version__}|opset {OPSET}".encode()).hexdigest()[:24]
    return Path(cache_dir) / "onnx" / f"{digest}.onnx"


def export_checked(module, example, path: Path, n_threads: int) -> OnnxRunner:
    """Export ``module`` (eval mode, CPU) with a dynamic batch axis, check it on ``example`` and return its runner.

    Raises ``RuntimeError`` when the exported graph disagrees with PyTorch beyond :data:`EXPORT_TOLERANCE`; the file
    is then not kept."""
    import torch

    if not path.exists():
        with atomic_path(path) as tmp, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # the exporter's notices and steps are not the user's business
            program = torch.onnx.export(module, (example,), dynamo=True, opset_version=OPSET, input_names=["images"],
                                        output_names=["features"], dynamic_shapes=({0: torch.export.Dim("batch")},),
                                        verbose=False)
            assert program is not None  # the dynamo exporter returns its program
            program.save(str(tmp))
    runner = OnnxRunner(path, n_threads)
    with torch.inference_mode():
        reference = module(example).float().numpy()
    got = runner(example)
    error = float(np.abs(got - reference).max()) if got.shape == reference.shape else float("inf")
    scale = max(1.0, float(np.abs(reference).max()))
    if not error <= EXPORT_TOLERANCE * scale:
        path.unlink(missing_ok=True)
        raise RuntimeError(f"the ONNX export differs from PyTorch by {error:.2g} "
                           f"(allowed {EXPORT_TOLERANCE * scale:.2g})")
    runner.export_error = error
    return runner
