"""When does exporting the extractor to ONNX Runtime pay for itself? Per input size: the one-time export (with its
check against PyTorch), PyTorch's and ONNX Runtime's images per second on the same batches, and the break-even
number of images ``export_s / (1/torch_ips - 1/onnx_ips)`` (and the same when the graph is already exported and
only its check runs), which sets ``runtime="auto"``'s rule
(``deepclust.features._extractor.onnx_min_images``).

Data: random uint8 images (the network's cost does not depend on the pixels), batch 32, EfficientNet-Lite0 pooled
features, CPU, the threads torch chooses. No seed matters beyond the fixed RandomState(0).

Run:  .venv/bin/python -m benchmarks.onnx_break_even [--sizes 64 128 224] [--images 256]
Writes benchmarks/results/onnx_break_even.{json,md}.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import command_line, machine, peak_rss_mb, write_results


def images_per_second(extractor, images: np.ndarray, batch: int = 32) -> float:
    extractor(images[:batch])  # warm-up: allocations, first-call compilation
    t = time.perf_counter()
    for start in range(0, len(images), batch):
        extractor(images[start:start + batch])
    return len(images) / (time.perf_counter() - t)


def measure(size: int, n_images: int) -> dict:
    from deepclust.features import create_extractor

    images = np.random.RandomState(0).randint(0, 256, (n_images, size, size, 3), dtype=np.uint8)
    torch_ex = create_extractor(input_size=size, device="cpu", runtime="torch")
    torch_ips = images_per_second(torch_ex, images)
    onnx_ex = create_extractor(input_size=size, device="cpu", runtime="onnx")
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        onnx_ex.select_runtime(n_images, Path(cache))
        export_s = time.perf_counter() - t
        onnx_ips = images_per_second(onnx_ex, images)
        again = create_extractor(input_size=size, device="cpu", runtime="onnx")
        t = time.perf_counter()
        again.select_runtime(n_images, Path(cache))  # the graph exported above is reused: only the check runs
        cached_s = time.perf_counter() - t
    saving = 1 / torch_ips - 1 / onnx_ips
    return {"input_size": size, "images": n_images, "torch_images_per_s": round(torch_ips, 1),
            "onnx_images_per_s": round(onnx_ips, 1), "speed_up": round(onnx_ips / torch_ips, 2),
            "export_s": round(export_s, 1), "cached_s": round(cached_s, 2),
            "break_even_images": int(np.ceil(export_s / saving)) if saving > 0 else None,
            "break_even_cached": int(np.ceil(cached_s / saving)) if saving > 0 else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 224])
    parser.add_argument("--images", type=int, default=256)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [measure(size, args.images) for size in args.sizes]
    payload = {"command": command_line("benchmarks.onnx_break_even"), "data": "random uint8 images, batch 32",
               "extractor": "efficientnet_lite0 pool", "seed": 0, "rows": rows, "machine": machine(),
               "wall_s": round(time.perf_counter() - started, 1), "peak_rss_mb": round(peak_rss_mb())}
    lines = [f"Command: `{payload['command']}`; {payload['data']}; EfficientNet-Lite0 pooled features; machine: "
             f"{payload['machine']['cpu']}, {payload['machine']['cores']} cores, torch "
             f"{payload['machine']['torch']}; {payload['wall_s']} s, peak {payload['peak_rss_mb']} MB.", "",
             "| input size | PyTorch img/s | ONNX Runtime img/s | speed-up | export + check (s) | break-even images | "
             "graph cached: check (s) | break-even images |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['input_size']} | {r['torch_images_per_s']} | {r['onnx_images_per_s']} | {r['speed_up']}× | "
              f"{r['export_s']} | {r['break_even_images']} | {r['cached_s']} | {r['break_even_cached']} |"
              for r in rows]
    js, md = write_results("onnx_break_even", payload, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written: {js}, {md}")


if __name__ == "__main__":
    main()
