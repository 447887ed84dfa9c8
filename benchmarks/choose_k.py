"""How well deepclust chooses k without labels (issue "What a new user hits first", point 8).

For each data set the default pipeline runs without a number of clusters (EfficientNet-Lite0 features, L2, PCA 50,
UMAP 10; k-means; k in 2..20 chosen on a sample of 5,000), and the table shows the k that each criterion votes for:
the prediction strength (which decides), the silhouette (the old chooser) and the kNN-graph eigengap. Planted blobs
(64-d, 1,500 points, std 1) go through the same reduction. Also recorded: ACC at the chosen k and the time the choice
took.

Colour sets (``--colour``): the colour panel's emoji (12 kinds), emoji-on-photos (12) and photo-crops (10 photos),
through the same default pipeline; the row also says whether the run flags its k as unsure (the caveat that
reaches the console and the report).

Run:  .venv/bin/python -m benchmarks.choose_k [--seeds 0 1 2]      (about 5 minutes on 2 cores)
      .venv/bin/python -m benchmarks.choose_k --colour --name choose_k_colour
Writes benchmarks/results/choose_k.json and .md (``--name``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

import numpy as np

from benchmarks._harness import machine, write_results

PANEL = [("digits", "all", 10), ("mnist-5k", "all", 10), ("fashion-mnist", "test", 10)]
COLOUR = [("emoji", None, None), ("emoji-on-photos", None, None), ("photo-crops", None, None)]
BLOBS = (3, 5, 20)


def _case(name, true_k, run_fit, seed) -> dict:
    t = time.perf_counter()
    k, sel, acc = run_fit()
    wall = time.perf_counter() - t
    ok = (0.8 * true_k <= k <= 1.2 * true_k) if not name.startswith("blobs") else abs(k - true_k) <= 1
    return {"dataset": name, "true_k": true_k, "seed": seed, "k": k, "runner_up": sel["runner_up"],
            "votes": sel["votes"], "acc": acc, "within_target": ok, "wall_s": round(wall, 1), "note": sel["note"],
            "caveat": sel.get("caveat", "")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--colour", action="store_true", help="the colour panel's sets instead of the grey ones")
    parser.add_argument("--name", default="choose_k", help="results file name under benchmarks/results/")
    args = parser.parse_args(argv)
    from sklearn.datasets import make_blobs

    from benchmarks.colour_panel import load_set
    from deepclust import cluster_images, load_dataset
    from deepclust.cluster import FeatureClustering
    from deepclust.metrics import clustering_accuracy_score

    rows = []
    for seed in args.seeds:
        for name, split, true_k in (COLOUR if args.colour else PANEL):
            X, y = load_set(name) if args.colour else load_dataset(name, split=split)
            true_k = true_k or len(np.unique(y))

            def fit(X=X, y=y, seed=seed):
                run = cluster_images(X, labels_true=y, random_state=seed, verbose=False)
                return run.n_clusters, run.k_selection, run.metrics["acc"]

            rows.append(_case(name, true_k, fit, seed))
            print(rows[-1], flush=True)
        for k in () if args.colour else BLOBS:
            X, y = make_blobs(1500, n_features=64, centers=k, cluster_std=1.0, random_state=k)

            def fit(X=X, y=y, seed=seed):
                model = FeatureClustering(None, random_state=seed).fit(X)
                return (model.n_clusters_, model.k_selection_.to_dict(),
                        clustering_accuracy_score(y, model.labels_))

            rows.append(_case(f"blobs{k}", k, fit, seed))
            print(rows[-1], flush=True)
    command = "python -m benchmarks.choose_k " + " ".join(sys.argv[1:] if argv is None else argv)
    payload = {"command": command.strip(), "date": dt.datetime.now().isoformat(timespec="seconds"),
               "machine": machine(), "rows": rows}
    lines = ["| data set | true k | seed | chosen k (prediction strength) | runner-up | silhouette says | "
             "eigengap says | target met | unsure (caveat) | ACC at chosen k | wall s |", "|" + " --- |" * 11]
    for r in rows:
        v = r["votes"]
        lines.append(f"| {r['dataset']} | {r['true_k']} | {r['seed']} | {r['k']} | {r['runner_up']} | "
                     f"{v['silhouette']} | {v['eigengap']} | {'yes' if r['within_target'] else 'NO'} | "
                     f"{'yes' if r.get('caveat') else 'no'} | {r['acc']:.3f} | {r['wall_s']} |")
    hits = np.mean([r["within_target"] for r in rows])
    table = (f"# Choosing k without labels\n\n`{payload['command']}` on {payload['machine']['cpu']} "
             f"({payload['machine']['cores']} cores), {payload['date']}. Target: within 20 % of the true k (8–12 on "
             f"10 classes), ±1 on the blobs; met on {hits:.0%} of rows.\n\n" + "\n".join(lines) + "\n")
    js, md = write_results(args.name, payload, table)
    print(table)
    print(f"wrote {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
