"""JULE benchmark (issue "DeepCluster, the consensus ensemble and JULE"): ACC/NMI/ARI of JULE, of its agglomerative
clustering alone on the pixels (no CNN: epochs_per_period=0, the reference's -updateCNN 0) and of k-means on the
same pixels; the time on this machine and the per-period curves.

Published: the JULE paper (Yang et al., CVPR 2016, Table 2) reports NMI 0.915 on MNIST-test (10,000 images) and
0.913 on MNIST-full; DEPICT (Dizaji et al., ICCV 2017) lists JULE's ACC as 0.961 on MNIST-test and 0.964 on
MNIST-full.

Run:  .venv/bin/python -m benchmarks.archive.jule --dataset mnist-5k --seeds 0 1 2
      .venv/bin/python -m benchmarks.archive.jule --dataset fashion-mnist --split test --epochs-per-period 5 --seeds 0
      .venv/bin/python -m benchmarks.archive.jule --dataset emoji --image-size 48 --seeds 0   # a colour set
Writes benchmarks/results/jule_<dataset>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from benchmarks._harness import command_line, machine, peak_rss_mb, write_results

PUBLISHED = "MNIST-test (10,000): NMI 0.915 (the paper), ACC 0.961 (DEPICT's table)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--split", default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs-per-period", type=int, default=20)
    parser.add_argument("--eta", type=float, default=0.9)
    parser.add_argument("--image-size", type=int, default=0, help="resize the images to this side first (0: as is)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="JULE parameters of the JULE row (e.g. dampening=0 gamma=2 batches=clusters)")
    parser.add_argument("--no-baselines", action="store_true", help="only the JULE row")
    parser.add_argument("--tag", default="", help="suffix of the results files")
    args = parser.parse_args(argv)
    from sklearn.cluster import KMeans

    from deepclust import load_dataset
    from deepclust.deep import JULE
    from deepclust.metrics import external_scores

    X, y = load_dataset(args.dataset, split=args.split)
    if args.image_size:
        from deepclust.features._attention import resize_uint8

        X = resize_uint8(X, args.image_size)  # colour sets ship at 224 px: JULE's CNN is MNIST-sized
    k = len(np.unique(y))
    rows = []
    overrides = dict(_parse_setting(text) for text in args.set)
    for seed in args.seeds:
        runs = [("JULE", dict(epochs_per_period=args.epochs_per_period, **overrides))]
        if not args.no_baselines:
            t = time.perf_counter()
            pixels = KMeans(k, n_init=10, random_state=seed).fit_predict(X.reshape(len(X), -1) / 255.0)
            rows.append({"method": "k-means on pixels", "seed": seed, **external_scores(y, pixels),
                         "wall_s": round(time.perf_counter() - t, 1)})
            runs.insert(0, ("JULE's agglomeration alone, on pixels (no CNN)", dict(epochs_per_period=0)))
        for name, extra in runs:
            params = dict(eta=args.eta, random_state=seed, **extra)
            t = time.perf_counter()
            model = JULE(k, verbose=True, **params).fit(X, y)
            rows.append({"method": name, "seed": seed, **external_scores(y, model.labels_),
                         "wall_s": round(time.perf_counter() - t, 1), "params": params,
                         "largest_cluster_share": round(float(np.bincount(model.labels_).max() / len(X)), 3),
                         "history": model.history_, "partitions": _partitions(model)})
            print({k_: v for k_, v in rows[-1].items() if k_ != "history"}, flush=True)
    payload = {"command": command_line("benchmarks.archive.jule"),
               "date": dt.datetime.now().isoformat(timespec="seconds"),
               "dataset": args.dataset, "split": args.split, "n_images": len(X), "machine": machine(),
               "peak_rss_mb": round(peak_rss_mb()), "published": PUBLISHED, "rows": rows}
    payload["image_size"] = args.image_size or None
    name = f"jule_{args.dataset}{'_' + args.tag if args.tag else ''}"
    js, md = write_results(name, payload, table(payload))
    print(f"written {js} and {md}")
    return 0


def table(payload: dict) -> str:
    """The markdown table of a results payload (``python -c`` can re-render an old JSON with it)."""
    rows = payload["rows"]
    params = next((r["params"] for r in rows if r["method"] == "JULE"), {})
    size = f" at {payload['image_size']} px" if payload.get("image_size") else ""
    lines = [f"JULE on {payload['dataset']} ({payload['n_images']:,} images{size}), "
             f"{params.get('epochs_per_period', 20)} CNN epochs per period, η = {params.get('eta', 0.9)}; "
             f"published: {PUBLISHED}. Reproduce: `{payload['command']}`", "",
             "| method | settings | seed | ACC | NMI | ARI | labels from | recurrent partition ACC / NMI | "
             "silhouette final / recurrent | largest cluster | wall s | clusters per period |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        h = r.get("history", {})
        periods = " → ".join(str(c) for c in [h["clusters_before"][0], *h["clusters_after"]]) if h else "—"
        recurrent = f"{h['recurrent']['acc']:.3f} / {h['recurrent']['nmi']:.3f}" if "recurrent" in h else "—"
        settings = ", ".join(f"{key}={v}" for key, v in r.get("params", {}).items()
                             if key not in ("random_state", "eta", "epochs_per_period")) or "defaults"
        largest = f"{r['largest_cluster_share']:.0%}" if "largest_cluster_share" in r else "—"
        parts = r.get("partitions")
        silhouettes = (f"{parts['final_pass']['silhouette']:.3f} / {parts['recurrent']['silhouette']:.3f}" if parts
                       else "—")
        lines.append(f"| {r['method']} | {settings} | {r['seed']} | {r['acc']:.3f} | {r['nmi']:.3f} | {r['ari']:.3f} | "
                     f"{h.get('labels_from', '—')} | {recurrent} | {silhouettes} | {largest} | {r['wall_s']} | "
                     f"{periods} |")
    return "\n".join(lines) + "\n"


def _partitions(model) -> dict:
    """Label-free scores of the final pass and the recurrent partition on the trained network's features (what
    ``labels_from="auto"`` chooses by): the largest cluster's share and the internal scores."""
    from deepclust.metrics import internal_scores

    out = {}
    for key, labels in (("final_pass", model.final_labels_), ("recurrent", model.recurrent_labels_)):
        out[key] = {"largest_share": round(float(np.bincount(labels).max() / len(labels)), 3),
                    **{m: round(float(v), 4) for m, v in internal_scores(model.embedding_, labels,
                                                                         sample_size=3000).items()}}
    print(out, flush=True)
    return out


def _parse_setting(text: str) -> tuple[str, object]:
    """``name=value`` with the value read as an int, a float or else a string."""
    name, _, value = text.partition("=")
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, value


if __name__ == "__main__":
    raise SystemExit(main())
