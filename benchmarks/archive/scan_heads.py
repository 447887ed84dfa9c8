"""Clustering heads over several views (issue 7): `deepclust cluster --method best` (SCAN heads) on Fashion-MNIST,
MNIST-5k and digits, against k-means on the same joined views.

Per data set: one whole run through `cluster_images(method="best")` with an empty feature cache (extraction of the
original and of any augmented copies included: the time a user waits), then, for each seed on the cached views,
SCAN with the augmented copies and self-labelling (when `--augmentations` > 0), SCAN on the original views alone,
and k-means on the joined views; every head's ACC is recorded beside the one the label-free criterion (lowest
neighbour-consistency loss) picked. Labels only score.

Run:  .venv/bin/python -m benchmarks.archive.scan_heads --datasets fashion-mnist,mnist-5k,digits --seeds 0,1,2
Writes benchmarks/results/scan_<datasets>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time

import numpy as np

from benchmarks._harness import group_rows, machine, mean_std, peak_rss_mb, write_results

ANCHORS = {"fashion-mnist": "N2D 0.672 / 0.684; DEC 0.62 / 0.65; target 0.80 / 0.75",
           "mnist-5k": "target ACC 0.97", "digits": "—"}


def scan_row(dataset, method, seed, y, model, wall):
    from deepclust.metrics import external_scores

    P = model._probabilities(model.embedding_).numpy()
    heads = [external_scores(y, P[:, h].argmax(1))["acc"] for h in range(P.shape[1])]
    row = {"dataset": dataset, "method": method, "seed": seed, **external_scores(y, model.labels_),
           "wall_s": round(wall, 1), "head": model.head_, "head_acc": [round(a, 4) for a in heads],
           "head_losses": model.head_losses_.round(4).tolist()}
    if "self_label" in model.history_:  # the chosen head before self-labelling, and the confident count at the end
        sl = model.history_["self_label"]
        row.update(before_self_label={k: sl[k][0] for k in ("acc", "nmi", "ari")}, confident=sl["confident"][-1])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="fashion-mnist,mnist-5k,digits")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--views", default=None, help="comma-separated views (default: the pipeline's)")
    parser.add_argument("--augmentations", type=int, default=None, help="augmented copies (default: best's)")
    parser.add_argument("--no-flip", action="store_true", help="augmented copies shifted, never mirrored")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    from sklearn.cluster import KMeans

    from deepclust import cluster_images, extract_views, load_dataset
    from deepclust.cluster import SCAN
    from deepclust.features import augmented_copies
    from deepclust.inputs import DEFAULT_VIEWS
    from deepclust.metrics import external_scores

    views = tuple(args.views.split(",")) if args.views else DEFAULT_VIEWS
    n_copies = args.augmentations or 0  # the views input makes no copies unless asked
    flip = not args.no_flip
    command = "python -m benchmarks.archive.scan_heads " + " ".join(sys.argv[1:])
    started, results = time.time(), []
    tag = args.datasets.replace(",", "_") + (f"_{args.tag}" if args.tag else "")

    def keep(row):
        results.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        _write(tag, results, views, n_copies, flip, command, started)

    for dataset in args.datasets.split(","):
        X, y = load_dataset(dataset)
        with tempfile.TemporaryDirectory() as cache:
            run = cluster_images(X, n_clusters=10, method="best", views=views, augmentations=n_copies,
                                 augment_flip=flip,
                                 labels_true=y, random_state=0, cache_dir=cache, verbose=False)
            keep({"dataset": dataset, "method": "whole run, cold cache (seed 0)", "seed": 0,
                  **{k: run.metrics[k] for k in ("acc", "nmi", "ari")}, "wall_s": round(run.timings["total"], 1),
                  "timings": {k: round(v, 1) for k, v in run.timings.items()}})
            V, _ = extract_views(X, views, cache_dir=cache, verbose=False)  # warm cache: read back
            copies = [extract_views(X, views, augment=augment, cache_dir=cache, verbose=False)[0]
                      for augment in augmented_copies(n_copies, flip=flip)]
            for seed in map(int, args.seeds.split(",")):
                if copies:
                    t = time.perf_counter()
                    model = SCAN(10, random_state=seed).fit(V, y, augmented=copies)
                    keep(scan_row(dataset, f"SCAN + {n_copies} augmented copies + self-labelling", seed, y, model,
                                  time.perf_counter() - t))
                t = time.perf_counter()
                model = SCAN(10, random_state=seed).fit(V)
                keep(scan_row(dataset, "SCAN heads on the original views", seed, y, model, time.perf_counter() - t))
                t = time.perf_counter()
                km = KMeans(10, n_init=10, random_state=seed).fit_predict(model.embedding_)
                keep({"dataset": dataset, "method": "k-means on the joined views", "seed": seed,
                      **external_scores(y, km), "wall_s": round(time.perf_counter() - t, 1)})


def _write(tag, results, views, n_copies, flip, command, started):
    payload = {"command": command, "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
               "views": list(views), "augmentations": n_copies, "augment_flip": flip,
               "total_wall_s": round(time.time() - started, 1),
               "peak_rss_mb": round(peak_rss_mb()), "results": results}
    js, md = write_results(f"scan_{tag}", payload, _table(results, views, n_copies, flip, command))
    print(f"written: {js} {md}", file=sys.stderr, flush=True)


def _table(results, views, n_copies, flip, command) -> str:
    m = machine()
    lines = [f"Views: {', '.join(views)} (EfficientNet-Lite0 at 64 px); augmented copies "
             f"({'shift + flip' if flip else 'shift, no flip'}): {n_copies} (`--augmentations`). "
             f"Machine: {m['cpu']}, {m['cores']} cores. Reproduce: `{command}`", "",
             "| data set | method | seeds | ACC | NMI | ARI | wall s (mean) | chosen head vs median / best head ACC | "
             "anchors (ACC / NMI) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (dataset, method), rs in group_rows(results).items():
        def ms(key, rs=rs):
            return mean_std(rs, key)
        heads = "—"
        if "head_acc" in rs[0]:
            heads = "; ".join(f"{r['acc']:.3f} vs {np.median(r['head_acc']):.3f} / {max(r['head_acc']):.3f}"
                              + (f" (chosen before self-labelling {r['before_self_label']['acc']:.3f})"
                                 if "before_self_label" in r else "") for r in rs)
        lines.append(f"| {dataset} | {method} | {len(rs)} | {ms('acc')} | {ms('nmi')} | {ms('ari')} | "
                     f"{np.mean([r['wall_s'] for r in rs]):.0f} | {heads} | {ANCHORS.get(dataset, '—')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
