"""GAPDCEC's embedding layer, three readings, against DCEC at one reduced budget on MNIST-5k.

The paper (Kolla & VenuGopal 2018) has no public code; its follow-up (CGAPDCEC, ICDSMLA 2019) says GAPDCEC's
"last convolution layer feature maps are pooled to build the embedded space". ``GAPDCEC(embedding_layer=...)``:

- ``dense`` (our default): conv3's 128 ReLU maps are averaged, then a dense layer gives the 10-d embedding;
- ``pooled``: no dense layer, conv3 has 10 filters and the average of its ReLU maps is the embedding;
- ``pooled_linear``: as ``pooled`` without the ReLU before the pooling (a linear embedding, as DCEC's).

    python -m benchmarks.gapdcec_variants --variants dcec gapdcec gapdcec:pooled gapdcec:pooled_linear --seeds 0
    python -m benchmarks.gapdcec_variants --variants dcec gapdcec:pooled --seeds 1,2 --append

Each run pretrains its own autoencoder (the networks differ) with the method's defaults except the budget
(``--pretrain-epochs``, ``--max-iter``), on the CPU with ``--threads`` torch threads. Rows are written after each
run; ``--append`` keeps the rows already in the results file (a row of the same variant, seed and budget is
replaced). "start" is the ACC/NMI of k-means on the pretrained embedding, before the clustering stage; "embedding
dims used" counts the embedding's coordinates that vary over the data after training (a dead ReLU map is constant).
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks._harness import (
    RESULTS,
    command_line,
    machine,
    markdown_table,
    parser,
    peak_rss_mb,
    scores,
    seeds_of,
    today,
    write_results,
)


def run_one(X, y, variant: str, seed: int, pretrain_epochs: int, max_iter: int) -> dict:
    from deepclust.methods import get_method

    method, _, layer = variant.partition(":")
    options = {"embedding_layer": layer} if layer else {}
    t = time.perf_counter()
    model = get_method(method).build(10, random_state=seed, device="cpu", pretrain_epochs=pretrain_epochs,
                                     max_iter=max_iter, **options).fit(X, y)
    wall = time.perf_counter() - t
    h = model.history_
    return {"variant": variant, "seed": seed, "pretrain_epochs": pretrain_epochs, "max_iter": max_iter,
            **scores(y, model.labels_), "start_acc": float(h["acc"][0]), "start_nmi": float(h["nmi"][0]),
            "n_iter": int(model.n_iter_), "update_interval": int(model.update_interval_),
            "embedding_dims_used": int((model.embedding_.std(axis=0) > 1e-6).sum()),  # a dead ReLU map is constant
            "pretrain_final_loss": float(model.pretrain_history_[-1]),
            "n_parameters": int(sum(p.numel() for p in model.autoencoder_.parameters())),
            "wall_s": round(wall, 1), "peak_rss_mb": round(peak_rss_mb())}


def table(rows: list[dict]) -> str:
    body = [[f"`{r['variant']}`", f"{r['pretrain_epochs']} / {r['max_iter']}", r["seed"], f"{r['acc']:.3f}",
             f"{r['nmi']:.3f}", f"{r['ari']:.3f}", f"{r['start_acc']:.3f} / {r['start_nmi']:.3f}", r["n_iter"],
             r.get("embedding_dims_used", "not recorded"), f"{r['pretrain_final_loss']:.4f}", f"{r['n_parameters']:,}",
             f"{r['wall_s']:.0f}"] for r in rows]
    return markdown_table(["method", "pretrain epochs / max_iter", "seed", "ACC", "NMI", "ARI", "start ACC / NMI",
                           "iterations", "embedding dims used", "final pretrain MSE", "parameters", "wall s"], body)


def header(payload: dict) -> str:
    m = payload["machine"]
    commands = "; ".join(f"`{c}`" for c in payload.get("commands", [payload["command"]]))
    return (f"Reproduce (the rows come from these commands, in order; a later row of the same method, seed and "
            f"budget replaces an earlier one): {commands}. Data: MNIST-5k (`load_dataset(\"mnist-5k\")`, 5,000 "
            f"images, 10 classes). Machine: {m['cpu']}, {m['cores']} cores shared with other jobs, "
            f"{m['torch_threads']} torch thread, torch {m['torch']}; {payload['date'][:10]}.\n\n")


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("--variants", nargs="+", default=["dcec", "gapdcec", "gapdcec:pooled", "gapdcec:pooled_linear"],
                   help="METHOD or gapdcec:EMBEDDING_LAYER")
    p.add_argument("--seeds", nargs="+", default=["0"])
    p.add_argument("--pretrain-epochs", type=int, default=50)
    p.add_argument("--max-iter", type=int, default=1500)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--name", default="gapdcec_variants")
    p.add_argument("--append", action="store_true", help="keep the rows already in results/NAME.json")
    args = p.parse_args(argv)
    import torch

    from deepclust.datasets import load_dataset

    torch.set_num_threads(args.threads)
    X, y = load_dataset("mnist-5k")
    rows: list[dict] = []
    commands = [command_line("benchmarks.gapdcec_variants", argv)]
    old = RESULTS / f"{args.name}.json"
    if args.append and old.exists():
        saved = json.loads(old.read_text())
        rows, commands = saved["rows"], saved.get("commands", [saved["command"]]) + commands
    for seed in seeds_of(args.seeds):
        for variant in args.variants:
            row = run_one(X, y, variant, seed, args.pretrain_epochs, args.max_iter)
            row["command"] = commands[-1]
            key = (variant, seed, args.pretrain_epochs, args.max_iter)
            rows = [r for r in rows if (r["variant"], r["seed"], r["pretrain_epochs"], r["max_iter"]) != key]
            rows.append(row)
            payload = {"command": commands[-1], "commands": commands, "date": today(), "machine": machine(),
                       "dataset": "mnist-5k", "rows": rows}
            write_results(args.name, payload, header(payload) + table(rows))
            print(table([row]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
