"""Cluster names on real sets (issue "… named clusters …"): for each cluster of the default pipeline, its majority
class and share, and the ImageNet names deepclust gives it (share and lift), so a reader can judge whether the
words say what the cluster is. A name is counted "right" by hand-free rule only where the set's class has ImageNet
words (the Fashion-MNIST classes that ImageNet has, e.g. sandal, sneaker-like running shoe, jersey for T-shirts).

Run:  .venv/bin/python -m benchmarks.cluster_names [--datasets fashion-mnist emoji] [--limit 2000]
Writes benchmarks/results/cluster_names.json and .md.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks._harness import finish, markdown_table, parser


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("--datasets", nargs="+", default=["fashion-mnist", "emoji", "emoji-on-photos"])
    p.add_argument("--limit", type=int, default=2000, help="images per set (stratified, seed 0)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from deepclust import cluster_images, load_dataset
    from deepclust.datasets import class_names
    from deepclust.features import cluster_label

    rows, results = [], []
    for name in args.datasets:
        split = {"split": "test"} if name == "fashion-mnist" else {}
        X, y = load_dataset(name, **split)
        t = time.perf_counter()
        run = cluster_images(X, n_clusters=len(np.unique(y)), labels_true=y, limit=args.limit,
                             random_state=args.seed, verbose=False)
        wall = round(time.perf_counter() - t, 1)
        classes = class_names(name)
        for c, names in sorted(run.cluster_names.items()):
            members = run.labels_true[run.labels == c]
            values, counts = np.unique(members, return_counts=True)
            top = int(values[counts.argmax()])
            row = {"dataset": name, "cluster": c, "size": int(len(members)),
                   "majority": classes[top] if classes else str(top),
                   "majority_share": round(float(counts.max() / len(members)), 3), "names": names}
            results.append(row)
            rows.append([name, c, row["size"], f"{row['majority']} ({row['majority_share']:.0%})",
                         cluster_label(names), ", ".join(f"{n['lift']:g}" for n in names)])
        results.append({"dataset": name, "acc": run.metrics["acc"], "wall_s": wall})
    table = (f"Cluster names of the default pipeline, seed {args.seed}, {args.limit} images per set; 2 CPU cores\n\n"
             + markdown_table(["set", "cluster", "size", "majority class (share)", "names (share)", "lift"], rows))
    return finish("cluster_names", argv, results, table)


if __name__ == "__main__":
    raise SystemExit(main())
