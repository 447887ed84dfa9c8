"""Consensus over the partitions of different methods (issue "DeepCluster, the consensus ensemble and JULE"): does
a co-association consensus of `--method best`'s SCAN heads (all of them, or the half with the lowest consistency
loss, or the half that agrees most) beat the one head best picks, and the default pipeline? Also the heads' mean
probabilities after aligning each head to the chosen one, and the heads plus the default k-means partition.

Run:  .venv/bin/python -m benchmarks.archive.heads_consensus --dataset fashion-mnist --split test --seeds 0
Writes benchmarks/results/heads_consensus_<dataset>_<split>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from benchmarks._harness import command_line, machine, peak_rss_mb, write_results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--split", default="test")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    import torch
    from scipy.optimize import linear_sum_assignment
    from sklearn.cluster import KMeans

    from deepclust import cluster_images, load_dataset
    from deepclust.cluster._consensus import average_nmi, membership_matrix, spectral_embedding_of_coassociation
    from deepclust.metrics import external_scores

    X, y = load_dataset(args.dataset, split=args.split)
    k = len(np.unique(y))
    rows = []

    def row(seed, what, labels, wall=None):
        rows.append({"seed": seed, "what": what, **{key: round(float(v), 4) for key, v in
                                                    external_scores(y, labels).items() if key in ("acc", "nmi")},
                     "wall_s": wall})

    def consensus(parts, seed):
        U = spectral_embedding_of_coassociation(membership_matrix(parts), k, random_state=seed)
        return KMeans(k, n_init=10, random_state=seed).fit_predict(U)

    for seed in args.seeds:
        t = time.perf_counter()
        default = cluster_images(X, n_clusters=k, random_state=seed, verbose=False)
        row(seed, "default kmeans pipeline", default.labels, round(time.perf_counter() - t, 1))
        t = time.perf_counter()
        run = cluster_images(X, method="best", n_clusters=k, random_state=seed, verbose=False)
        row(seed, "best (the head with the lowest consistency loss)", run.labels, round(time.perf_counter() - t, 1))
        est = run.estimator
        with torch.no_grad():
            P = est._probabilities(est.embedding_).cpu().numpy()  # (N, heads, K)
        parts = P.argmax(2).T
        for h, p in enumerate(parts):
            row(seed, f"head {h} (loss {est.head_losses_[h]:.4f})", p)
        half = len(parts) // 2
        row(seed, "consensus of all heads", consensus(parts, seed))
        row(seed, "consensus of the lowest-loss half", consensus(parts[np.argsort(est.head_losses_)[:half]], seed))
        row(seed, "consensus of the most agreeing half", consensus(parts[np.argsort(-average_nmi(parts))[:half]],
                                                                    seed))
        row(seed, "consensus of all heads and the default partition",
            consensus(np.vstack([parts, default.labels[None]]), seed))
        chosen = P[:, est.head_]
        aligned = []
        for h in range(P.shape[1]):
            _, cols = linear_sum_assignment(-(chosen.T @ P[:, h]))
            aligned.append(P[:, h][:, cols])
        row(seed, "mean of the aligned heads' probabilities", np.mean(aligned, 0).argmax(1))
        print(rows[-1], flush=True)
    payload = {"command": command_line("benchmarks.archive.heads_consensus"),
               "date": dt.datetime.now().isoformat(timespec="seconds"),
               "dataset": args.dataset, "split": args.split, "n_images": len(X), "machine": machine(),
               "peak_rss_mb": round(peak_rss_mb()), "rows": rows}
    lines = [f"Consensus of best's heads on {args.dataset} {args.split} ({len(X):,} images)", "",
             "| seed | partition | ACC | NMI | wall s |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['seed']} | {r['what']} | {r['acc']:.3f} | {r['nmi']:.3f} | {r['wall_s'] or ''} |" for r in rows]
    js, md = write_results(f"heads_consensus_{args.dataset}_{args.split}", payload, "\n".join(lines) + "\n")
    print(f"written {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
