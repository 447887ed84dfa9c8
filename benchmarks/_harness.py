"""What every benchmark script shares: the machine and versions, peak memory, timing, a row's scores, argparse basics,
and writing a result as JSON (the record) plus a markdown table (for people).

Scripts import it as ``from benchmarks._harness import ...`` and run from the repository root as modules:
``python -m benchmarks.NAME``. Nothing here imports deepclust or torch at import time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """The machine a number was measured on: CPU model, cores, memory, Python, torch and its threads, GPU."""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import torch

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def versions() -> dict:
    """The versions that decide a number: deepclust, torch, scikit-learn, numpy."""
    import numpy
    import sklearn
    import torch

    import deepclust

    return {"deepclust": deepclust.__version__, "torch": torch.__version__, "sklearn": sklearn.__version__,
            "numpy": numpy.__version__}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed(timings: dict, key: str):
    """``with timed(t, "extract"): ...`` stores the block's wall time in seconds under ``t[key]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = round(time.perf_counter() - start, 2)


def command_line(module: str, argv: list[str] | None = None) -> str:
    """The command that reproduces this run, as typed from the repository root."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python", "-m", module, *(shlex.quote(a) for a in args)])


def today() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose help is the script's docstring, kept as written."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def seeds_of(values) -> list[int]:
    """``["0,1", "2"]`` → ``[0, 1, 2]``."""
    return [int(s) for v in values for s in str(v).split(",") if s.strip()]


def scores(labels_true, labels_pred) -> dict:
    """ACC, NMI, ARI (and purity) as plain floats."""
    from deepclust.metrics import external_scores

    return {k: float(v) for k, v in external_scores(labels_true, labels_pred).items()}


def write_results(name: str, payload: dict, table: str) -> tuple[Path, Path]:
    """``benchmarks/results/NAME.json`` (the record) and ``NAME.md`` (the table)."""
    RESULTS.mkdir(exist_ok=True)
    js, md = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    js.write_text(json.dumps(payload, indent=2) + "\n")
    md.write_text(table if table.endswith("\n") else table + "\n")
    return js, md


def finish(name: str, argv, rows: list[dict], table: str, script: str | None = None) -> int:
    """The end of a script named ``benchmarks.NAME`` (or ``benchmarks.SCRIPT``, writing results of another name):
    its record (command, date, machine, peak memory, ``rows``) and ``table`` written to ``results/NAME.json`` and
    ``.md``, the table printed; returns the exit code 0."""
    payload = {"command": command_line(f"benchmarks.{script or name}", argv), "date": today(), "machine": machine(),
               "peak_rss_mb": round(peak_rss_mb()), "rows": rows}
    write_results(name, payload, table)
    print(table)
    return 0


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def run_case_in_subprocess(module: str, case: str, extra: list[str]) -> dict:
    """Run one case of ``module`` in a fresh Python process, so that its peak memory is its own; the case prints
    one JSON line last."""
    cmd = [sys.executable, "-m", module, "--case", case, *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"case {case} failed")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - t, 1)
    return result


def group_rows(results: list[dict]) -> dict:
    """Result rows grouped by (data set, method), in first-seen order."""
    groups: dict = {}
    for r in results:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    return groups


def mean_std(rows: list[dict], key: str) -> str:
    """``mean ± std`` of ``key`` over seeds, or the single value."""
    import numpy as np

    v = np.array([r[key] for r in rows], dtype=float)
    return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v[0]:.3f}"
