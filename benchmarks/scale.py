"""Speed and scale (issue 29): ONNX Runtime against eager PyTorch, folder decoding against the bare model, faiss
k-means at a million vectors against scikit-learn, the default Fashion-MNIST 70k run, and a 200,000-image folder.

Cases, each in its own process (so each peak memory is its own):
  runtime     extraction of 10,000 Fashion-MNIST test images at 64 px with PyTorch and with ONNX Runtime, alternated
              three times in one process (medians), and the largest difference between their features
  folder      the same images as a folder of PNG files: the pipeline's extraction against the bare model (ONNX
              Runtime on preprocessed batches), interleaved three times in one process
  kmeans      k-means on 1,000,000 x 128 synthetic vectors (1,000 Gaussian blobs), k = 1,000, 20 iterations, one
              restart: FaissKMeans (trained on 256 points per centre, and on all points), HierarchicalKMeans, and
              scikit-learn's KMeans (random init) capped at --sklearn-iters iterations and extrapolated per
              iteration to 20; inertia of every result on all the points
  pipeline    the default run on all 70,000 Fashion-MNIST images (cluster_images: extraction, L2, PCA 50, UMAP 10,
              k-means), no feature cache; ACC/NMI and the time per stage
  folder200k  a folder of 200,000 PNG files (Fashion-MNIST and shifted copies) clustered end to end by the CLI
              (`deepclust cluster FOLDER -k 10 --map none`), with its peak RSS and memory curve sampled every second

Run:  .venv/bin/python -m benchmarks.scale --cases runtime,folder,kmeans,pipeline
      .venv/bin/python -m benchmarks.scale --cases folder200k --tag folder200k
Writes benchmarks/results/scale[_TAG].json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import machine, peak_rss_mb, run_case_in_subprocess, write_results

ROOT = Path(__file__).resolve().parent.parent


def _fmnist(split: str, limit: int | None = None):
    from deepclust.datasets import load_dataset

    X, y = load_dataset("fashion-mnist", split=split)
    return (X[:limit], y[:limit]) if limit else (X, y)


def case_runtime(args) -> dict:
    from deepclust.features import create_extractor, extract_features

    X, _ = _fmnist("test")
    torch_ex = create_extractor(input_size=64, device="cpu", runtime="torch")
    onnx_ex = create_extractor(input_size=64, device="cpu", runtime="onnx")
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        onnx_ex.select_runtime(len(X), cache)  # export + check, timed on its own
        export_s = time.perf_counter() - t
        speeds = {"torch": [], "onnx": []}
        feats = {}
        for _ in range(3):
            for name, ex in (("torch", torch_ex), ("onnx", onnx_ex)):
                out = extract_features(X, ex, batch_size=64, use_cache=False, verbose=False)
                speeds[name].append(out.images_per_second)
                feats[name] = out.features
    t, o = float(np.median(speeds["torch"])), float(np.median(speeds["onnx"]))
    return {"case": "runtime", "what": "extraction, 10,000 images, 64 px, batch 64: PyTorch vs ONNX Runtime (x3)",
            "n": len(X), "torch_images_per_s": round(t, 1), "onnx_images_per_s": round(o, 1),
            "speedup": round(o / t, 2), "all_torch": [round(v) for v in speeds["torch"]],
            "all_onnx": [round(v) for v in speeds["onnx"]], "export_s": round(export_s, 1),
            "max_abs_difference": float(np.abs(feats["onnx"] - feats["torch"]).max()),
            "peak_rss_mb": round(peak_rss_mb())}


def case_folder(args) -> dict:
    from PIL import Image

    from deepclust.datasets import scan_folder
    from deepclust.features import create_extractor, extract_features

    X, y = _fmnist("test", args.n)
    ex = create_extractor(input_size=64, device="cpu", runtime=args.runtime)
    with tempfile.TemporaryDirectory() as tmp:
        ex.select_runtime(len(X), tmp)
        root = Path(tmp) / "images"
        for i, (img, label) in enumerate(zip(X, y)):
            (root / str(label)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(root / str(label) / f"{i:05d}.png")
        folder = scan_folder(root)
        batches = [ex.preprocess(X[i:i + 64]) for i in range(0, len(X), 64)]
        run = ex.runner if ex.runner is not None else ex.module
        bare, pipe = [], []
        import torch

        with torch.inference_mode():
            for _ in range(3):
                t = time.perf_counter()
                for b in batches:
                    run(b)
                bare.append(len(X) / (time.perf_counter() - t))
                pipe.append(extract_features(folder, ex, batch_size=64, use_cache=False,
                                             verbose=False).images_per_second)
    b, p = float(np.median(bare)), float(np.median(pipe))
    return {"case": "folder", "what": f"extraction from {len(X):,} PNG files vs the bare model ({ex.active_runtime}, "
                                      "interleaved x3)",
            "n": len(X), "runtime": ex.active_runtime, "folder_images_per_s": round(p, 1),
            "bare_model_images_per_s": round(b, 1), "ratio": round(p / b, 3), "peak_rss_mb": round(peak_rss_mb())}


def case_kmeans(args) -> dict:
    import faiss
    from sklearn.cluster import KMeans

    from deepclust.cluster import FaissKMeans, HierarchicalKMeans

    rng = np.random.default_rng(0)
    n, d, k, iters = 1_000_000, 128, 1000, 20
    centres = rng.normal(0, 1, (k, d)).astype(np.float32)
    X = centres[rng.integers(0, k, n)] + rng.normal(0, 0.35, (n, d)).astype(np.float32)

    def inertia(C):
        index = faiss.IndexFlatL2(d)
        index.add(np.ascontiguousarray(C, dtype=np.float32))
        D, _ = index.search(X, 1)
        return float(D.sum())

    out = {"case": "kmeans", "what": f"k-means, {n:,} x {d} vectors, k = {k:,}, {iters} iterations", "n": n}
    models = {"faiss_sampled": FaissKMeans(k, n_init=1, max_iter=iters, random_state=0),
              "faiss_all": FaissKMeans(k, n_init=1, max_iter=iters, random_state=0, max_points_per_centroid=n),
              "hierarchical": HierarchicalKMeans(k, max_iter=iters, random_state=0)}
    for label, model in models.items():
        t = time.perf_counter()
        model.fit(X)  # k-means++ start, training, and the final assignment of every point
        out[f"{label}_s"] = round(time.perf_counter() - t, 1)
        out[f"{label}_inertia"] = inertia(model.cluster_centers_)
    cap = int(args.sklearn_iters)
    t = time.perf_counter()
    skl = KMeans(k, init="random", n_init=1, max_iter=cap, tol=0, random_state=0, algorithm="lloyd").fit(X)
    skl_s = time.perf_counter() - t
    out.update(sklearn_iterations_run=int(skl.n_iter_), sklearn_s_run=round(skl_s, 1),
               sklearn_s_per_iteration=round(skl_s / skl.n_iter_, 1),
               sklearn_s_extrapolated=round(skl_s / skl.n_iter_ * iters, 1),
               sklearn_inertia_after_cap=float(skl.inertia_))
    from sklearn.cluster import kmeans_plusplus

    t = time.perf_counter()
    kmeans_plusplus(X, k, random_state=0)  # scikit-learn's default start, on all the points
    out["sklearn_kmeanspp_init_s"] = round(time.perf_counter() - t, 1)
    out["sklearn_default_s_extrapolated"] = round(out["sklearn_kmeanspp_init_s"] + out["sklearn_s_extrapolated"], 1)
    out["speedup_vs_default"] = round(out["sklearn_default_s_extrapolated"] / out["faiss_sampled_s"], 1)
    out["speedup_sampled"] = round(out["sklearn_s_extrapolated"] / out["faiss_sampled_s"], 1)
    out["speedup_all"] = round(out["sklearn_s_extrapolated"] / out["faiss_all_s"], 1)
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def case_pipeline(args) -> dict:
    from deepclust import cluster_images

    X, y = _fmnist("all")
    t = time.perf_counter()
    run = cluster_images(X, n_clusters=10, labels_true=y, random_state=args.seed, use_cache=False, verbose=False)
    wall = time.perf_counter() - t
    return {"case": "pipeline", "what": "default run, all 70,000 Fashion-MNIST images (cluster_images, no cache)",
            "n": len(X), **{k: run.metrics[k] for k in ("acc", "nmi", "ari")}, "wall_s": round(wall, 1),
            "timings_s": {k: round(v, 1) for k, v in run.timings.items()}, "runtime": run.extraction["runtime"],
            "images_per_s": round(run.extraction["images_per_s"], 1), "peak_rss_mb": round(peak_rss_mb())}


def _write_folder(root: Path, n: int) -> None:
    """``n`` PNG files: the 70,000 Fashion-MNIST images, then copies shifted by up to 3 pixels (seeded)."""
    from PIL import Image

    X, y = _fmnist("all")
    rng = np.random.default_rng(0)
    for i in range(n):
        img = X[i % len(X)]
        if i >= len(X):
            dy, dx = rng.integers(-3, 4, 2)
            img = np.roll(img, (dy, dx), axis=(0, 1))
        sub = root / str(int(y[i % len(X)])) / f"{i // 10_000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(sub / f"{i:06d}.png", optimize=False, compress_level=1)


def case_folder200k(args) -> dict:
    import psutil

    n = int(args.n or 200_000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "images"
        t = time.perf_counter()
        _write_folder(root, n)
        write_s = time.perf_counter() - t
        out = Path(tmp) / "run"
        cmd = [str(ROOT / ".venv/bin/deepclust"), "cluster", str(root), "-k", "10", "--labels-from-subfolders",
               "--map", "none", "--quiet", "--out", str(out), "--cache-dir", str(Path(tmp) / "cache")]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ps, curve = psutil.Process(proc.pid), []
        while proc.poll() is None:
            try:
                rss = sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)])
            except psutil.Error:
                rss = 0
            curve.append([round(time.perf_counter() - t, 1), round(rss / 2**20)])
            time.sleep(1.0)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.read()[-3000:])
        from deepclust.run import RunFolder

        info = RunFolder.open(out).info
    return {"case": "folder200k", "what": f"`deepclust cluster` on a folder of {n:,} PNG files (k = 10, --map none)",
            "n": n, "write_folder_s": round(write_s, 1), "wall_s": round(wall, 1),
            "timings_s": {k: round(v, 1) for k, v in info["timings_s"].items()},
            "images_per_s": round(info["extraction"]["images_per_s"] or 0, 1),
            **{k: info["metrics"].get(k) for k in ("acc", "nmi")},
            "peak_rss_mb": max(m for _, m in curve) if curve else None, "memory_curve_mb": curve}


CASES = {"runtime": case_runtime, "folder": case_folder, "kmeans": case_kmeans, "pipeline": case_pipeline,
         "folder200k": case_folder200k}


def _row(r: dict) -> str:
    if r["case"] == "runtime":
        return (f"| {r['what']} | PyTorch {r['torch_images_per_s']:,.0f} img/s, ONNX Runtime "
                f"{r['onnx_images_per_s']:,.0f} img/s: **{r['speedup']}x** (export {r['export_s']} s once; max "
                f"difference {r['max_abs_difference']:.1e}) | {r['peak_rss_mb']:,} |")
    if r["case"] == "folder":
        return (f"| {r['what']} | folder {r['folder_images_per_s']:,.0f} img/s, bare model "
                f"{r['bare_model_images_per_s']:,.0f} img/s: **{r['ratio']}** | {r['peak_rss_mb']:,} |")
    if r["case"] == "kmeans":
        return (f"| {r['what']} | FaissKMeans {r['faiss_sampled_s']} s (trained on 256 points per centre; inertia "
                f"{r['faiss_sampled_inertia']:.4g}), on all points {r['faiss_all_s']} s (inertia "
                f"{r['faiss_all_inertia']:.4g}), HierarchicalKMeans {r['hierarchical_s']} s (inertia "
                f"{r['hierarchical_inertia']:.4g}); scikit-learn {r['sklearn_s_per_iteration']} s per iteration "
                f"({r['sklearn_iterations_run']} run) → {r['sklearn_s_extrapolated']} s for 20 from random starts, "
                f"{r['sklearn_default_s_extrapolated']} s with its default k-means++ start "
                f"({r['sklearn_kmeanspp_init_s']} s): FaissKMeans **{r['speedup_vs_default']}x** faster than the "
                f"default, {r['speedup_sampled']}x than random starts (on all points: {r['speedup_all']}x) "
                f"| {r['peak_rss_mb']:,} |")
    stages = ", ".join(f"{k} {v}" for k, v in r["timings_s"].items() if k != "total")
    return (f"| {r['what']} | ACC {r['acc']:.3f}, NMI {r['nmi']:.3f}; {r['wall_s']} s ({stages}); "
            f"{r['images_per_s']:,.0f} img/s | {r['peak_rss_mb']:,} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="runtime,folder,kmeans,pipeline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="")
    parser.add_argument("--sklearn-iters", type=int, default=2, help="scikit-learn iterations actually run")
    parser.add_argument("--runtime", default="onnx", help="folder case: the runtime of model and pipeline")
    parser.add_argument("--n", type=int, default=None, help="folder: images (10,000); folder200k: files")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](args)))
        return
    extra = ["--seed", str(args.seed), "--sklearn-iters", str(args.sklearn_iters), "--runtime", args.runtime]
    if args.n:
        extra += ["--n", str(args.n)]
    results, started = [], time.time()
    for case in args.cases.split(","):
        print(f"[benchmark] {case}", file=sys.stderr, flush=True)
        results.append(run_case_in_subprocess("benchmarks.scale", case, extra))
        print(json.dumps({k: v for k, v in results[-1].items() if k != "memory_curve_mb"}), file=sys.stderr,
              flush=True)
    command = "python " + " ".join(["-m", "benchmarks.scale", *sys.argv[1:]])
    m = machine()
    header = (f"Speed and scale, seed {args.seed}, {dt.date.today()}; machine: {m['cpu']}, {m['cores']} cores, "
              f"{m['memory_gb']} GB. Reproduce: `{command}`\n\n"
              "| case | measured | peak RSS MB |\n| --- | --- | --- |\n")
    payload = {"command": command, "dataset": "fashion-mnist / synthetic", "seed": args.seed,
               "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": m,
               "total_wall_s": round(time.time() - started, 1), "results": results}
    name = "scale" + (f"_{args.tag}" if args.tag else "")
    js, md = write_results(name, payload, header + "\n".join(_row(r) for r in results) + "\n")
    print(md.read_text())
    print(f"written: {js} {md}")


if __name__ == "__main__":
    main()
