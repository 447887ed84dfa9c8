"""DTC's wall time on a quiet machine and beside one other 2-thread job (issue 41: a `discover` run did not finish in
50 minutes with other jobs on the 2 cores, over 12× its quiet time; target: within 3×). Torch's threads are either
fixed at the machine's cores (the old behaviour) or taken from the cores other work leaves free
(:func:`deepclust._device.cpu_threads`, the default). The other job is a NumPy matrix-product loop on 2 threads.
Run it on an otherwise quiet machine: the quiet rows are the baseline.

Run:  .venv/bin/python -m benchmarks.dtc_threads [--epochs 30] [--repeats 1]
Writes benchmarks/results/dtc_threads.json and .md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import nullcontext
from unittest import mock

import numpy as np

from benchmarks._harness import finish, markdown_table, parser

#: The other job: matrix products on 2 threads until killed.
OTHER_JOB = "import numpy as np\na = np.random.rand(1500, 1500)\nwhile True:\n    a @ a\n"


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args(argv)
    import torch

    from deepclust import load_dataset
    from deepclust.deep import DTC

    X, y = load_dataset("digits")
    known = y < 5
    cores = os.cpu_count()

    def fit(threads: str) -> tuple[float, int]:
        torch.set_num_threads(cores)
        fixed = mock.patch("deepclust._device.free_cpu_cores", return_value=cores)
        with fixed if threads == "fixed" else nullcontext():
            t = time.perf_counter()
            dtc = DTC(5, supervised_epochs=2, epochs=args.epochs, random_state=0).fit(
                X[~known], X_known=X[known], y_known=y[known])
        return time.perf_counter() - t, dtc.run_details_["torch_threads"]

    results, rows = [], []
    for load in ("quiet", "one other 2-thread job"):
        other = None
        if load != "quiet":
            env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
            other = subprocess.Popen([sys.executable, "-c", OTHER_JOB], env=env)
            time.sleep(2)
        try:
            for threads in ("fixed", "auto"):
                times = [fit(threads) for _ in range(args.repeats)]
                wall = float(np.median([w for w, _ in times]))
                results.append({"load": load, "threads": threads, "torch_threads": times[0][1],
                                "wall_s": round(wall, 1)})
        finally:
            if other is not None:
                other.kill()
    quiet = {r["threads"]: r["wall_s"] for r in results if r["load"] == "quiet"}
    for r in results:
        r["ratio_to_quiet"] = round(r["wall_s"] / quiet[r["threads"]], 2)
        rows.append([r["load"], r["threads"], r["torch_threads"], r["wall_s"], r["ratio_to_quiet"]])
    table = (f"DTC on 8×8 digits (0–4 known, 5–9 novel; 2 supervised, 10 warm-up + {args.epochs} clustering epochs), "
             f"{cores} cores, median of {args.repeats}\n\n"
             + markdown_table(["load", "torch threads", "threads used", "wall s", "× quiet"], rows))
    return finish("dtc_threads", argv, results, table)


if __name__ == "__main__":
    raise SystemExit(main())
