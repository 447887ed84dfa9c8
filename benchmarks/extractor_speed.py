"""What each extractor costs on this machine (issue "… modern extractors …"): images per second at its default input
size, through PyTorch and ONNX Runtime, as a ratio to EfficientNet-Lite0 in the same run (the machine is noisy).
Speed does not depend on the weights' values, so the transformers run here with random weights saved to a file:
their accuracy is not measured offline (no weights), their cost is.

Run:  .venv/bin/python -m benchmarks.extractor_speed [--images 128] [--extractors ...] [--runtimes torch onnx]
Writes benchmarks/results/extractor_speed.json and .md.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import finish, machine, markdown_table, parser

#: Extractor → the timm network to save random weights of (None: its weights are shipped).
NETWORKS = {"efficientnet_lite0": None, "dinov2_vits14": "vit_small_patch14_dinov2.lvd142m",
            "clip_vitb32": "vit_base_patch32_clip_224.openai", "dinov2_vitb14": "vit_base_patch14_dinov2.lvd142m",
            "clip_vitb16": "vit_base_patch16_clip_224.openai"}


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("--images", type=int, default=128)
    p.add_argument("--extractors", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    p.add_argument("--runtimes", nargs="+", default=["torch", "onnx"], choices=["torch", "onnx"])
    args = p.parse_args(argv)
    import timm
    from safetensors.torch import save_file

    from deepclust.features import create_extractor, extract_features, get_extractor_spec

    X = np.random.RandomState(0).randint(0, 256, (args.images, 224, 224, 3), dtype=np.uint8)
    rows, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.extractors:
            weights = None
            if NETWORKS[name]:
                weights = Path(tmp) / f"{name}.safetensors"
                save_file(timm.create_model(NETWORKS[name], pretrained=False).state_dict(), weights)
            for runtime in args.runtimes:
                spec = get_extractor_spec(name)
                model = create_extractor(name, weights=weights, device="cpu", input_size=224, runtime=runtime)
                extract_features(X[:8], model, use_cache=False, verbose=False)  # warm-up (and the ONNX export)
                t = time.perf_counter()
                extract_features(X, model, use_cache=False, verbose=False)
                rate = args.images / (time.perf_counter() - t)
                results.append({"extractor": name, "runtime": runtime, "input_size": 224,
                                "dim": spec.layers[spec.default_layer], "images_per_s": round(rate, 1)})
    base = {r["runtime"]: r["images_per_s"] for r in results if r["extractor"] == "efficientnet_lite0"}
    for r in results:
        r["ratio_to_lite0"] = round(r["images_per_s"] / base[r["runtime"]], 3) if r["runtime"] in base else None
        rows.append([r["extractor"], r["runtime"], r["dim"], r["images_per_s"], r["ratio_to_lite0"]])
    table = (f"Extraction speed at 224 px, {args.images} random images, CPU ({machine().get('cores')} cores, "
             f"shared with one other job), "
             f"batch 64\n\n" + markdown_table(["extractor", "runtime", "features", "images/s", "× Lite0"], rows))
    return finish("extractor_speed", argv, results, table)


if __name__ == "__main__":
    raise SystemExit(main())
