"""How well do DTC's attention masks cover the object? On Fashion-MNIST test garments (the object: pixels brighter
than 10 on the black background), the mean IoU of each kind of mask with the object, the masks made from Grad-CAM
of a network fine-tuned on the other five classes (as ``DTC`` makes them): the whole image, the thresholded CAM, and
GrabCut started in the CAM region's widened box (``deepclust.features._attention.grabcut_mask``).

Run:  .venv/bin/python -m benchmarks.attention_masks
Writes benchmarks/results/attention_masks.json and .md.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from benchmarks._harness import command_line, machine, parser, write_results


def main() -> int:
    parser(__doc__).parse_args()
    import torch

    from deepclust import load_dataset
    from deepclust.deep._transfer import build_staged_network, train_on_known, trunk_activations
    from deepclust.features._attention import cam_mask, grabcut_mask, gradcam_maps, resize_uint8

    t0 = time.perf_counter()
    X, y = load_dataset("fashion-mnist", split="test")
    X_train, y_train = load_dataset("fashion-mnist", split="train")
    known, novel = np.flatnonzero(y_train >= 5)[:3000], np.flatnonzero(y < 5)[:300]
    torch.manual_seed(0)
    net, reader = build_staged_network("efficientnet_lite0", None, 64, 1, 5, "cpu")
    A = trunk_activations(net, reader, X_train[known])
    train_on_known(net, A, torch.as_tensor(y_train[known] - 5), epochs=3, lr=0.01, momentum=0.9, weight_decay=1e-4,
                   batch_size=128, gen=torch.Generator().manual_seed(0), device="cpu", verbose=False)
    rgb = resize_uint8(X[novel], 64)
    cams = gradcam_maps(net, reader, rgb)
    garment = rgb[..., 0] > 10

    def iou(masks) -> float:
        masks = np.asarray(masks)
        return round(float(((masks & garment).sum((1, 2)) / np.maximum((masks | garment).sum((1, 2)), 1)).mean()), 3)

    rows = [{"mask": "whole image", "threshold": None, "iou": iou(np.ones_like(garment))}]
    for threshold in (0.2, 0.5):
        rows.append({"mask": "Grad-CAM thresholded", "threshold": threshold,
                     "iou": iou([cam_mask(c, threshold) for c in cams])})
        rows.append({"mask": "GrabCut in the CAM region's widened box", "threshold": threshold,
                     "iou": iou([grabcut_mask(img, c, threshold) for img, c in zip(rgb, cams)])})
    payload = {"command": command_line("benchmarks.attention_masks"),
               "date": dt.datetime.now().isoformat(timespec="seconds"),
               "dataset": "fashion-mnist test, classes 0-4, first 300; network fine-tuned 3 epochs on 3,000 train "
                          "images of classes 5-9", "seed": 0, "machine": machine(),
               "wall_s": round(time.perf_counter() - t0, 1), "rows": rows}
    lines = ["Attention masks against the garment (pixels > 10), 300 Fashion-MNIST test images of classes 0–4; "
             "Grad-CAM of EfficientNet-Lite0 fine-tuned on classes 5–9", "", "| mask | CAM threshold | mean IoU |",
             "| --- | --- | --- |"]
    lines += [f"| {r['mask']} | {r['threshold'] if r['threshold'] is not None else '—'} | {r['iou']:.3f} |"
              for r in rows]
    js, md = write_results("attention_masks", payload, "\n".join(lines) + "\n")
    print(open(md).read())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
