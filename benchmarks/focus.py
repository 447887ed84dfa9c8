"""Object focus (``--focus object``): how well each saliency variant finds the object, what it costs, and what it
does to the default clustering.

Sets (built offline by ``deepclust.datasets._synthetic``, with the true object masks):
  emoji-on-photos  ~600 emoji of 12 kinds of things pasted onto crops of the shipped photographs (objects on clutter)
  emoji            the same emoji on white (focus must not hurt where there is no clutter)
Held out (``deepclust.datasets._held_out``; measured, never chosen on): icons-on-photos (780 textured desktop icons
of 7 kinds on crops of other photographs), icons and emojione (on white).

Variants: saliency ``spectral`` (deep spectral split of the stage-4 map), ``cam`` (class-agnostic CAM over the top
five ImageNet classes) or ``norm`` (channel norm of the last stage), each with and without GrabCut; the crop's
background outside the found mask set to grey (the default), or kept (``+keep``). For each: the
mean IoU of the found mask with the true mask, the IoU of the found mask's bounding box with the true one, the
share of the object inside the crop, the time per image (saliency network, maps, GrabCut), and the default
clustering (L2, PCA 50, UMAP 10, k-means; ``FeatureClustering``) of EfficientNet-Lite0 features of the crops: ACC
and NMI, beside the same without focus. Chance ACC for 12 classes is about 0.13 (the largest class's share).

    python -m benchmarks.focus
    python -m benchmarks.focus --limit 120 --sets emoji-on-photos   # a quick look
    python -m benchmarks.focus --sets icons-on-photos icons emojione --name focus_held_out
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
    today,
    versions,
    write_results,
)

SETS = ("emoji-on-photos", "emoji")
#: The held-out panel's sets with masks (benchmarks/README.md#the-held-out-colour-panel): reported, never chosen on.
HELD_OUT = ("icons-on-photos", "icons", "emojione")
VARIANTS = tuple(f"{s}{'+grabcut' if g else ''}" for s in ("spectral", "cam", "norm") for g in (False, True))
DEFAULT = "spectral+grabcut"
#: Variants clustered by default (each costs an extraction and a clustering); ``+keep``: the crop keeps its
#: background (no fill), to show what the fill adds.
CLUSTERED = ("spectral", "spectral+grabcut", "cam+grabcut", "norm+grabcut", "spectral+grabcut+keep")


def load_set(name: str, limit: int | None):
    from deepclust.datasets._held_out import load_emojione, load_icons, load_icons_on_photos
    from deepclust.datasets._synthetic import load_emoji, load_emoji_on_photos

    loaders = {"emoji-on-photos": load_emoji_on_photos, "emoji": load_emoji, "icons-on-photos": load_icons_on_photos,
               "icons": load_icons, "emojione": load_emojione}
    X, y, masks = loaders[name](return_masks=True)
    if limit is not None and limit < len(y):
        keep = np.sort(np.random.RandomState(0).choice(len(y), limit, replace=False))
        X, y, masks = X[keep], y[keep], masks[keep]
    return X, y, masks


def focus_of(variant: str):
    from deepclust.features import ObjectFocus

    saliency, *rest = variant.split("+")
    return ObjectFocus(saliency=saliency, grabcut="grabcut" in rest, fill=None if "keep" in rest else 128)


def box_of(mask: np.ndarray):
    ys, xs = np.nonzero(mask)
    return (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1) if len(ys) else (0, 0, *mask.shape)


def box_iou(a, b) -> float:
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def locate_timed(focus, X, batch: int = 32):
    """The regions of ``X`` and the seconds spent on the saliency maps and on the rest (thresholds, GrabCut)."""
    from deepclust.features import FocusRegions

    focus.locate(X[:2])  # load the network before timing
    maps_s = rest_s = 0.0
    parts = []
    for a in range(0, len(X), batch):
        t = time.perf_counter()
        maps = focus.saliency_maps(X[a:a + batch])
        maps_s += time.perf_counter() - t
        t = time.perf_counter()
        parts.append(focus.regions(X[a:a + batch], maps))
        rest_s += time.perf_counter() - t
    regions = FocusRegions(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("masks", "boxes", "saliency")))
    return regions, maps_s, rest_s


def quality(regions, masks) -> dict:
    inter = (regions.masks & masks).sum(axis=(1, 2))
    mask_iou = inter / (regions.masks | masks).sum(axis=(1, 2))
    box = [box_iou(box_of(f), box_of(t)) for f, t in zip(regions.masks, masks)]
    inside = [m[t:t + h, x:x + w].sum() / max(1, m.sum()) for m, (t, x, h, w) in zip(masks, regions.boxes)]
    return {"mask_iou": float(mask_iou.mean()), "box_iou": float(np.mean(box)),
            "object_in_crop": float(np.mean(inside)),
            "crop_share": float(np.mean([h * w for _, _, h, w in regions.boxes]) / masks[0].size)}


def clustering(X, y, extractor) -> dict:
    from deepclust.cluster import FeatureClustering

    F = np.concatenate([extractor(X[a:a + 64]) for a in range(0, len(X), 64)])
    labels = FeatureClustering(n_clusters=len(np.unique(y)), random_state=0).fit(F).labels_
    s = scores(y, labels)
    return {"acc": s["acc"], "nmi": s["nmi"]}


def table(rows: list[dict]) -> str:
    header = ["set", "focus", "mask IoU", "box IoU", "object in crop", "crop / image", "ms per image (maps + rest)",
              "ACC", "NMI"]
    out = []
    for r in rows:
        q = {k: f"{v:.3f}" for k, v in r.get("quality", {}).items()}
        fmt = q.get
        ms = f"{r['ms_per_image']:.0f} ({r['ms_maps']:.0f} + {r['ms_rest']:.0f})" if "ms_per_image" in r else ""
        c = r.get("clustering")
        out.append([r["set"], r["focus"], fmt("mask_iou", ""), fmt("box_iou", ""), fmt("object_in_crop", ""),
                    fmt("crop_share", ""),
                    ms, f"{c['acc']:.3f}" if c else "", f"{c['nmi']:.3f}" if c else ""])
    return markdown_table(header, out)


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS + HELD_OUT)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS,
                   help="variants located on emoji-on-photos (emoji on white: the default only)")
    p.add_argument("--clustered", nargs="+", default=list(CLUSTERED),
                   help="variants also clustered (VARIANT or VARIANT+keep); 'none' is always clustered")
    p.add_argument("--no-clustering", action="store_true", help="only the masks and the time")
    p.add_argument("--limit", type=int, default=None, help="a random subset of each set (seed 0)")
    p.add_argument("--name", default="focus", help="results file name under benchmarks/results/")
    args = p.parse_args(argv)
    import torch

    from deepclust.features import create_extractor

    extractor = create_extractor("efficientnet_lite0", device="cpu", runtime="torch")
    start, rows = time.perf_counter(), []

    def record(row):
        rows.append(row)
        print(table([row]).splitlines()[-1], flush=True)
        payload = {"command": command_line("benchmarks.focus", argv), "date": today(), "machine": machine(),
                   "versions": versions(), "torch_threads": torch.get_num_threads(), "default": DEFAULT,
                   "rows": rows, "seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak_rss_mb())}
        head = (f"Command: `{payload['command']}`; {payload['seconds']} s, peak {payload['peak_rss_mb']} MB, "
                f"{payload['machine']['cpu']}, {payload['machine']['cores']} cores (shared with other jobs: times "
                f"are upper bounds). Default: {DEFAULT} (crop, background outside the mask set to grey 128; "
                f"`+keep`: the crop keeps its background). Chance ACC for 12 classes ≈ 0.13.\n\n")
        write_results(args.name, payload, head + table(rows))

    for set_name in args.sets:
        X, y, masks = load_set(set_name, args.limit)
        row = {"set": set_name, "focus": "none", "n_images": len(y)}
        if not args.no_clustering:
            row["clustering"] = clustering(X, y, extractor)
        record(row)
        located = {}
        variants = args.variants if set_name.endswith("-on-photos") else [DEFAULT]
        extra = [v for v in args.clustered if v.endswith("+keep") and v.removesuffix("+keep") in variants]
        for variant in [*variants, *extra]:
            base = variant.removesuffix("+keep")
            row = {"set": set_name, "focus": variant, "n_images": len(y)}
            if base not in located:
                located[base] = locate_timed(focus_of(base), X)
            regions, maps_s, rest_s = located[base]
            row.update(quality=quality(regions, masks), ms_maps=1000 * maps_s / len(X),
                       ms_rest=1000 * rest_s / len(X), ms_per_image=1000 * (maps_s + rest_s) / len(X))
            if not args.no_clustering and (variant in args.clustered or variant == DEFAULT):
                row["clustering"] = clustering(focus_of(variant).apply(X, regions), y, extractor)
            record(row)


if __name__ == "__main__":
    main()
