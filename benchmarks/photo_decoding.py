"""Decoding large images: speed and memory on a folder of 6-megapixel JPEG photos and on a folder of transparent PNG
drawings up to 13,000 × 13,000 pixels (issue 40's targets: ≥ 100 images/s end to end on the photos and ≥ 0.9× the
bare ONNX model in the same run; on the drawings peak RSS ≤ 1.5 GB, extraction ≥ 60 images/s, figures in seconds).

Data, built once under ``$DEEPCLUST_BENCH_DATA`` (default ``~/.cache/deepclust/bench/photo_decoding``), seed 0:
- ``photos``: 300 JPEGs of 3000 × 2000 (quality 90), each a random crop of one of the photos scikit-image and
  scikit-learn ship (astronaut, coffee, rocket, chelsea, china, flower) upscaled, mirrored at random and given
  Gaussian noise (σ 6) so that they do not compress trivially;
- ``drawings``: 200 RGBA PNGs of coloured shapes on a transparent background, sides from 32 to 1,500 pixels, 12
  from 2,000 to 6,000 and 3 of 13,000 × 13,000 (169 megapixels, over Pillow's decompression-bomb limit).

Measured: decoding alone (``load_image(path, 224)``, one thread, the first 100 files); the bare
EfficientNet-Lite0 (pooled features, ONNX Runtime, batch 32, 224 px) on already preprocessed batches;
``extract_features`` on each folder (ONNX Runtime, feature cache off, the graph cached) in images/s and its ratio
to the bare model; ``deepclust cluster FOLDER -k N --map none --no-cache`` in a subprocess under
``/usr/bin/time -v``: wall time, peak RSS and run.json's timings per stage (``write`` is the figures and report);
on the drawings once more with the features cached (the figures stage alone reads the files).

Run:  .venv/bin/python -m benchmarks.photo_decoding --label after   (about 5 minutes on 2 cores once the data exist)
``--label`` names the code measured (e.g. ``before`` with PYTHONPATH pointing at an older ``src``); the rows of
other labels already in benchmarks/results/photo_decoding.json are kept.
Writes benchmarks/results/photo_decoding.{json,md}.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import RESULTS, command_line, machine, parser, peak_rss_mb, write_results

DATA = Path(os.environ.get("DEEPCLUST_BENCH_DATA", Path.home() / ".cache" / "deepclust" / "bench" / "photo_decoding"))
N_PHOTOS, N_DRAWINGS = 300, 200


def _built(root: Path) -> Path:
    """The marker of a finished folder, beside it (inside, it would be a file that deepclust sets aside)."""
    marker, old = root.parent / f"{root.name}.built", root / "done"
    if old.exists():
        old.rename(marker)
    return marker


def _sources() -> list[np.ndarray]:
    from skimage import data
    from sklearn.datasets import load_sample_images

    photos = [data.astronaut(), data.coffee(), data.rocket(), data.chelsea()]
    return photos + list(load_sample_images().images)


def build_photos(root: Path) -> Path:
    """300 JPEGs of 3000 × 2000 (see the module's docstring); kept between runs."""
    from PIL import Image

    if _built(root).exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    big = [np.asarray(Image.fromarray(s).resize((3600, 2400), Image.Resampling.BICUBIC)) for s in _sources()]
    noise = rng.normal(0, 6, (2400, 3600, 3)).astype(np.int16)
    for i in range(N_PHOTOS):
        src = big[i % len(big)]
        y, x = rng.randint(0, 400), rng.randint(0, 600)
        crop = src[y:y + 2000, x:x + 3000].astype(np.int16)
        ny, nx = rng.randint(0, 400), rng.randint(0, 600)
        crop += noise[ny:ny + 2000, nx:nx + 3000]
        img = np.clip(crop, 0, 255).astype(np.uint8)
        if rng.rand() < 0.5:
            img = img[:, ::-1]
        Image.fromarray(img).save(root / f"photo_{i:03d}.jpg", quality=90)
    _built(root).touch()
    return root


def _drawing(side: int, rng: np.random.RandomState):
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    for _ in range(rng.randint(2, 6)):
        colour = tuple(int(c) for c in rng.randint(0, 256, 3)) + (255,)
        x0, y0 = rng.uniform(0, 0.6, 2) * side
        w, h = rng.uniform(0.2, 0.4, 2) * side
        if rng.rand() < 0.5:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=colour, outline=(0, 0, 0, 255), width=max(1, side // 100))
        else:
            draw.polygon([(x0, y0 + h), (x0 + w / 2, y0), (x0 + w, y0 + h)], fill=colour)
    return im


def build_drawings(root: Path) -> Path:
    """200 transparent PNG drawings from icons to 13,000 × 13,000 (see the module's docstring); kept between runs."""
    if _built(root).exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    sides = list(rng.randint(32, 1500, N_DRAWINGS - 15)) + list(rng.randint(2000, 6000, 12)) + [13_000] * 3
    for i, side in enumerate(sides):
        _drawing(int(side), rng).save(root / f"drawing_{i:03d}.png", compress_level=1 if side > 6000 else 6)
    _built(root).touch()
    return root


def bare_onnx(cache: Path, n: int = 256) -> tuple[float, float]:
    """Images/s of the bare ONNX model at 224 on preprocessed batches of 32; the seconds its export took."""
    from deepclust.features import create_extractor

    ex = create_extractor(input_size=224, device="cpu", runtime="onnx")
    t = time.perf_counter()
    ex.select_runtime(n, cache)
    export_s = time.perf_counter() - t
    images = np.random.RandomState(0).randint(0, 256, (n, 224, 224, 3), dtype=np.uint8)
    batches = [ex.preprocess(images[a:a + 32]) for a in range(0, n, 32)]
    ex.runner(batches[0])
    t = time.perf_counter()
    for b in batches:
        ex.runner(b)
    return n / (time.perf_counter() - t), export_s


def extraction(folder: Path, cache: Path) -> dict:
    from deepclust import scan_folder
    from deepclust.features import create_extractor, extract_features

    images = scan_folder(folder)
    ex = create_extractor(input_size=224, device="cpu", runtime="onnx")
    t = time.perf_counter()
    out = extract_features(images, ex, cache_dir=cache, use_cache=False, verbose=False)
    seconds = time.perf_counter() - t
    failed = getattr(out, "failed", [])
    return {"images": len(images), "failed": len(failed), "seconds": round(seconds, 1),
            "images_per_s": round(len(images) / seconds, 1)}


def decode_only(folder: Path, limit: int = 100) -> float:
    """Images/s of ``load_image(path, 224)`` alone in one thread over the first ``limit`` files: the ceiling that
    decoding sets on extraction when one core decodes while the other runs the model."""
    from deepclust.datasets import load_image

    paths = sorted(p for p in folder.iterdir() if p.suffix in (".jpg", ".png"))[:limit]
    t = time.perf_counter()
    for p in paths:
        try:
            load_image(p, 224, upscale=False)
        except (OSError, ValueError):
            pass
    return len(paths) / (time.perf_counter() - t)


def cluster(folder: Path, k: int, cache: Path, out: Path, *, cached: bool) -> dict:
    """``deepclust cluster`` in a subprocess under ``/usr/bin/time -v``: wall, peak RSS, run.json's stage timings."""
    deepclust = [sys.executable, "-c", "import sys; from deepclust.cli import app; sys.argv[0] = 'deepclust'; app()"]
    cmd = ["/usr/bin/time", "-v", *deepclust, "cluster", str(folder), "-k", str(k), "--map", "none", "--out",
           str(out), "--overwrite", "--cache-dir", str(cache), "--quiet", "--cache" if cached else "--no-cache"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise RuntimeError(f"deepclust cluster {folder} failed")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
    info = json.loads((out / "run.json").read_text())
    timings = {k: round(v, 1) for k, v in info.get("timings_s", {}).items()}
    skipped = info.get("skipped") or info.get("failed") or []
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(rss_kb / 1024), "timings_s": timings,
            "n_skipped": len(skipped), "skipped": skipped[:5] if isinstance(skipped, list) else skipped,
            "warnings": [ln for ln in proc.stderr.splitlines() if "pixels" in ln][:5]}


def decoder() -> str:
    """What decodes the images: Pillow, and libvips where the deepclust measured uses it and it is installed."""
    from deepclust.datasets import _folder

    if not hasattr(_folder, "_vips"):
        return "Pillow only"
    try:
        import pyvips

        return f"Pillow + pyvips {pyvips.__version__} (libvips {pyvips.version(0)}.{pyvips.version(1)})"
    except (ImportError, OSError):
        return "Pillow only"


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--label", default="after", help="the name of the code measured (before, after, ...)")
    p.add_argument("--skip-cluster", action="store_true", help="measure extraction only")
    args = p.parse_args()
    import deepclust

    started = time.perf_counter()
    photos, drawings = build_photos(DATA / "photos"), build_drawings(DATA / "drawings")
    built_s = round(time.perf_counter() - started, 1)
    graph_cache = DATA / "cache"  # the ONNX graph, exported once; features are never cached between runs
    onnx_ips, export_s = bare_onnx(graph_cache)
    row: dict = {"label": args.label, "deepclust_file": deepclust.__file__, "decoder": decoder(),
                 "bare_onnx_images_per_s": round(onnx_ips, 1), "onnx_export_s": round(export_s, 1)}
    for name, folder in (("photos", photos), ("drawings", drawings)):
        ext = extraction(folder, graph_cache)
        ext["ratio_to_bare_onnx"] = round(ext["images_per_s"] / onnx_ips, 2)
        ext["decode_only_images_per_s_first_100"] = round(decode_only(folder), 1)
        row[name] = {"extract_features": ext}
        if not args.skip_cluster:
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp) / "cache"
                shutil.copytree(graph_cache, cache)
                row[name]["cluster"] = cluster(folder, 6 if name == "photos" else 12, cache, Path(tmp) / "run",
                                               cached=name == "drawings")
                if name == "drawings":  # again, the features now cached: what the figures and report cost alone
                    row[name]["cluster_features_cached"] = cluster(folder, 12, cache, Path(tmp) / "run",
                                                                   cached=True)
    row["wall_s"] = round(time.perf_counter() - started, 1)
    row["data_build_s"] = built_s
    row["peak_rss_mb_benchmark_process"] = round(peak_rss_mb())

    old = RESULTS / "photo_decoding.json"
    rows = [r for r in (json.loads(old.read_text())["rows"] if old.exists() else []) if r["label"] != args.label]
    rows.append(row)
    payload = {"command": command_line("benchmarks.photo_decoding"), "data": __doc__.split("Measured:")[0].strip(),
               "data_dir": str(DATA), "seed": 0, "rows": rows, "machine": machine()}
    write_results("photo_decoding", payload, table(payload))
    print(table(payload))


def table(payload: dict) -> str:
    m = payload["machine"]
    lines = [f"Command: `{payload['command']}` (one row per `--label`); data built with seed 0 under "
             f"`{payload['data_dir']}` (see the script's docstring); machine: {m['cpu']}, {m['cores']} cores, torch "
             f"{m['torch']}. Extraction: ONNX Runtime at 224 px, batch 64, feature cache off; `cluster`: "
             "`deepclust cluster FOLDER -k N --map none` in a subprocess, peak RSS from `/usr/bin/time -v`; "
             "`write` is run.json's time for the figures and report.", "",
             "| code | decoder | bare ONNX img/s | photos: extract img/s (ratio) | photos: cluster s / peak MB | "
             "drawings: extract img/s (failed) | drawings: cluster s / peak MB / write s | drawings, features "
             "cached: s / peak MB / write s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in payload["rows"]:
        ph, dr = r["photos"], r["drawings"]
        pc, dc, dcc = ph.get("cluster", {}), dr.get("cluster", {}), dr.get("cluster_features_cached", {})
        lines.append(
            f"| {r['label']} | {r['decoder']} | {r['bare_onnx_images_per_s']} | "
            f"{ph['extract_features']['images_per_s']} ({ph['extract_features']['ratio_to_bare_onnx']}×) | "
            f"{pc.get('wall_s')} / {pc.get('peak_rss_mb')} | {dr['extract_features']['images_per_s']} "
            f"({dr['extract_features']['failed']}) | {dc.get('wall_s')} / {dc.get('peak_rss_mb')} / "
            f"{dc.get('timings_s', {}).get('write')} | {dcc.get('wall_s')} / {dcc.get('peak_rss_mb')} / "
            f"{dcc.get('timings_s', {}).get('write')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
