"""The colour panel: how well the default pipeline clusters colour images of things, beside a linear probe on the
same features (what the features know) and k-means on the raw features (the floor the pipeline must beat).

Sets (built offline by ``deepclust.datasets``, see benchmarks/README.md#the-colour-panel):
  emoji            ~600 emoji of 12 kinds of things (Unicode subgroups) on white, 224 px: like colour drawings
  emoji-on-photos  the same emoji pasted onto crops of the shipped photographs: objects on clutter
  photo-crops      400 crops of 10 colour photographs, labelled by photo
  fashion-mnist-2k 2,000 Fashion-MNIST test images (stratified): the grey reference

The held-out panel (``--sets icons icons-on-photos emojione``; no design choice is made on it, see
benchmarks/README.md#the-held-out-colour-panel):
  icons            780 textured desktop icons (Oxygen, GNOME) of 7 icon-theme folders on white, 224 px
  icons-on-photos  the same icons pasted onto crops of MATE's nature photographs
  emojione         540 EmojiOne emoji of 12 other Unicode subgroups on white, 224 px: another style of drawing

Variants are feature recipes (``--variants``; ``default`` is what ``deepclust cluster`` does; ``adapt`` and
``adapt+focus`` are ``--method adapt``'s adapted features, and its own clustering in the default column). For each
set and variant: linear probe (logistic regression, 5-fold, on the L2-normalised features), k-means on the raw features,
the default clustering (L2, PCA 50, UMAP 10, k-means), and with ``--best`` the ``best`` method.

    python -m benchmarks.colour_panel --variants default --seeds 0
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks._harness import (
    command_line,
    machine,
    markdown_table,
    parser,
    peak_rss_mb,
    scores,
    seeds_of,
    today,
    versions,
    write_results,
)

SETS = ("emoji", "emoji-on-photos", "photo-crops", "fashion-mnist-2k")
#: The held-out panel: measured, never chosen on.
HELD_OUT_SETS = ("icons", "icons-on-photos", "emojione")


def load_set(name: str):
    from deepclust.datasets import load_dataset, subset_indices

    if name in HELD_OUT_SETS:
        from deepclust.datasets import _held_out

        loader = {"icons": _held_out.load_icons, "icons-on-photos": _held_out.load_icons_on_photos,
                  "emojione": _held_out.load_emojione}[name]
        return loader()
    if name == "fashion-mnist-2k":
        X, y = load_dataset("fashion-mnist", split="test")
        keep, _ = subset_indices(len(y), 2000, y, 0)
        return X[keep], y[keep]
    return load_dataset(name)


def groups_of(set_name: str, n: int):
    """Which images show the same object: the emoji and icon sets draw each object twice, one after the other."""
    return np.arange(n) // 2 if set_name.startswith(("emoji", "icons")) else None


def features_of(X, variant: str, cache_dir):
    """The features of ``X`` under a feature recipe (see :data:`VARIANTS`)."""
    return VARIANTS[variant](X, cache_dir)


def _extract(X, cache_dir, name="efficientnet_lite0", layer=None, input_size=None, augment=None):
    from deepclust.features import auto_input_size, create_extractor, extract_features, get_extractor_spec

    size = input_size or auto_input_size(get_extractor_spec(name), int(X.shape[1]))
    extractor = create_extractor(name, layer=layer, input_size=size, device="cpu")
    return np.asarray(extract_features(X, extractor, cache_dir=cache_dir, augment=augment, verbose=False).features)


def _flip_mean(X, cache_dir, **kw):
    return (_extract(X, cache_dir, **kw) + _extract(np.ascontiguousarray(X[:, :, ::-1]), cache_dir, **kw)) / 2


def _crops_mean(X, cache_dir, fraction=0.8, **kw):
    """The mean of the features of the image, its mirror and four corner crops (``fraction`` of the side)."""
    n = X.shape[1]
    c = int(round(fraction * n))
    views = [X, X[:, :, ::-1]] + [X[:, a:a + c, b:b + c] for a in (0, n - c) for b in (0, n - c)]
    return np.mean([_extract(np.ascontiguousarray(v), cache_dir, input_size=224, **kw) for v in views], axis=0)


VARIANTS = {
    "default": lambda X, c: _extract(X, c),
    "flip": lambda X, c: _flip_mean(X, c),
    "stage6": lambda X, c: _extract(X, c, layer="stage6"),
    "lite2": lambda X, c: _extract(X, c, name="efficientnet_lite2"),
    "lite1": lambda X, c: _extract(X, c, name="efficientnet_lite1"),
    "stages456": lambda X, c: _extract(X, c, layer="stage4+stage5+stage6"),
    "stage5+pool": lambda X, c: _extract(X, c, layer="stage5+pool"),
    "lite0@320": lambda X, c: _extract(X, c, input_size=320),
    "crops6": lambda X, c: _crops_mean(X, c),
    "focus": lambda X, c: _extract(X, c, augment=_focus()),
}


def _focus():
    from deepclust.features import create_focus

    return create_focus("object", "cpu")


#: Variants that are the ``adapt`` method (its adapted features; its own clustering is the "default" column), with
#: the focus applied to the images first or not.
ADAPTED = {"adapt": None, "adapt+focus": "object"}


def adapted(X, k: int, seed: int, focus, epochs: int):
    """The fitted ``adapt`` estimator on ``X`` (focused first when ``focus``)."""
    from deepclust.deep import AdaptedClustering
    from deepclust.features import create_focus

    if focus:
        X = np.concatenate([create_focus(focus, "cpu")(X[a:a + 64]) for a in range(0, len(X), 64)])
    return AdaptedClustering(k, epochs=epochs, random_state=seed, device="cpu").fit(X)


def linear_probe(F, y, seed: int, groups=None) -> float:
    """Mean 5-fold accuracy of a logistic regression on the L2-normalised, standardised features; ``groups`` keeps
    the copies of one object in one fold (else the probe would be scored on near-duplicates of its training set)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, StandardScaler

    model = make_pipeline(Normalizer(), StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    folds = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
    groups = np.arange(len(y)) if groups is None else groups
    return float(cross_val_score(model, F, y, cv=folds, groups=groups).mean())


def run_row(set_name, X, y, variant, seed, cache_dir, best: bool, adapt_epochs: int = 10) -> dict:
    from sklearn.cluster import KMeans

    from deepclust.cluster import FeatureClustering

    k = len(np.unique(y))
    t = time.perf_counter()
    fitted = adapted(X, k, seed, ADAPTED[variant], adapt_epochs) if variant in ADAPTED else None
    F = fitted.features_ if fitted is not None else features_of(X, variant, cache_dir)
    name = variant if fitted is None or adapt_epochs == 10 else f"{variant}@{adapt_epochs}ep"
    row = {"set": set_name, "variant": name, "seed": seed, "n": len(X), "k": k, "dims": int(F.shape[1]),
           "features_s": round(time.perf_counter() - t, 1),
           "probe_acc": linear_probe(F, y, seed, groups_of(set_name, len(y)))}
    row["kmeans_raw"] = scores(y, KMeans(k, n_init=10, random_state=seed).fit_predict(F))
    t = time.perf_counter()
    if fitted is not None:
        row.update(default=scores(y, fitted.labels_), adapt_epochs=adapt_epochs, timings=fitted.timings_,
                   frozen_probe_acc=linear_probe(fitted.frozen_features_, y, seed, groups_of(set_name, len(y))))
    else:
        row["default"] = scores(y, FeatureClustering(n_clusters=k, random_state=seed).fit(F).labels_)
    row["default_s"] = round(time.perf_counter() - t, 1)
    if best:
        from deepclust import cluster_images

        t = time.perf_counter()
        run = cluster_images(X, method="best", n_clusters=k, labels_true=y, random_state=seed, verbose=False,
                             cache_dir=cache_dir)
        row["best"] = {m: float(run.metrics[m]) for m in ("acc", "nmi", "ari")}
        row["best_s"] = round(time.perf_counter() - t, 1)
    return row


def table(rows: list[dict]) -> str:
    """One line per (set, variant): mean ± std over seeds."""
    header = ["set", "variant", "seeds", "linear probe ACC", "k-means raw ACC", "default ACC", "default NMI",
              "default − probe", "best ACC"]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["set"], r["variant"]), []).append(r)

    def stat(values) -> str:
        v = np.asarray(values, float)
        return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v[0]:.3f}"

    out = []
    for (set_name, variant), rs in groups.items():
        best = [r["best"]["acc"] for r in rs if "best" in r]
        out.append([set_name, variant, len(rs), stat([r["probe_acc"] for r in rs]),
                    stat([r["kmeans_raw"]["acc"] for r in rs]), stat([r["default"]["acc"] for r in rs]),
                    stat([r["default"]["nmi"] for r in rs]),
                    f"{np.mean([r['default']['acc'] - r['probe_acc'] for r in rs]):+.3f}",
                    stat(best) if best else ""])
    return markdown_table(header, out)


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS + HELD_OUT_SETS)
    p.add_argument("--variants", nargs="+", default=["default"], choices=list(VARIANTS) + list(ADAPTED))
    p.add_argument("--adapt-epochs", type=int, nargs="+", default=[10], help="epochs of the adapt variants (each)")
    p.add_argument("--seeds", nargs="+", default=["0"])
    p.add_argument("--best", action="store_true", help="also run --method best (minutes per set)")
    p.add_argument("--cache-dir", default=None, help="feature cache (default: deepclust's)")
    p.add_argument("--name", default="colour_panel", help="results file name under benchmarks/results/")
    args = p.parse_args(argv)
    start, rows = time.perf_counter(), []
    for set_name in args.sets:
        X, y = load_set(set_name)
        runs = [(v, e) for v in args.variants for e in (args.adapt_epochs if v in ADAPTED else [10])]
        for variant, epochs in runs:
            for seed in seeds_of(args.seeds):
                rows.append(run_row(set_name, X, y, variant, seed, args.cache_dir, args.best, epochs))
                r = rows[-1]
                print(f"{set_name:18s} {variant:10s} seed {seed}: probe {r['probe_acc']:.3f}  raw k-means "
                      f"{r['kmeans_raw']['acc']:.3f}  default {r['default']['acc']:.3f}"
                      + (f"  best {r['best']['acc']:.3f}" if "best" in r else ""), flush=True)
                payload = {"command": command_line("benchmarks.colour_panel", argv), "date": today(),
                           "machine": machine(), "versions": versions(), "rows": rows,
                           "seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak_rss_mb())}
                head = (f"Command: `{payload['command']}`; {payload['seconds']} s, peak {payload['peak_rss_mb']} MB, "
                        f"{payload['machine']['cpu']}, {payload['machine']['cores']} cores.\n\n")
                write_results(args.name, payload, head + table(rows))


if __name__ == "__main__":
    main()
