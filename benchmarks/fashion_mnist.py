"""Fashion-MNIST benchmark of the foundation pipeline (issue 2).

Cases, each in its own process (so each peak memory is its own):
  pixels        k-means (k=10, n_init=10) on raw pixels
  pipeline      the default `deepclust cluster` pipeline: EfficientNet-Lite0 features at 64 px, L2, PCA 50,
                UMAP 10, k-means; plus the bare model's forward-pass throughput measured in the same process
  throughput    extraction against the bare forward pass, interleaved in one process (the fair ratio)
  extract-N     extraction alone on the first N images, to show peak memory against N
  folder        the same extraction from a folder of PNG files (decoding included)

Run:  .venv/bin/python -m benchmarks.fashion_mnist            (all 70,000 images; about 15 minutes on 2 cores)
      .venv/bin/python -m benchmarks.fashion_mnist --quick    (the 10,000 test images)
Writes benchmarks/results/fashion_mnist[_quick].json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import machine, peak_rss_mb, run_case_in_subprocess, write_results


def _data(split: str, limit: int | None = None):
    from deepclust.datasets import load_dataset

    X, y = load_dataset("fashion-mnist", split=split)
    return (X[:limit], y[:limit]) if limit else (X, y)


def case_pixels(args) -> dict:
    from sklearn.cluster import KMeans

    from deepclust.metrics import external_scores

    X, y = _data(args.split)
    t = time.perf_counter()
    labels = KMeans(10, n_init=10, random_state=args.seed).fit_predict(X.reshape(len(X), -1).astype(np.float32))
    wall = time.perf_counter() - t
    return {"method": "k-means on pixels", "n": len(X), **external_scores(y, labels),
            "timings_s": {"cluster": round(wall, 1), "total": round(wall, 1)}, "peak_rss_mb": round(peak_rss_mb())}


def bare_forward_throughput(extractor, X, batch_size: int, n: int = 3200) -> float:
    """Images/s of the model's forward pass alone, on already-preprocessed batches (no I/O, no resize)."""
    import torch

    batch = extractor.preprocess(X[:batch_size])
    with torch.inference_mode():
        extractor.module(batch)  # warm-up
        t = time.perf_counter()
        for _ in range(n // batch_size):
            extractor.module(batch)
    return (n // batch_size) * batch_size / (time.perf_counter() - t)


def case_throughput(args) -> dict:
    """Extraction (preprocessing + model + writing features) against the bare forward pass, interleaved three
    times on the same 3,200 images in one process, so that both see the same machine state; medians reported."""
    import torch

    from deepclust.features import create_extractor, extract_features

    X, _ = _data("test", 3200)
    ex = create_extractor("efficientnet_lite0", input_size=64)
    batches = [ex.preprocess(X[i:i + 64]) for i in range(0, len(X), 64)]
    bare, pipe = [], []
    with torch.inference_mode():
        ex.module(batches[0])  # warm-up
        for _ in range(3):
            t = time.perf_counter()
            for b in batches:
                ex.module(b)
            bare.append(len(X) / (time.perf_counter() - t))
            pipe.append(extract_features(X, ex, batch_size=64, use_cache=False, verbose=False).images_per_second)
    b, p = float(np.median(bare)), float(np.median(pipe))
    return {"method": "extraction vs bare forward pass, interleaved x3 (3,200 images, 64 px, batch 64)",
            "n": len(X), "extract_images_per_s": round(p, 1), "bare_forward_images_per_s": round(b, 1),
            "extract_vs_bare": round(p / b, 3), "peak_rss_mb": round(peak_rss_mb())}


def case_pipeline(args) -> dict:
    from deepclust import cluster_images

    X, y = _data(args.split)
    t = time.perf_counter()
    run = cluster_images(X, n_clusters=10, labels_true=y, random_state=args.seed, use_cache=False, verbose=False)
    wall = time.perf_counter() - t
    from deepclust.features import create_extractor

    bare = bare_forward_throughput(create_extractor("efficientnet_lite0", input_size=64), X, 64)
    pipe = run.extraction["images_per_s"]
    return {"method": "deepclust default (EfficientNet-Lite0 64 px, L2, PCA 50, UMAP 10, k-means)", "n": len(X),
            **{k: run.metrics[k] for k in ("acc", "nmi", "ari", "purity")},
            "timings_s": {k: round(v, 1) for k, v in run.timings.items()}, "wall_s": round(wall, 1),
            "extract_images_per_s": round(pipe, 1), "bare_forward_images_per_s": round(bare, 1),
            "extract_vs_bare": round(pipe / bare, 3), "peak_rss_mb": round(peak_rss_mb())}


def case_extract(args) -> dict:
    from deepclust.features import create_extractor, extract_features

    X, _ = _data(args.split, args.n)
    with tempfile.TemporaryDirectory() as cache:
        ex = create_extractor("efficientnet_lite0", input_size=64)
        feats = extract_features(X, ex, cache_dir=cache, verbose=False)
        out = {"method": f"extraction only, {len(X)} images (features memory-mapped)", "n": len(X),
               "extract_images_per_s": round(feats.images_per_second, 1),
               "features_mb": round(feats.features.nbytes / 2**20, 1), "peak_rss_mb": round(peak_rss_mb())}
    return out


def case_folder(args) -> dict:
    from PIL import Image

    from deepclust.datasets import scan_folder
    from deepclust.features import create_extractor, extract_features

    X, y = _data("test", args.n)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "images"
        for i, (img, label) in enumerate(zip(X, y)):
            (root / str(label)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(root / str(label) / f"{i:05d}.png")
        ex = create_extractor("efficientnet_lite0", input_size=64)
        feats = extract_features(scan_folder(root), ex, use_cache=False, verbose=False)
        bare = bare_forward_throughput(ex, X, 64)
    return {"method": f"extraction from a folder of {len(X)} PNG files (decode + resize + model)", "n": len(X),
            "extract_images_per_s": round(feats.images_per_second, 1), "bare_forward_images_per_s": round(bare, 1),
            "extract_vs_bare": round(feats.images_per_second / bare, 3), "peak_rss_mb": round(peak_rss_mb())}


CASES = {"pixels": case_pixels, "pipeline": case_pipeline, "throughput": case_throughput, "extract": case_extract,
         "folder": case_folder}


def _table(results: list[dict]) -> str:
    lines = ["| case | n | ACC | NMI | ARI | wall s (per stage) | extract img/s | bare model img/s | ratio "
             "| peak RSS MB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        def f(k, r=r):
            return f"{r[k]:.3f}" if k in r else "—"

        stages = r.get("timings_s")
        wall = (f"{stages['total']:.0f} ({', '.join(f'{k} {v:.0f}' for k, v in stages.items() if k != 'total')})"
                if stages else "—")
        lines.append(f"| {r['method']} | {r['n']:,} | {f('acc')} | {f('nmi')} | {f('ari')} | {wall} | "
                     f"{r.get('extract_images_per_s', '—')} | {r.get('bare_forward_images_per_s', '—')} | "
                     f"{r.get('extract_vs_bare', '—')} | {r['peak_rss_mb']:,} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="use the 10,000 test images only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", default="pixels,pipeline,throughput,extract,folder")
    parser.add_argument("--tag", default="", help="suffix for the results files (e.g. when running some cases)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--split", default="all", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](args)))
        return
    split = "test" if args.quick else "all"
    common = ["--split", split, "--seed", str(args.seed)]
    results = []
    started = time.time()
    for case in args.cases.split(","):
        runs = {"extract": [["--n", "10000"], ["--n", "70000" if not args.quick else "5000"]],
                "folder": [["--n", "10000" if not args.quick else "3000"]]}.get(case, [[]])
        for extra in runs:
            print(f"[benchmark] {case} {' '.join(extra)}", file=sys.stderr, flush=True)
            results.append(run_case_in_subprocess("benchmarks.fashion_mnist", case, common + extra))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    name = ("fashion_mnist_quick" if args.quick else "fashion_mnist") + (f"_{args.tag}" if args.tag else "")
    command = "python " + " ".join(["-m", "benchmarks.fashion_mnist", *sys.argv[1:]])
    header = (f"Fashion-MNIST ({'10,000 test' if args.quick else 'all 70,000'} images), seed {args.seed}, "
              f"{dt.date.today()}; machine: {machine()['cpu']}, {machine()['cores']} cores. "
              f"Reproduce: `{command}`\n\n")
    payload = {"command": command, "dataset": "fashion-mnist", "split": split, "seed": args.seed,
               "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
               "total_wall_s": round(time.time() - started, 1), "results": results}
    js, md = write_results(name, payload, header + _table(results))
    print(md.read_text())
    print(f"written: {js} {md}")


if __name__ == "__main__":
    main()
