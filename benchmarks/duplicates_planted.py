"""Planted duplicates: which copies of a photo the perceptual hash and the CNN cosine find, and what they join wrongly
(issue 38, section 2: at the default cosine 0.99 `deepclust duplicates` missed a quality-60 re-encode and a half-size
copy; at 0.95 it grouped different crops of one photo).

Data: the photos scikit-image ships (``skimage.data``; no download), each saved as PNG with planted copies: JPEG
re-encodes at qualities 90, 75, 60 and 40, half- and quarter-size copies, a half-size copy re-encoded at quality 75,
small crops (3 % and 8 % off every side), brightness ±15 %. Negatives: three different crops (60 % of each side, at
three corners) of four of the photos, which must not be joined with each other; every other pair of different photos
is a negative too. A crop and the photo it was cut from are neither (counted apart).

For each pair the script measures the Hamming distance of the 64-bit pHashes and the cosine similarity of the run's
CNN features (EfficientNet-Lite0 pool, as `deepclust duplicates` reads them), then reports, over a grid of
thresholds, the recall per transform and the false pairs of the hash alone, the cosine alone and both together (a
pair found by either; every image hashed). Last, `find_duplicates` runs end to end at its defaults (which do not
hash images under 64 px: two quarter-size copies), and the hash's false pairs are counted among the 5,000 distinct
digits of MNIST-5k (small grey images: the case that sets that limit).

Run:  .venv/bin/python -m benchmarks.duplicates_planted [--no-mnist]      (about 2 minutes on 2 cores)
Writes benchmarks/results/duplicates_planted.json and .md. No randomness: the transforms and crops are fixed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import machine, peak_rss_mb, write_results

PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "moon",
          "page", "coins", "brick", "grass", "gravel", "colorwheel", "retina", "text", "clock")
CROPPED = ("astronaut", "coffee", "rocket", "hubble_deep_field")
HASH_GRID = (2, 4, 6, 8, 10, 12, 14, 16)
COSINE_GRID = (0.9, 0.95, 0.97, 0.98, 0.99, 0.995)
BOTH_GRID = ((8, 0.99), (10, 0.99), (12, 0.99), (10, 0.995), (10, 0.98))


def _resize(im, factor):
    from PIL import Image

    w, h = im.size
    return im.resize((max(8, round(w * factor)), max(8, round(h * factor))), Image.Resampling.LANCZOS), "png"


def _crop(im, share):
    w, h = im.size
    dx, dy = round(w * share), round(h * share)
    return im.crop((dx, dy, w - dx, h - dy)), "png"


def _brightness(im, factor):
    from PIL import ImageEnhance

    return ImageEnhance.Brightness(im).enhance(factor), "png"


def _jpeg_file(im, quality):
    """Saved straight as JPEG (not re-decoded first), as a camera or messenger would."""
    return im.convert("RGB"), ("jpg", quality)


TRANSFORMS = {
    "jpeg q90": lambda im: _jpeg_file(im, 90),
    "jpeg q75": lambda im: _jpeg_file(im, 75),
    "jpeg q60": lambda im: _jpeg_file(im, 60),
    "jpeg q40": lambda im: _jpeg_file(im, 40),
    "half size": lambda im: _resize(im, 0.5),
    "quarter size": lambda im: _resize(im, 0.25),
    "half size + jpeg q75": lambda im: _jpeg_file(_resize(im, 0.5)[0], 75),
    "crop 3% per side": lambda im: _crop(im, 0.03),
    "crop 8% per side": lambda im: _crop(im, 0.08),
    "brightness +15%": lambda im: _brightness(im, 1.15),
    "brightness -15%": lambda im: _brightness(im, 0.85),
}


def plant(folder: Path) -> list[dict]:
    """Write the photos, their copies and the negative crops; returns one record per file (path, picture, kind)."""
    import skimage.data
    from PIL import Image

    records = []
    for name in PHOTOS:
        a = getattr(skimage.data, name)()
        im = Image.fromarray(a)
        im.save(folder / f"{name}.png")
        records.append({"path": f"{name}.png", "picture": name, "source": name, "kind": "original"})
        for t, (label, make) in enumerate(TRANSFORMS.items()):
            copy, fmt = make(im)
            stem = f"{name}__t{t:02d}"
            if isinstance(fmt, tuple):
                copy.save(folder / f"{stem}.jpg", format="JPEG", quality=fmt[1])
                path = f"{stem}.jpg"
            else:
                copy.save(folder / f"{stem}.png")
                path = f"{stem}.png"
            records.append({"path": path, "picture": name, "source": name, "kind": label})
        if name in CROPPED:
            w, h = im.size
            cw, ch = round(w * 0.6), round(h * 0.6)
            for k, (x, y) in enumerate(((0, 0), (w - cw, 0), (w - cw, h - ch))):
                im.crop((x, y, x + cw, y + ch)).save(folder / f"{name}__crop{k}.png")
                records.append({"path": f"{name}__crop{k}.png", "picture": f"{name}/crop{k}", "source": name,
                                "kind": "crop"})
    return records


def pair_table(records):
    """Every pair (i < j) with its role: ``positive`` (one picture; the transform named), ``negative`` (different
    pictures) or ``crop-original`` (a crop and its photo's copies: neither)."""
    rows = []
    for i, j in itertools.combinations(range(len(records)), 2):
        a, b = records[i], records[j]
        if a["picture"] == b["picture"]:
            kinds = {a["kind"], b["kind"]}
            label = next(iter(kinds - {"original"})) if "original" in kinds else "copy-copy"
            rows.append((i, j, "positive", label))
        elif a["source"] == b["source"] and "crop" in (a["kind"], b["kind"]) and a["kind"] != b["kind"]:
            rows.append((i, j, "crop-original", ""))
        elif a["kind"] == b["kind"] == "crop" and a["source"] == b["source"]:
            rows.append((i, j, "negative", "crops of one photo"))
        else:
            rows.append((i, j, "negative", "different photos"))
    return rows


def evaluate(found, pairs) -> dict:
    """Recall per transform (original–copy pairs found), false pairs among the negatives."""
    recall = {}
    for label in TRANSFORMS:
        hits = [found(i, j) for i, j, role, lab in pairs if role == "positive" and lab == label]
        recall[label] = round(float(np.mean(hits)), 3)
    neg = [(i, j, lab) for i, j, role, lab in pairs if role == "negative"]
    return {"recall": recall, "recall_all": round(float(np.mean(list(recall.values()))), 3),
            "false_pairs": int(sum(found(i, j) for i, j, _ in neg)),
            "false_crop_pairs": int(sum(found(i, j) for i, j, lab in neg if lab == "crops of one photo")),
            "crop_original_joined": int(sum(found(i, j) for i, j, role, _ in pairs if role == "crop-original"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-mnist", action="store_true", help="skip the MNIST-5k false-pair count")
    parser.add_argument("--keep", type=Path, help="write the planted folder here and keep it")
    args = parser.parse_args(argv)

    from deepclust import cluster_images, load_dataset
    from deepclust.assign import feature_space
    from deepclust.explore import (
        COSINE_THRESHOLD,
        HASH_DISTANCE,
        HASH_MIN_SIDE,
        RunFolder,
        find_duplicates,
        perceptual_hashes,
    )
    from deepclust.inputs import Runtime

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dup-planted-"))
    folder = args.keep or work / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        records = plant(folder)
        paths = [r["path"] for r in records]
        run = cluster_images(folder, n_clusters=5, verbose=False, cache_dir=work / "cache", num_workers=0)
        run_dir = run.save(work / "run", map=None)
        opened = RunFolder.open(run_dir)
        order = {r["path"]: k for k, r in enumerate(opened.rows)}
        assert sorted(order) == sorted(paths), "the run did not read every planted file"
        source = opened.source()

        t = time.perf_counter()
        hashes, hashed = perceptual_hashes(source, min_side=0)  # every file: the grid measures the hash
        hash_s = time.perf_counter() - t
        t = time.perf_counter()
        prepared = feature_space(opened.record, source, runtime=Runtime(cache_dir=work / "cache2", verbose=False))
        feature_s = time.perf_counter() - t
        assert len(hashed) == len(prepared.indices) == len(paths)
        rows = [order[p] for p in paths]  # record k -> run row
        H = np.bitwise_count(hashes[:, None] ^ hashes[None, :])[np.ix_(rows, rows)]
        F = prepared.X[rows]
        C = F @ F.T
        pairs = pair_table(records)

        per_transform = {}
        for label in TRANSFORMS:
            sel = [(i, j) for i, j, role, lab in pairs if role == "positive" and lab == label]
            h = np.array([H[i, j] for i, j in sel])
            c = np.array([C[i, j] for i, j in sel])
            per_transform[label] = {"hamming_median": float(np.median(h)), "hamming_max": int(h.max()),
                                    "cosine_median": round(float(np.median(c)), 4),
                                    "cosine_min": round(float(c.min()), 4)}
        negatives = [(i, j, lab) for i, j, role, lab in pairs if role == "negative"]
        neg_info = {lab: {"pairs": sum(1 for *_, la in negatives if la == lab),
                          "hamming_min": int(min(H[i, j] for i, j, la in negatives if la == lab)),
                          "cosine_max": round(float(max(C[i, j] for i, j, la in negatives if la == lab)), 4)}
                    for lab in ("different photos", "crops of one photo")}

        grid = {"hash": {d: evaluate(lambda i, j, d=d: H[i, j] <= d, pairs) for d in HASH_GRID},
                "cosine": {c: evaluate(lambda i, j, c=c: C[i, j] >= c, pairs) for c in COSINE_GRID},
                "both": {f"{d} bits or cosine {c}": evaluate(lambda i, j, d=d, c=c: H[i, j] <= d or C[i, j] >= c,
                                                             pairs) for d, c in BOTH_GRID}}

        t = time.perf_counter()
        groups = find_duplicates(run_dir, cache_dir=work / "cache2")
        e2e_s = time.perf_counter() - t
        group_of = {p: g for g, grp in enumerate(groups) for p in grp.paths}
        index = {r["path"]: k for k, r in enumerate(records)}

        def same_group(i, j):
            a, b = group_of.get(records[i]["path"]), group_of.get(records[j]["path"])
            return a is not None and a == b

        end_to_end = evaluate(same_group, pairs)
        end_to_end.update(n_groups=len(groups), kinds=sorted({g.kind for g in groups}), seconds=round(e2e_s, 2))
        assert all(p in index for g in groups for p in g.paths)

        mnist = None
        if not args.no_mnist:
            X, _ = load_dataset("mnist-5k")
            t = time.perf_counter()
            mh, _ = perceptual_hashes(X, min_side=0)  # find_duplicates does not hash them (HASH_MIN_SIDE)
            D = np.bitwise_count(mh[:, None] ^ mh[None, :])
            upper = D[np.triu_indices(len(mh), 1)]
            mnist = {"images": len(mh), "pairs": int(len(upper)), "seconds": round(time.perf_counter() - t, 2),
                     "pairs_within": {d: int((upper <= d).sum()) for d in HASH_GRID}}
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    payload = {
        "command": "python " + " ".join(["-m", "benchmarks.duplicates_planted", *(argv or sys.argv[1:])]),
        "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(), "seed": None,
        "data": {"photos": list(PHOTOS), "transforms": list(TRANSFORMS), "cropped": list(CROPPED),
                 "files": len(records), "negative_pairs": {k: v["pairs"] for k, v in neg_info.items()}},
        "defaults": {"hash_distance": HASH_DISTANCE, "cosine_threshold": COSINE_THRESHOLD,
                     "hash_min_side": HASH_MIN_SIDE},
        "per_transform": per_transform, "negatives": neg_info, "grid": grid, "end_to_end": end_to_end,
        "mnist_5k_hash": mnist, "seconds": {"hash": round(hash_s, 2), "features": round(feature_s, 2),
                                           "total": round(time.perf_counter() - started, 1)},
        "peak_memory_mb": round(peak_rss_mb(), 1),
    }
    js, md = write_results("duplicates_planted", payload, _markdown(payload))
    print(md.read_text())
    print(f"written: {js} and {md}")
    return 0


def _markdown(p: dict) -> str:
    m = p["machine"]
    lines = [
        "# Planted duplicates: perceptual hash and CNN cosine",
        "",
        f"`{p['command']}` on {m['cpu']} ({m['cores']} cores, {m['memory_gb']} GB), {p['date']}; "
        f"{p['seconds']['total']} s in all, peak memory {p['peak_memory_mb']:.0f} MB. Seed: none (fixed "
        f"transforms and crops).",
        "",
        f"Data: {len(p['data']['photos'])} photos of `skimage.data` ({', '.join(p['data']['photos'])}), each with "
        f"{len(p['data']['transforms'])} planted copies; 3 different crops (60 % of each side) of "
        f"{', '.join(p['data']['cropped'])} as negatives: {p['data']['files']} files. Hashes: "
        f"{p['seconds']['hash']} s; CNN features (EfficientNet-Lite0 pool, extracted): {p['seconds']['features']} s.",
        "",
        "## What each copy measures (original against copy)",
        "",
        "| transform | Hamming median | Hamming max | cosine median | cosine min |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, v in p["per_transform"].items():
        lines.append(f"| {label} | {v['hamming_median']:g} | {v['hamming_max']} | {v['cosine_median']} | "
                     f"{v['cosine_min']} |")
    lines += ["", "| negative pairs | pairs | smallest Hamming | largest cosine |", "| --- | --- | --- | --- |"]
    for label, v in p["negatives"].items():
        lines.append(f"| {label} | {v['pairs']} | {v['hamming_min']} | {v['cosine_max']} |")
    labels = list(p["per_transform"])
    head = "| detector | threshold | " + " | ".join(labels) + " | mean recall | false pairs | of which crops |"
    lines += ["", "## Recall per transform and false pairs", "", head,
              "| " + " | ".join(["---"] * (len(labels) + 5)) + " |"]
    for detector, rows in p["grid"].items():
        for threshold, v in rows.items():
            shown = f"≤ {threshold} bits" if detector == "hash" else f"≥ {threshold}" if detector == "cosine" \
                else threshold
            lines.append(f"| {detector} | {shown} | " + " | ".join(f"{v['recall'][k]:.2f}" for k in labels)
                         + f" | {v['recall_all']:.2f} | {v['false_pairs']} | {v['false_crop_pairs']} |")
    e = p["end_to_end"]
    d = p["defaults"]
    nearest = min(v["hamming_min"] for v in p["negatives"].values())
    copies = max(v["hamming_max"] for k, v in p["per_transform"].items() if not k.startswith("crop"))
    lines += ["", f"Defaults chosen from this table: the hash within {d['hash_distance']} bits finds every re-encode, "
                  f"resize and brightness change (at most {copies} bits apart) and stays {nearest - d['hash_distance']}"
                  f" bits below the nearest different picture ({nearest} bits); the cosine stays at "
                  f"{d['cosine_threshold']}: different crops of one photo reach "
                  f"{p['negatives']['crops of one photo']['cosine_max']}, and what a lower cosine adds to the hash "
                  f"is a few small crops."]
    lines += ["", f"## `find_duplicates` at its defaults (hash ≤ {d['hash_distance']} bits or cosine ≥ "
                  f"{d['cosine_threshold']})", "",
              f"{e['n_groups']} groups ({', '.join(e['kinds'])}), {e['seconds']} s. Pairs in one group: mean "
              f"recall {e['recall_all']:.2f}; false pairs {e['false_pairs']} (crops of one photo: "
              f"{e['false_crop_pairs']}); a crop joined with its photo: {e['crop_original_joined']} pairs.", "",
              "| " + " | ".join(labels) + " |", "| " + " | ".join(["---"] * len(labels)) + " |",
              "| " + " | ".join(f"{e['recall'][k]:.2f}" for k in labels) + " |"]
    if p["mnist_5k_hash"]:
        mn = p["mnist_5k_hash"]
        within = mn["pairs_within"]
        lines += ["", f"## Hash pairs among {mn['images']:,} distinct MNIST-5k digits ({mn['pairs']:,} pairs, "
                      f"{mn['seconds']} s)", "",
                  f"Why images under {d['hash_min_side']} px are not hashed by `find_duplicates`: the hash of a "
                  f"small grey image is mostly its silhouette.", "",
                  "| within bits | " + " | ".join(str(k) for k in within) + " |",
                  "| " + " | ".join(["---"] * (len(within) + 1)) + " |",
                  "| pairs | " + " | ".join(str(v) for v in within.values()) + " |"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
