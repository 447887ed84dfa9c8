"""Consensus over several feature spaces (issue "DeepCluster, the consensus ensemble and JULE"): every member's
ACC/NMI/ARI beside the consensus's (spectral, and average linkage where n allows), the default `kmeans` pipeline on
the same images, wall time and peak memory (target: 70,000 images in ≤ 8 GB).

Run:  .venv/bin/python -m benchmarks.archive.consensus --dataset mnist-5k --seeds 0
      .venv/bin/python -m benchmarks.archive.consensus --dataset fashion-mnist --seeds 0     (all 70,000 images)
Writes benchmarks/results/consensus_<dataset>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from benchmarks._harness import command_line, machine, peak_rss_mb, write_results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--split", default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--no-default", action="store_true", help="skip the default kmeans pipeline's row")
    args = parser.parse_args(argv)
    from deepclust import cluster_images, load_dataset
    from deepclust.cluster import AVERAGE_LINKAGE_MAX, CONSENSUS_VIEWS
    from deepclust.metrics import external_scores

    X, y = load_dataset(args.dataset, split=args.split)
    k = len(np.unique(y))
    rows = []
    for seed in args.seeds:
        if not args.no_default:
            t = time.perf_counter()
            default = cluster_images(X, n_clusters=k, labels_true=y, random_state=seed, verbose=False)
            rows.append({"seed": seed, "what": "default kmeans pipeline", **_scores(default.metrics),
                         "wall_s": round(time.perf_counter() - t, 1)})
        t = time.perf_counter()
        run = cluster_images(X, method="consensus", n_clusters=k, labels_true=y, random_state=seed, verbose=True)
        wall = time.perf_counter() - t
        views = run.params["views"]
        for m in run.members:
            rows.append({"seed": seed, "what": f"member {views[m['view']]} {m['algorithm']} (seed +{m['repeat']}), "
                                               f"ANMI {m['anmi']:.3f}{', kept' if m['kept'] else ''}",
                         "acc": m["acc"], "nmi": m["nmi"], "ari": m["ari"]})
        rows.append({"seed": seed, "what": "consensus of the kept half, spectral (default)", **_scores(run.metrics),
                     "wall_s": round(wall, 1), "timings_s": {k_: round(v, 1) for k_, v in run.timings.items()}})
        finals = ["spectral"] + (["agglomerative-average"] if len(X) <= AVERAGE_LINKAGE_MAX else [])
        for final, keep in [(f, k_) for f in finals for k_ in (0.5, 1.0)][1:]:
            t = time.perf_counter()
            labels = run.estimator.consensus_labels(final, keep=keep)
            what = f"consensus of {'all members' if keep == 1.0 else 'the kept half'}, {final}"
            rows.append({"seed": seed, "what": what, **_scores(external_scores(y, labels)),
                         "wall_s": round(time.perf_counter() - t, 1)})
        best = max(m["acc"] for m in run.members)
        print({"seed": seed, "consensus": run.metrics["acc"], "best member": best, "wall_s": round(wall, 1)},
              flush=True)
    payload = {"command": command_line("benchmarks.archive.consensus"),
               "date": dt.datetime.now().isoformat(timespec="seconds"),
               "dataset": args.dataset, "split": args.split, "n_images": len(X), "views": list(CONSENSUS_VIEWS),
               "machine": machine(), "peak_rss_mb": round(peak_rss_mb()), "rows": rows}
    lines = [f"Consensus on {args.dataset} ({len(X):,} images); peak RSS {payload['peak_rss_mb']:,} MB", "",
             "| seed | partition | ACC | NMI | ARI | wall s |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['seed']} | {r['what']} | {r['acc']:.3f} | {r['nmi']:.3f} | {r['ari']:.3f} | "
              f"{r.get('wall_s', '')} |" for r in rows]
    js, md = write_results(f"consensus_{args.dataset}", payload, "\n".join(lines) + "\n")
    print(f"written {js} and {md}")
    return 0


def _scores(metrics: dict) -> dict:
    return {k: round(float(metrics[k]), 4) for k in ("acc", "nmi", "ari")}


if __name__ == "__main__":
    raise SystemExit(main())
