"""The density method (issue 55, part 5): ``--method hdbscan`` — HDBSCAN on the default reduction of the CNN
features (EfficientNet-Lite0 pooled, L2, PCA 50, UMAP 10) — on builtin sets, against k-means told the true k.

For each set and seed: the clusters HDBSCAN finds, the share of images it leaves in no cluster (label -1), ACC, NMI
and ARI of the images in clusters (as the run scores them), ACC over all images with those in no cluster counted
wrong, and the time of the clustering (reduction + HDBSCAN; the features come from the cache when it holds them,
so "total" is the whole ``cluster_images`` call). Rows with the paper's ``cluster_selection_method="eom"`` and
k-means at the true k (the default method) on the same features give the context.

A second table is the grid the defaults were chosen from (the selection, ``min_cluster_size`` as a share of the
images, ``min_samples``), fitted on each run's reduced features (HDBSCAN alone: the reduction is the run's).

Run:  .venv/bin/python -m benchmarks.hdbscan [--datasets digits fashion-mnist:10000] [--seeds 0 1]
      (about 10 minutes on 2 cores once the features are cached; a set NAME:N clusters a random N of it)
Writes benchmarks/results/hdbscan.json and .md.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks._harness import command_line, finish, markdown_table, parser

DATASETS = ["digits", "mnist-5k", "emoji", "fashion-mnist:10000"]
#: The grid of the second table: how clusters are selected, min_cluster_size as a share of the images (at least 5),
#: and min_samples.
SELECTIONS = ("leaf", "eom")
SHARES = (0.01, 0.02, 0.03, 0.05)
MIN_SAMPLES = (5, 10, None)


def _scores(labels_true, labels) -> dict:
    from deepclust.metrics import external_scores

    out = labels == -1
    k = int(len(np.unique(labels[~out])))
    scores = external_scores(labels_true, labels)
    share = float(out.mean())
    return {"k": k, "unclustered": round(share, 4), "acc": round(scores["acc"], 4), "nmi": round(scores["nmi"], 4),
            "ari": round(scores["ari"], 4), "purity": round(scores["purity"], 4),
            "acc_all": round(scores["acc"] * (1 - share), 4)}


def _run(name: str, limit: int | None, seed: int, method: str, **options) -> tuple[dict, object]:
    from deepclust import cluster_images
    from deepclust.datasets import open_dataset

    t = time.perf_counter()
    run = cluster_images(open_dataset(name), method=method, limit=limit, random_state=seed, verbose=False, **options)
    wall = time.perf_counter() - t
    label = method + "".join(f" {k}={v}" for k, v in options.items() if k != "n_clusters")
    row = {"dataset": name, "n": len(run.paths), "seed": seed, "method": label,
           **_scores(np.asarray(run.labels_true), np.asarray(run.labels)),
           "cluster_s": round(run.timings["cluster"], 1), "total_s": round(wall, 1)}
    return row, run


def _grid(name: str, seed: int, embedding, labels_true) -> list[dict]:
    from sklearn.cluster import HDBSCAN

    from deepclust.cluster import DensityClustering, default_min_cluster_size

    defaults = DensityClustering().get_params()
    rows = []
    for selection in SELECTIONS:
        for share in SHARES:
            size = max(5, int(round(share * len(embedding))))
            for min_samples in MIN_SAMPLES:
                t = time.perf_counter()
                labels = HDBSCAN(min_cluster_size=size, min_samples=min_samples, cluster_selection_method=selection,
                                 copy=True).fit_predict(embedding)
                default = (size == default_min_cluster_size(len(embedding)) and min_samples == defaults["min_samples"]
                           and selection == defaults["cluster_selection_method"])
                rows.append({"dataset": name, "seed": seed, "selection": selection, "share": share,
                             "min_cluster_size": size, "min_samples": min_samples, "default": default,
                             **_scores(labels_true, np.asarray(labels)),
                             "hdbscan_s": round(time.perf_counter() - t, 2)})
    return rows


def _grid_summary(grid: list[dict], true_k: dict) -> list[list]:
    """One line per setting of the grid over every set and seed: the clusters found per set, the share in no
    cluster, purity of the clustered, ACC over all, and how many runs collapsed (at most half the classes)."""
    settings: dict = {}
    for g in grid:
        settings.setdefault((g["selection"], g["share"], g["min_samples"]), []).append(g)
    lines = []
    for (selection, share, min_samples), rows in settings.items():
        found = "; ".join(f"{name} {', '.join(str(r['k']) for r in rows if r['dataset'] == name)}"
                          for name in dict.fromkeys(r["dataset"] for r in rows))
        collapsed = sum(r["k"] <= true_k[r["dataset"]] // 2 for r in rows)
        lines.append([selection, f"{share:.0%}", "None (= size)" if min_samples is None else min_samples, found,
                      f"{min(r['unclustered'] for r in rows):.0%}–{max(r['unclustered'] for r in rows):.0%}",
                      f"{np.mean([r['purity'] for r in rows]):.3f}", f"{np.mean([r['acc_all'] for r in rows]):.3f}",
                      f"{collapsed} of {len(rows)}", "yes" if rows[0]["default"] else ""])
    return lines


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("--datasets", nargs="+", default=DATASETS, help="builtin sets, NAME or NAME:N (a random N)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--no-grid", action="store_true", help="skip the grid of min_cluster_size and min_samples")
    p.add_argument("--name", default="hdbscan", help="results file name (hdbscan_held_out: the held-out colour "
                                                     "panel, never used to choose the defaults)")
    args = p.parse_args(argv)

    rows, grid, true_k = [], [], {}
    for spec in args.datasets:
        name, _, n = spec.partition(":")
        limit = int(n) if n else None
        for seed in args.seeds:
            row, run = _run(name, limit, seed, "hdbscan")
            rows.append(row)
            print(row, flush=True)
            true_k[name] = int(len(np.unique(run.labels_true)))
            if not args.no_grid:
                grid += _grid(name, seed, np.asarray(run.embedding), np.asarray(run.labels_true))
            row, _ = _run(name, limit, seed, "hdbscan", cluster_selection_method="eom")
            rows.append(row)
            print(row, flush=True)
            row, _ = _run(name, limit, seed, "kmeans", n_clusters=true_k[name])
            row["method"] = f"kmeans k={true_k[name]}"
            rows.append(row)
            print(row, flush=True)

    header = ["set", "images", "seed", "method", "clusters", "in no cluster", "ACC (clustered)", "NMI (clustered)",
              "ARI (clustered)", "purity (clustered)", "ACC (all, none = wrong)", "cluster s", "total s"]
    table = markdown_table(header, [[r["dataset"], f"{r['n']:,}", r["seed"], r["method"], r["k"],
                                     f"{r['unclustered']:.1%}", f"{r['acc']:.3f}", f"{r['nmi']:.3f}",
                                     f"{r['ari']:.3f}", f"{r['purity']:.3f}", f"{r['acc_all']:.3f}", r["cluster_s"],
                                     r["total_s"]] for r in rows])
    text = ("# hdbscan: density clustering with images in no cluster\n\n"
            f"Reproduce: `{command_line('benchmarks.hdbscan', argv)}` (machine, date and every row in "
            f"{args.name}.json). "
            "HDBSCAN (scikit-learn) on the default reduction of EfficientNet-Lite0 features; defaults "
            "min_cluster_size = 2 % of the images (at least 5), min_samples = 5, leaf selection (the eom rows: the "
            "paper's selection). Scores of the images in clusters; \"ACC (all)\" counts those in no cluster as "
            "wrong. 2 CPU cores; \"total\" includes extracting the features where the cache did not hold them.\n\n"
            + table)
    if grid:
        text += ("\n## The grid the defaults come from (HDBSCAN on each run's reduced features, every seed)\n\n"
                 "Collapsed: at most half as many clusters as classes.\n\n"
                 + markdown_table(["selection", "min_cluster_size", "min_samples", "clusters found (per set, per seed)",
                                   "in no cluster", "purity (clustered)", "ACC (all)", "collapsed", "default"],
                                  _grid_summary(grid, true_k)))
    return finish(args.name, argv, rows + [{"grid": grid}], text, script="hdbscan")


if __name__ == "__main__":
    raise SystemExit(main())
