"""Where `--method best`'s seed spread comes from (issue "`--method best` must be the best on every data set and
every seed"): the start partition of one seed is held fixed and only the heads' training seed changes. Per training
seed: the chosen head's ACC and consistency loss, and the ACC of the runs' probabilities averaged so far without
aligning their clusters. Labels only score.

Run:  .venv/bin/python -m benchmarks.archive.best_seed_spread --row mnist-5k --start-seed 2 --seeds 0 1 2 3
Writes benchmarks/results/best_seed_spread_<row>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile

import numpy as np

from benchmarks._harness import machine, write_results
from benchmarks.best_panel import ROWS, images


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", default="mnist-5k", help=f"one of: {', '.join(r for r in ROWS if not ROWS[r][4])}")
    parser.add_argument("--start-seed", type=int, default=2, help="seed of the default partition the heads start from")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3], help="training seeds")
    args = parser.parse_args(argv)
    from deepclust import extract_views
    from deepclust.cluster import SCAN, FeatureClustering
    from deepclust.metrics import external_scores

    class HeldStart(SCAN):
        """SCAN whose heads start from a partition given beforehand, whatever ``random_state`` says."""

        start = None

        def _init_labels(self, view):
            return self.start

    command = " ".join(["python", "-m", "benchmarks.archive.best_seed_spread",
                        *(argv if argv is not None else sys.argv[1:])])
    X, y = images(args.row)
    k = len(np.unique(y))
    with tempfile.TemporaryDirectory() as cache:
        views, _ = extract_views(X, cache_dir=cache, verbose=False)
    start = FeatureClustering(k, random_state=args.start_seed).fit(views[0]).labels_
    runs, probabilities = [], []
    for seed in args.seeds:
        model = HeldStart(k, random_state=seed)
        model.start = start
        model.fit(views)
        probabilities.append(model.probabilities_)
        runs.append({"seed": seed, "acc": round(external_scores(y, model.labels_)["acc"], 4),
                     "loss": round(float(model.head_losses_[model.head_]), 5),
                     "unaligned_mean_acc": round(external_scores(y, np.mean(probabilities, 0).argmax(1))["acc"], 4)})
        print(runs[-1], flush=True)
    start_acc = external_scores(y, start)["acc"]
    payload = {"command": command, "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
               "row": args.row, "start_seed": args.start_seed, "start_acc": round(start_acc, 4), "runs": runs}
    lines = [f"`best` on {ROWS[args.row][0]} with the start partition of seed {args.start_seed} held fixed "
             f"(its ACC {start_acc:.3f}), {dt.date.today()}. Reproduce: `{command}`", "",
             "| training seed | ACC | consistency loss of the chosen head | ACC of the runs so far, probabilities "
             "averaged unaligned |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['seed']} | {r['acc']:.3f} | {r['loss']:.4f} | {r['unaligned_mean_acc']:.3f} |" for r in runs]
    write_results(f"best_seed_spread_{args.row}", payload, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
