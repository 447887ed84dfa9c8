"""Deep Transfer Clustering benchmark (issue "Deep Transfer Clustering with visual attention"): the novel classes'
ACC/NMI/ARI with and without transfer, on the same novel images. Without transfer: k-means on the pretrained
EfficientNet-Lite0 features, the default pipeline, ``best`` and DEC on those features. With transfer: DTC-Baseline
and DTC-TE (``deepclust.deep.DTC``), without attention, with Grad-CAM and with Grad-CAM + GrabCut; and DTC's
estimate of the number of novel classes. Known images come from the train split, novel ones from the test split
(where the data set has both), as ``deepclust discover --dataset NAME --known-classes A-B`` takes them.

Published (DTC paper, Table 2, ResNet-18 trained on the known half): CIFAR-10 5 + 5 novel-class ACC 0.873 (TE),
0.883 (PI); the attention add-on reports +3.08 points. Targets of the issue on Fashion-MNIST: ≥ 0.96 with classes
0–4 known, ≥ 0.90 with 5–9 known; attention ≥ +2 points.

Run:  .venv/bin/python -m benchmarks.dtc --dataset fashion-mnist --known 0-4
      .venv/bin/python -m benchmarks.dtc --dataset fashion-mnist --known 5-9
      .venv/bin/python -m benchmarks.dtc --dataset mnist-5k --known 0-4 --rows baselines dtc estimate
Writes benchmarks/results/dtc_<dataset>_known<range>.json and .md (rewritten after every row).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import RESULTS, command_line, machine, peak_rss_mb, write_results

ROW_GROUPS = ("baselines", "dec", "dtc", "attention", "estimate")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--known", default="0-4", help="known classes, e.g. 0-4 (the others are novel)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=30, help="DTC's clustering epochs (the paper: 100)")
    parser.add_argument("--supervised-epochs", type=int, default=10)
    parser.add_argument("--rows", nargs="+", default=list(ROW_GROUPS), choices=ROW_GROUPS)
    parser.add_argument("--tag", default="", help="suffix of the results files")
    args = parser.parse_args(argv)
    from sklearn.cluster import KMeans

    from deepclust import cluster_images
    from deepclust.cli._discover import parse_classes
    from deepclust.cluster import l2_rows
    from deepclust.datasets import load_transfer_split
    from deepclust.deep import DTC
    from deepclust.features import create_extractor, extract_features
    from deepclust.metrics import external_scores

    X_known, y_known, X_novel, y_novel, how = load_transfer_split(args.dataset, parse_classes(args.known))
    k = len(np.unique(y_novel))
    name = f"dtc_{args.dataset}_known{args.known}{'_' + args.tag if args.tag else ''}"
    command = command_line("benchmarks.dtc")
    rows: list[dict] = []

    def record(row: dict) -> None:
        rows.append(row)
        print({key: v for key, v in row.items() if key != "history"}, flush=True)
        payload = {"command": command, "date": dt.datetime.now().isoformat(timespec="seconds"),
                   "dataset": args.dataset, "known_classes": args.known, "split": how, "n_known": len(X_known),
                   "n_novel": len(X_novel), "k": k, "supervised_epochs": args.supervised_epochs,
                   "epochs": args.epochs, "machine": machine(), "peak_rss_mb": round(peak_rss_mb()), "rows": rows}
        write_results(name, payload, _table(args, how, len(X_known), len(X_novel), rows))

    def since(t: float) -> float:
        return round(time.perf_counter() - t, 1)

    for seed in args.seeds:
        if "baselines" in args.rows:
            t = time.perf_counter()
            model = create_extractor("efficientnet_lite0", input_size=64)
            feats = l2_rows(np.asarray(extract_features(X_novel, model, verbose=False).features))
            labels = KMeans(k, n_init=10, random_state=seed).fit_predict(feats)
            record({"method": "k-means on the pretrained features (L2 rows)", "transfer": False, "seed": seed,
                    **external_scores(y_novel, labels), "wall_s": since(t)})
            others = [("kmeans", "default pipeline (kmeans)", {}), ("best", "best", {})]
            if "dec" in args.rows:
                others.append(("dec", "DEC on the features", {"input": "features"}))
            for method, label, extra in others:
                t = time.perf_counter()
                run = cluster_images(X_novel, method=method, n_clusters=k, labels_true=y_novel, random_state=seed,
                                     verbose=False, **extra)
                record({"method": label, "transfer": False, "seed": seed, **run.metrics, "wall_s": since(t)})
        variants = []
        if "dtc" in args.rows:
            variants += [("baseline", "none"), ("te", "none")]
        if "attention" in args.rows:
            variants += [("te", "gradcam"), ("te", "gradcam+grabcut")]
        for variant, attention in variants:
            t = time.perf_counter()
            dtc = DTC(k, variant=variant, attention=attention, epochs=args.epochs,
                      supervised_epochs=args.supervised_epochs, random_state=seed).fit(
                X_novel, y_novel, X_known=X_known, y_known=y_known)
            wall = since(t)
            if attention != "none":  # the overlays, for the README
                with tempfile.TemporaryDirectory() as tmp:
                    (Path(tmp) / "figures").mkdir()
                    dtc.write_figures(Path(tmp) / "figures")
                    shutil.copy(Path(tmp) / "figures" / "attention.png",
                                RESULTS / f"{name}_{attention.replace('+', '_')}.png")
            scores = external_scores(y_novel, dtc.labels_)
            per_class = {str(c): round(float(_class_recall(y_novel, dtc.labels_, c)), 3) for c in np.unique(y_novel)}
            record({"method": f"DTC-{'Baseline' if variant == 'baseline' else 'TE'}", "attention": attention,
                    "transfer": True, "seed": seed, **scores, "wall_s": wall,
                    "known_heldout_acc": round(dtc.known_accuracy_, 4), "init": dtc.history_.get("init"),
                    "per_class_acc": per_class, "timings": dtc.timings_,
                    "mask_share": round(float(dtc.attention_masks_.mean()), 3) if attention != "none" else None,
                    "cam_threshold": dtc.cam_threshold if attention != "none" else None,
                    "history": dtc.history_})
        if "estimate" in args.rows:
            t = time.perf_counter()
            dtc = DTC(None, epochs=0, warmup_epochs=0, supervised_epochs=args.supervised_epochs,
                      random_state=seed).fit(X_novel, X_known=X_known, y_known=y_known)
            record({"method": "DTC estimate of the number of novel classes", "transfer": True, "seed": seed,
                    "k_true": k, "k_estimated": dtc.n_clusters_, "error": dtc.n_clusters_ - k, "wall_s": since(t),
                    "k_estimate": dtc.k_estimate_})
    return 0


def _class_recall(y, labels, c) -> float:
    """The share of class ``c`` in the cluster the Hungarian match gives it (per-class accuracy)."""
    from scipy.optimize import linear_sum_assignment

    classes, clusters = np.unique(y), np.unique(labels)
    table = np.array([[np.sum((y == a) & (labels == b)) for b in clusters] for a in classes])
    rows, cols = linear_sum_assignment(-table)
    match = dict(zip(classes[rows], clusters[cols]))
    return float(np.mean(labels[y == c] == match[c])) if c in match else 0.0


def _table(args, how, n_known, n_novel, rows) -> str:
    lines = [f"DTC on {args.dataset}: known classes {args.known} ({n_known:,} images), the others novel "
             f"({n_novel:,} images; {how}); EfficientNet-Lite0 at 64 px, its last block stage fine-tuned "
             f"{args.supervised_epochs} epochs; DTC: 10 warm-up + {args.epochs} clustering epochs; 2 CPU cores", "",
             "| method | attention | seed | ACC | NMI | ARI | wall s | k-means start ACC | held-out known ACC |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if "k_estimated" in r:
            lines.append(f"| {r['method']} | — | {r['seed']} | estimate {r['k_estimated']} (true {r['k_true']}, "
                         f"error {r['error']:+d}) | | | {r['wall_s']} | | |")
            continue
        start = f"{r['init']['acc']:.3f}" if r.get("init") else "—"
        known = f"{r['known_heldout_acc']:.3f}" if r.get("known_heldout_acc") is not None else "—"
        attention = r.get("attention", "—")
        if r.get("cam_threshold") is not None:
            attention += f" (threshold {r['cam_threshold']}, mask {r['mask_share']:.0%} of the image)"
        lines.append(f"| {r['method']} | {attention} | {r['seed']} | {r['acc']:.3f} | {r['nmi']:.3f} | "
                     f"{r['ari']:.3f} | {r['wall_s']} | {start} | {known} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
