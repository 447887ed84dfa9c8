"""DeepCluster benchmark (issue "DeepCluster, the consensus ensemble and JULE"): ACC/NMI/ARI against k-means on the
same pixels, the time on this machine, and the per-epoch curves (NMI between consecutive epochs' pseudo-labels, NMI
of the pseudo-labels and ACC of the final k-means to the truth).

Published: the IIC paper (Ji et al., ICCV 2019, Table 1) ran the authors' DeepCluster code on MNIST: ACC 0.656.
The DeepCluster paper itself reports no clustering accuracy (it evaluates features with linear probes).

Run:  .venv/bin/python -m benchmarks.archive.deepcluster --dataset mnist-5k --seeds 0 1 2
      .venv/bin/python -m benchmarks.archive.deepcluster --dataset fashion-mnist --epoch-size 20000 --seeds 0
Writes benchmarks/results/deepcluster_<dataset>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from benchmarks._harness import command_line, machine, peak_rss_mb, write_results

PUBLISHED = {"mnist-5k": "0.656 (MNIST-70k, IIC's run of the authors' code)"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--split", default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--epoch-size", type=int, default=None)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--pseudo", type=int, default=None, help="n_pseudo_clusters (default: 10 × k)")
    parser.add_argument("--augment", default="crop+flip")
    parser.add_argument("--tag", default="", help="suffix of the results files")
    args = parser.parse_args(argv)
    from sklearn.cluster import KMeans

    from deepclust import load_dataset
    from deepclust.deep import DeepCluster
    from deepclust.metrics import external_scores

    X, y = load_dataset(args.dataset, split=args.split)
    k = len(np.unique(y))
    rows = []
    for seed in args.seeds:
        t = time.perf_counter()
        pixels = KMeans(k, n_init=10, random_state=seed).fit_predict(X.reshape(len(X), -1) / 255.0)
        rows.append({"method": "k-means on pixels", "seed": seed, **external_scores(y, pixels),
                     "wall_s": round(time.perf_counter() - t, 1)})
        params = dict(n_pseudo_clusters=args.pseudo, epochs=args.epochs, epoch_size=args.epoch_size,
                      width=args.width, augment=args.augment, random_state=seed)
        t = time.perf_counter()
        model = DeepCluster(k, verbose=True, **params).fit(X, y)
        wall = time.perf_counter() - t
        rows.append({"method": "DeepCluster", "seed": seed, **external_scores(y, model.labels_),
                     "wall_s": round(wall, 1), "params": {**params, "n_pseudo_clusters": model.n_pseudo_clusters_},
                     "history": model.history_, "best_epoch_acc": round(float(np.nanmax(model.history_["acc"])), 4)})
        print({k_: v for k_, v in rows[-1].items() if k_ != "history"}, flush=True)
    payload = {"command": command_line("benchmarks.archive.deepcluster"),
               "date": dt.datetime.now().isoformat(timespec="seconds"),
               "dataset": args.dataset, "split": args.split, "n_images": len(X), "machine": machine(),
               "peak_rss_mb": round(peak_rss_mb()), "rows": rows}
    lines = [f"DeepCluster on {args.dataset} ({len(X):,} images), {args.epochs} epochs, width {args.width}, "
             f"augment {args.augment}, epoch size {args.epoch_size or 'default'}; "
             f"published: {PUBLISHED.get(args.dataset, '—')}", "",
             "| method | seed | ACC | NMI | ARI | wall s | best per-epoch ACC |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['seed']} | {r['acc']:.3f} | {r['nmi']:.3f} | {r['ari']:.3f} | "
                     f"{r['wall_s']} | {r.get('best_epoch_acc', '—')} |")
    name = f"deepcluster_{args.dataset}{'_' + args.tag if args.tag else ''}"
    js, md = write_results(name, payload, "\n".join(lines) + "\n")
    print(f"written {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
