"""Helpers shared by the benchmark scripts: machine description, peak memory, result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1), "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case_in_subprocess(script: str, case: str, extra: list[str]) -> dict:
    """Run one case in a fresh Python process so that its peak memory is its own; it prints one JSON line."""
    cmd = [sys.executable, script, "--case", case, *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"case {case} failed")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - t, 1)
    return result


def write_results(name: str, payload: dict, table: str) -> tuple[Path, Path]:
    RESULTS.mkdir(exist_ok=True)
    js, md = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    js.write_text(json.dumps(payload, indent=2) + "\n")
    md.write_text(table)
    return js, md


def group_rows(results: list[dict]) -> dict:
    """Result rows grouped by (data set, method), in first-seen order."""
    groups: dict = {}
    for r in results:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    return groups


def mean_std(rows: list[dict], key: str) -> str:
    """``mean ± std`` of ``key`` over seeds, or the single value."""
    import numpy as np

    v = np.array([r[key] for r in rows])
    return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v[0]:.3f}"
