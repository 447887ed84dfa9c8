"""`--method best` on the same images as an array and as a folder of PNG files (issue "`--method best` must be the
best on every data set and every seed"): the 5,000 Fashion-MNIST test images of classes 5–9, k = 5, per seed.

Run:  .venv/bin/python -m benchmarks.archive.best_folder_vs_array --seeds 0 1 2
Writes benchmarks/results/best_folder_vs_array.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import machine, write_results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    from PIL import Image

    from deepclust import cluster_images, load_dataset

    X, y = load_dataset("fashion-mnist", split="test")
    keep = y >= 5
    X, y = X[keep], y[keep]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "images"
        for i, (img, label) in enumerate(zip(X, y)):
            (root / str(label)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(root / str(label) / f"{i:05d}.png")
        for seed in args.seeds:
            for what, source, labels in (("arrays", X, y), ("folder of PNG files", root, "subfolders")):
                t = time.perf_counter()
                run = cluster_images(source, method="best", n_clusters=5, labels_true=labels, random_state=seed,
                                     verbose=False)
                rows.append({"seed": seed, "source": what, **{k: round(float(run.metrics[k]), 4)
                                                              for k in ("acc", "nmi", "ari")},
                             "wall_s": round(time.perf_counter() - t, 1)})
                print(rows[-1], flush=True)
    command = " ".join(["python", "-m", "benchmarks.archive.best_folder_vs_array", *sys.argv[1:]])
    payload = {"command": command, "date": dt.datetime.now().isoformat(timespec="seconds"),
               "dataset": "fashion-mnist test, classes 5-9 (5,000 images)", "seeds": args.seeds,
               "machine": machine(), "rows": rows}
    lines = [f"`--method best`, Fashion-MNIST test classes 5–9 (5,000 images), k = 5, {dt.date.today()}. "
             f"Reproduce: `{command}`", "", "| seed | source | ACC | NMI | ARI | wall s |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['seed']} | {r['source']} | {r['acc']:.3f} | {r['nmi']:.3f} | {r['ari']:.3f} | {r['wall_s']} |"
              for r in rows]
    for what in ("arrays", "folder of PNG files"):
        acc = [r["acc"] for r in rows if r["source"] == what]
        lines.append(f"| all | {what}: mean ± std | {np.mean(acc):.3f} ± {np.std(acc):.3f} | | | |")
    js, md = write_results("best_folder_vs_array", payload, "\n".join(lines) + "\n")
    print(f"written {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
