"""Which SCAN heads should `--method best` choose from, and by which label-free criterion? (issue "`--method best`
must be the best on every data set and every seed").

Per row of `best_panel.py` and seed, on the same cached views: ten heads started from the default pipeline's
partition (`SCAN(init="umap-kmeans")`, best's default) and ten from random starts (`init="random"`, SCAN's own).
Each label-free criterion then picks one head of the twenty; the table gives the picked head's ACC (labels only
score), beside the default pipeline's partition, the started heads' choice (what `best` returns today) and the best
of the twenty heads (an oracle, for reference).

Criteria (all lowest-wins): `consistency@20` SCAN's own (−log p·p' over the 20 mined neighbours; what `best` uses),
`consistency@5` the same over the 5 nearest, `mutual` the same over mutual-neighbour pairs only, `confidence` the
negated mean top probability, `default-NMI` the negated NMI with the default partition, `medoid` the negated mean NMI
with the other nineteen heads.

Run:  .venv/bin/python -m benchmarks.archive.best_head_choice --rows mnist-5k-0-4,fm-test-0-4,fm-test --seeds 0 1 2
Writes benchmarks/results/best_head_choice[_TAG].json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile

import numpy as np

from benchmarks._harness import machine, write_results
from benchmarks.best_panel import ROWS, images

CRITERIA = ("consistency@20", "consistency@5", "mutual", "confidence", "default-NMI", "medoid")


def criteria(P, neighbors, init) -> dict[str, np.ndarray]:
    """Every criterion for every head (lower is better). P (N, H, K) probabilities, neighbors (N, M)."""
    from scipy.sparse import csr_matrix
    from sklearn.metrics import normalized_mutual_info_score as nmi

    n, m = neighbors.shape
    rows = np.repeat(np.arange(n), m)
    graph = csr_matrix((np.ones(n * m), (rows, neighbors.ravel())), shape=(n, n))
    mutual = graph.multiply(graph.T).tocoo()

    def consistency(a, b):
        return -np.log(np.clip((P[a] * P[b]).sum(-1), 1e-8, None)).mean(0)

    labels = P.argmax(2).T  # (H, N)
    H = len(labels)
    agreement = np.array([[nmi(labels[g], labels[h]) for h in range(H)] for g in range(H)])
    return {"consistency@20": consistency(rows, neighbors.ravel()),
            "consistency@5": consistency(np.repeat(np.arange(n), 5), neighbors[:, :5].ravel()),
            "mutual": consistency(mutual.row, mutual.col),
            "confidence": -P.max(2).mean(0),
            "default-NMI": -np.array([nmi(init, labels[h]) for h in range(H)]),
            "medoid": -(agreement.sum(1) - 1) / (H - 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="mnist-5k-0-4,fm-test-0-4,fm-test",
                        help=f"comma-separated, of: {', '.join(r for r in ROWS if not ROWS[r][4])}")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)
    from deepclust import extract_views
    from deepclust.cluster import SCAN
    from deepclust.metrics import external_scores

    command = " ".join(["python", "-m", "benchmarks.archive.best_head_choice",
                        *(argv if argv is not None else sys.argv[1:])])
    results = []
    with tempfile.TemporaryDirectory() as cache:
        for row in args.rows.split(","):
            X, y = images(row)
            k = len(np.unique(y))
            views, _ = extract_views(X, cache_dir=cache, verbose=False)
            for seed in args.seeds:
                started = SCAN(k, random_state=seed).fit(views)
                scratch = SCAN(k, init="random", random_state=seed).fit(views)
                P = np.concatenate([m._probabilities(m.embedding_).numpy() for m in (started, scratch)], axis=1)
                acc = np.array([external_scores(y, P[:, h].argmax(1))["acc"] for h in range(P.shape[1])])
                scores = criteria(P, started.neighbors_, started.init_labels_)
                result = {"row": row, "seed": seed, "n": len(y), "k": k,
                          "default": round(external_scores(y, started.init_labels_)["acc"], 4),
                          "started_choice": round(float(acc[started.head_]), 4),
                          "oracle": round(float(acc.max()), 4), "head_acc": acc.round(4).tolist(),
                          "picked": {c: round(float(acc[int(np.argmin(v))]), 4) for c, v in scores.items()}}
                results.append(result)
                print(result, flush=True)
                write(results, command, args.tag)
    return 0


def write(results, command, tag) -> None:
    payload = {"command": command, "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
               "rows": results}
    lines = [f"Label-free choice among 10 started + 10 random-start SCAN heads, {dt.date.today()}: ACC of the head "
             f"each criterion picks. Reproduce: `{command}`", "",
             "| images | seed | default pipeline | `best` today (started heads) | "
             + " | ".join(CRITERIA) + " | best of the 20 heads (oracle) |",
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in CRITERIA) + " | --- |"]
    for r in results:
        lines.append(f"| {ROWS[r['row']][0]} | {r['seed']} | {r['default']:.3f} | {r['started_choice']:.3f} | "
                     + " | ".join(f"{r['picked'][c]:.3f}" for c in CRITERIA) + f" | {r['oracle']:.3f} |")
    write_results("best_head_choice" + (f"_{tag}" if tag else ""), payload, "\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
