"""`deepclust similar` and `deepclust assign` on a 100-image run of 12-megapixel photos: wall time and peak memory of
each command as a user types it (a fresh process: Python, imports, model and all), and whether the run's cached
features were reused (the feature cache's entries before and after).

The folder is built once from the photos scikit-image and scikit-learn ship, laid out as a phone dump: 100 JPEGs of
4000 × 3000 in nested dated folders (``DCIM/2024/05/``), a byte-identical copy of one of them under ``WhatsApp/``,
an empty and a truncated file (unreadable: the run sets them aside); 11 new images to assign (8 crops of the same
photos, 3 of noise). ``similar`` is given a run image by its path from the working folder, as a user types it.

    python -m benchmarks.run_commands --label after
    PYTHONPATH=/tmp/before/src python -m benchmarks.run_commands --label before   # a worktree of the old code
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import RESULTS, command_line, machine, markdown_table, parser, write_results

DATA = Path(os.environ.get("DEEPCLUST_BENCH_DATA", Path.home() / ".cache" / "deepclust" / "bench" / "run_commands"))
N_PHOTOS, N_NEW = 100, 11


def _sources() -> list[np.ndarray]:
    from skimage import data
    from sklearn.datasets import load_sample_images

    return [data.astronaut(), data.coffee(), data.rocket(), data.chelsea()] + list(load_sample_images().images)


def _photo(src: np.ndarray, rng: np.random.RandomState, size=(4000, 3000)) -> np.ndarray:
    """A random crop of ``src`` enlarged to ``size`` (width, height), with sensor-like noise."""
    from PIL import Image

    h, w = src.shape[:2]
    ch, cw = int(h * rng.uniform(0.6, 0.9)), int(w * rng.uniform(0.6, 0.9))
    y, x = rng.randint(0, h - ch + 1), rng.randint(0, w - cw + 1)
    img = np.asarray(Image.fromarray(src[y:y + ch, x:x + cw]).resize(size, Image.Resampling.BILINEAR), np.int16)
    return np.clip(img + rng.normal(0, 5, img.shape[:2] + (1,)), 0, 255).astype(np.uint8)


def build(root: Path) -> tuple[Path, Path]:
    """The phone folder and the folder of new images (see the module's docstring); kept between runs."""
    from PIL import Image

    phone, new, marker = root / "phone", root / "new", root / "built"
    if marker.exists():
        return phone, new
    shutil.rmtree(root, ignore_errors=True)
    rng, sources = np.random.RandomState(0), _sources()
    for i in range(N_PHOTOS):
        folder = phone / "DCIM" / "2024" / f"{1 + i % 6:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(_photo(sources[i % len(sources)], rng)).save(folder / f"IMG_{i:04d}.jpg", quality=90)
    (phone / "WhatsApp").mkdir()
    shutil.copy(phone / "DCIM" / "2024" / "01" / "IMG_0000.jpg", phone / "WhatsApp" / "IMG-WA0001.jpg")
    (phone / "WhatsApp" / "empty.jpg").write_bytes(b"")
    whole = (phone / "DCIM" / "2024" / "02" / "IMG_0001.jpg").read_bytes()
    (phone / "WhatsApp" / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    new.mkdir(parents=True)
    for i in range(N_NEW):
        img = (_photo(sources[i % len(sources)], rng, (2000, 1500)) if i < 8
               else rng.randint(0, 256, (1500, 2000, 3)).astype(np.uint8))
        Image.fromarray(img).save(new / f"new_{i:02d}.jpg", quality=90)
    marker.touch()
    return phone, new


def command(args: list[str], cwd: Path, env: dict) -> dict:
    """One ``deepclust`` command in a fresh process under ``/usr/bin/time -v``: wall, peak RSS, output."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c",
           "import sys; from deepclust.cli import app; sys.argv[0] = 'deepclust'; app()", *args]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-3000:])
        raise RuntimeError(f"deepclust {' '.join(args)} failed")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(rss_kb / 1024), "stdout": proc.stdout}


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("--label", default="after", help="the name of the code measured (before, after, ...)")
    args = p.parse_args(argv)
    phone, new = build(DATA)
    work = Path(tempfile.mkdtemp(prefix="run_commands."))
    cache = work / "cache"
    env = dict(os.environ, DEEPCLUST_CACHE=str(cache))
    rows = []
    try:
        shutil.copytree(phone, work / "phone")  # typed from the working folder, as a user would
        shutil.copytree(new, work / "new")
        run = command(["cluster", "phone", "-k", "6", "--map", "none", "--out", "runs/phone", "--quiet"], work, env)
        rows.append({"command": "cluster phone -k 6 (setup)", **{k: run[k] for k in ("wall_s", "peak_rss_mb")}})
        entries = len(list(cache.glob("*.npy")))
        query = "phone/DCIM/2024/01/IMG_0000.jpg"
        found = command(["similar", "runs/phone", query, "-n", "3"], work, env)
        copy = re.search(r"WhatsApp/IMG-WA0001\.jpg\s*│\s*\d+\s*│\s*([0-9.e-]+)", found["stdout"])
        rows.append({"command": f"similar runs/phone {query} -n 3", "wall_s": found["wall_s"],
                     "peak_rss_mb": found["peak_rss_mb"], "as_run_image": "is an image of the run" in found["stdout"],
                     "copy_distance": float(copy[1]) if copy else None,
                     "new_cache_entries": len(list(cache.glob("*.npy"))) - entries})
        entries = len(list(cache.glob("*.npy")))
        done = command(["assign", "runs/phone", "new", "--out", "runs/assigned", "--quiet"], work, env)
        info = json.loads((work / "runs" / "assigned" / "assign.json").read_text())
        rows.append({"command": "assign runs/phone new", "wall_s": done["wall_s"], "peak_rss_mb": done["peak_rss_mb"],
                     "n_unassigned": info["n_unassigned"],
                     "new_cache_entries": len(list(cache.glob("*.npy"))) - entries})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    import deepclust

    for r in rows:
        r.update(label=args.label, deepclust_file=deepclust.__file__)
    old = RESULTS / "run_commands.json"
    rows = [r for r in (json.loads(old.read_text())["rows"] if old.exists() else []) if r["label"] != args.label] + rows
    table = markdown_table(["code", "command", "wall s", "peak RSS MB", "notes"],
                           [[r["label"], f"`deepclust {r['command']}`", r["wall_s"], r["peak_rss_mb"],
                             ", ".join(f"{k} {v}" for k, v in r.items() if k not in
                                       ("label", "command", "wall_s", "peak_rss_mb", "deepclust_file"))] for r in rows])
    payload = {"command": command_line("benchmarks.run_commands", argv), "data": __doc__.split("    python")[0].strip(),
               "data_dir": str(DATA), "seed": 0, "rows": rows, "machine": machine()}
    write_results("run_commands", payload, table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
