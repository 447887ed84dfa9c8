"""DEC and IDEC from one shared pretrained autoencoder, as the IDEC paper compares them (Guo et al. 2017: "the same
pretrained autoencoder as DEC"): per seed the autoencoder is pretrained once with the reference recipe
(``pretrain_optimizer="auto"``: DEC-keras's SGD, lr 1, momentum 0.9, 300 epochs on MNIST-like data), the k-means
start is scored, then DEC and IDEC each run their clustering stage from that start.

    python -m benchmarks.dec_shared_start --dataset fashion-mnist --seeds 0
    python -m benchmarks.dec_shared_start --dataset mnist-5k --seeds 0,1,2 --name dec_shared_start_mnist-5k

Sharing the start halves the cost (pretraining is ~90 % of DEC's time) and isolates the clustering stage: any
difference between the two rows is IDEC's reconstruction term, not a different start. Rows are written after each
seed, so a long run that is stopped keeps its finished seeds; ``--keep-autoencoders DIR`` keeps each
seed's pretrained autoencoder so that a stopped run resumes after its pretraining.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks._harness import (
    command_line,
    machine,
    markdown_table,
    mean_std,
    parser,
    peak_rss_mb,
    scores,
    seeds_of,
    today,
    write_results,
)


def run_seed(X, y, k: int, seed: int, epochs: int | None, max_iter: int, keep: Path | None,
             verbose: bool) -> list[dict]:
    from deepclust.deep import DEC, IDEC

    with tempfile.TemporaryDirectory() as tmp:
        (keep or Path(tmp)).mkdir(parents=True, exist_ok=True)
        ae = (keep or Path(tmp)) / f"autoencoder_seed{seed}_epochs-{epochs or 'recipe'}.pt"  # reused only as asked
        reused = ae.exists()
        t = time.perf_counter()
        dec = DEC(n_clusters=k, random_state=seed, pretrain_epochs=epochs, max_iter=max_iter, verbose=verbose,
                  autoencoder=str(ae) if reused else None).fit(X, y)
        dec_s = time.perf_counter() - t
        if not reused:
            dec.save_autoencoder(ae)
        t = time.perf_counter()
        idec = IDEC(n_clusters=k, random_state=seed, autoencoder=str(ae), max_iter=max_iter, verbose=verbose).fit(X, y)
        idec_s = time.perf_counter() - t
    history = dec.history_
    common = {"seed": seed, "n": len(X), "k": k, "pretraining": getattr(dec, "pretraining_", "reused " + str(ae)),
              "pretrain_final_loss": float(dec.pretrain_history_[-1])}
    rows = [{**common, "method": "autoencoder + k-means (start)",
             **{m: float(history[m][0]) for m in ("acc", "nmi", "ari") if m in history}},
            {**common, "method": "DEC", **scores(y, dec.labels_), "n_iter": int(dec.n_iter_),
             "update_interval": int(dec.update_interval_), "wall_s": round(dec_s, 1),
             "wall_includes_pretraining": not reused},
            {**common, "method": "IDEC", **scores(y, idec.labels_), "n_iter": int(idec.n_iter_),
             "update_interval": int(idec.update_interval_), "wall_s": round(idec_s, 1)}]
    for r in rows:
        r["peak_rss_mb"] = round(peak_rss_mb())
    return rows


def header(payload: dict) -> str:
    m = payload["machine"]
    peak = max(r["peak_rss_mb"] for r in payload["rows"])
    return (f"Reproduce: `{payload['command']}`. Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}; "
            f"peak RSS {peak:,} MB; {payload['date'][:10]}.\n\n")


def table(rows: list[dict], dataset: str) -> str:
    import numpy as np

    body = []
    for method in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == method]
        walls = [r["wall_s"] for r in rs if "wall_s" in r]
        body.append([dataset, method, ", ".join(str(r["seed"]) for r in rs),
                     *(mean_std(rs, key) for key in ("acc", "nmi", "ari")),
                     f"{np.mean(walls):.0f}" if walls else "—", " ".join(f"{r['acc']:.3f}" for r in rs)])
    return markdown_table(["data set", "method", "seeds", "ACC", "NMI", "ARI", "wall s (mean)", "ACC per seed"],
                          body)


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("--dataset", default="fashion-mnist", help="builtin name, optionally NAME:SPLIT")
    p.add_argument("--seeds", nargs="+", default=["0"])
    p.add_argument("--pretrain-epochs", type=int, default=None, help="default: the recipe's (300 with SGD)")
    p.add_argument("--max-iter", type=int, default=20000)
    p.add_argument("--name", default=None, help="results name (default: dec_shared_start_DATASET)")
    p.add_argument("--keep-autoencoders", type=Path, default=None, metavar="DIR",
                   help="save each seed's pretrained autoencoder here, and reuse one already there (resumes a long "
                        "run after its pretraining)")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    from deepclust.datasets import load_dataset

    name, _, split = args.dataset.partition(":")
    X, y = load_dataset(name, split or "all")
    rows: list[dict] = []
    out = args.name or f"dec_shared_start_{args.dataset.replace(':', '-')}"
    for seed in seeds_of(args.seeds):
        rows += run_seed(X, y, int(y.max()) + 1, seed, args.pretrain_epochs, args.max_iter,
                         args.keep_autoencoders, args.verbose)
        payload = {"command": command_line("benchmarks.dec_shared_start", argv), "date": today(),
                   "machine": machine(), "dataset": args.dataset, "rows": rows}
        write_results(out, payload, header(payload) + table(rows, args.dataset))
        print(table(rows, args.dataset), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
