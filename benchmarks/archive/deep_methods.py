"""Deep embedded clustering benchmark (issue 3): k-means on pixels, DEC, IDEC, DCN, DCEC and GAPDCEC.

DEC, IDEC and DCN share one pretrained fully connected autoencoder per (data set, seed), as the papers do (IDEC
and DCN start from DEC's pretrained network); DCEC and GAPDCEC each pretrain their own convolutional one.
The budgets (pretraining epochs, clustering iterations) are arguments and are written beside every number.
With --augment every method runs as its DEC-DA variant (random shifts and rotations of every training batch).
--optimizer/--learning-rate replace every method's own clustering optimiser (the row names say so); --ae-dir keeps
the pretrained autoencoders, so a second run with another optimiser starts from the same networks.

Run:  .venv/bin/python -m benchmarks.archive.deep_methods --datasets digits,mnist-5k --seeds 0,1,2
      .venv/bin/python -m benchmarks.archive.deep_methods --datasets fashion-mnist --seeds 0 --pretrain-epochs 10 \\
          --maxiter 3000
Writes benchmarks/results/deep_<datasets>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import group_rows, machine, mean_std, peak_rss_mb, write_results

PUBLISHED = {  # (ACC, NMI) from the papers, on MNIST-full unless the data set is named
    ("mnist", "DEC"): (0.843, None), ("mnist", "IDEC"): (0.881, 0.867), ("mnist", "DCN"): (0.830, 0.810),
    ("mnist", "DCEC"): (0.890, 0.885), ("mnist", "GAPDCEC"): (0.8954, 0.8912),
    ("fashion-mnist", "DEC"): (0.62, 0.65), ("fashion-mnist", "N2D"): (0.672, 0.684),
}


def run_one(name, X, y, seed, args, ae_dir: Path) -> dict:
    from deepclust.methods import get_method
    from deepclust.metrics import external_scores

    cls = get_method(name).estimator
    shared = {"dec": "mlp", "idec": "mlp", "dcn": "mlp", "dcec": "dcec", "gapdcec": "gapdcec"}[name]
    ae_path = ae_dir / f"{shared}_{seed}_e{args.pretrain_epochs}{'_da' if args.augment else ''}.pt"
    params = dict(pretrain_epochs=args.pretrain_epochs, max_iter=args.maxiter, augment=args.augment,
                  random_state=seed)
    if args.optimizer:
        params.update(optimizer=args.optimizer, learning_rate=args.learning_rate)
    if ae_path.exists():
        params["autoencoder"] = str(ae_path)
    t = time.perf_counter()
    model = cls(args.n_clusters, **params).fit(X, y)
    wall = time.perf_counter() - t
    if not ae_path.exists():
        model.save_autoencoder(ae_path)
    pre = (model.pretrain_history_ and "autoencoder" not in params)
    h = model.history_
    name = cls.__name__ + ("-DA" if args.augment else "")
    if args.optimizer:
        name += f" ({args.optimizer}, lr {args.learning_rate:g})"
    return {"method": name, "seed": seed, **external_scores(y, model.labels_), "wall_s": round(wall, 1),
            "pretrained_here": bool(pre), "pretrain_epochs": args.pretrain_epochs, "iterations": model.n_iter_,
            "collapsed": bool(h["collapsed"][-1]), "acc_at_init": h["acc"][0] if "acc" in h else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="digits,mnist-5k")
    parser.add_argument("--methods", default="dec,idec,dcn,dcec,gapdcec")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--pretrain-epochs", type=int, default=200)
    parser.add_argument("--max-iter", "--maxiter", dest="maxiter", type=int, default=20000)
    parser.add_argument("--n-clusters", type=int, default=10)
    parser.add_argument("--augment", action="store_true", help="DEC-DA: shift and rotate every training batch")
    parser.add_argument("--optimizer", choices=["sgd", "adam"],
                        help="clustering optimiser for every method (default: each method's own)")
    parser.add_argument("--learning-rate", type=float, default=0.001, help="with --optimizer")
    parser.add_argument("--ae-dir", help="keep the pretrained autoencoders here and reuse those already there")
    parser.add_argument("--tag", default="", help="suffix for the results files")
    parser.add_argument("--from-log", help="rebuild the results files from the JSON lines an earlier run printed")
    args = parser.parse_args()
    argv = sys.argv[1:]
    if "--from-log" in argv:  # the command that produced the numbers, not the one that re-tabulated them
        i = argv.index("--from-log")
        argv = argv[:i] + argv[i + 2:]
    command = "python -m benchmarks.archive.deep_methods " + " ".join(argv)
    tag = args.datasets.replace(",", "_") + (f"_{args.tag}" if args.tag else "")
    started = time.time()
    if args.from_log:
        results = [json.loads(line) for line in Path(args.from_log).read_text().splitlines() if line.startswith("{")]
        _write(tag, results, args, command, started, from_log=True)
        return
    from sklearn.cluster import KMeans

    from deepclust.datasets import load_dataset
    from deepclust.metrics import external_scores

    results = []
    for dataset in args.datasets.split(","):
        X, y = load_dataset(dataset)
        for seed in map(int, args.seeds.split(",")):
            t = time.perf_counter()
            km = KMeans(args.n_clusters, n_init=10, random_state=seed).fit_predict(
                X.reshape(len(X), -1).astype(np.float32))
            results.append({"dataset": dataset, "method": "k-means on pixels", "seed": seed,
                            **external_scores(y, km), "wall_s": round(time.perf_counter() - t, 1)})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                ae_dir = Path(args.ae_dir) / dataset if args.ae_dir else Path(tmp)
                ae_dir.mkdir(parents=True, exist_ok=True)
                for name in args.methods.split(","):
                    results.append({"dataset": dataset, **run_one(name, X, y, seed, args, ae_dir)})
                    print(json.dumps(results[-1]), file=sys.stderr, flush=True)
                    _write(tag, results, args, command, started)  # after each method: a cut run keeps its numbers


def _write(tag, results, args, command, started, from_log: bool = False):
    """Results JSON + markdown; a table rebuilt ``from_log`` sums its runs' wall times and has no peak memory
    (those runs' processes are gone)."""
    total = sum(r["wall_s"] for r in results) if from_log else time.time() - started
    payload = {"command": command, "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
               "budget": {"pretrain_epochs": args.pretrain_epochs, "maxiter": args.maxiter},
               "total_wall_s": round(total, 1), "peak_rss_mb": None if from_log else round(peak_rss_mb()),
               "rebuilt_from_log": from_log, "results": results}
    js, md = write_results(f"deep_{tag}", payload, _table(results, args, command))
    print(f"written: {js} {md}", file=sys.stderr, flush=True)


def _table(results, args, command) -> str:
    lines = [f"Budget: pretraining {args.pretrain_epochs} epochs (paper: 200), at most {args.maxiter} clustering "
             f"iterations (paper: 20000), batch 256. Machine: {machine()['cpu']}, {machine()['cores']} cores. "
             f"Reproduce: `{command}`", "",
             "| data set | method | seeds | ACC | NMI | ARI | wall s (mean) | published ACC / NMI |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (dataset, method), rs in group_rows(results).items():
        def ms(key, rs=rs):
            return mean_std(rs, key)
        paper_method = method.split(" ")[0].removesuffix("-DA")  # "GAPDCEC-DA (adam, lr 0.001)" -> "GAPDCEC"
        pub = PUBLISHED.get(("fashion-mnist" if dataset == "fashion-mnist" else "mnist", paper_method))
        pub_s = "—" if pub is None else f"{pub[0]:.3f} / {pub[1]:.3f}" if pub[1] else f"{pub[0]:.3f} / —"
        if dataset == "digits":
            pub_s = "— (MNIST: " + pub_s + ")" if pub else "—"
        collapsed = sum(r.get("collapsed", False) for r in rs)
        note = f" ({collapsed} collapsed)" if collapsed else ""
        lines.append(f"| {dataset} | {method}{note} | {len(rs)} | {ms('acc')} | {ms('nmi')} | {ms('ari')} | "
                     f"{np.mean([r['wall_s'] for r in rs]):.0f} | {pub_s} |")
    if any("-DA" in r["method"] for r in results):
        lines += ["", "For the -DA rows the published figure is the method's own paper, without augmentation; DEC-DA's "
                  "authors report up to 0.985 / 0.960 on MNIST-70k and 0.586 / 0.636 on Fashion-MNIST (their best "
                  "variant)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
