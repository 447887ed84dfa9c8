"""Visual attention for transfer clustering ("Deep Visual Attention Based Transfer Clustering"): Grad-CAM maps of a
supervised network say which region drives its decision; GrabCut refines that region to the object's outline; the
image is then masked to it (background set to black), so that the features describe the object rather than the
background it shares with other classes. The CAMs come from ``grad-cam`` (pytorch-grad-cam): the network is trained
here, so its maps need its gradients (object focus's CAM, of the frozen ImageNet head, needs none); the map → mask →
GrabCut steps are object focus's own (:mod:`._masks`)."""

from __future__ import annotations

import numpy as np

from .._extras import require
from .._progress import track
from ._masks import cam_mask, fill_background, grabcut, trimap_in_box

#: The class activation maps attention can use (pytorch-grad-cam's GradCAM and GradCAMPlusPlus).
CAM_METHODS = ("gradcam", "gradcam++")


def resize_uint8(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 images (N, H, W[, C]) as RGB uint8 (N, size, size, 3), resized as the extractor resizes (bilinear,
    antialiased when shrinking; centre square first)."""
    import torch
    import torch.nn.functional as F

    images = np.asarray(images)
    h, w = images.shape[1:3]
    s = min(h, w)
    images = images[:, (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    x = torch.from_numpy(np.ascontiguousarray(images))
    if x.ndim == 3:
        x = x.unsqueeze(-1)
    x = x.permute(0, 3, 1, 2)[:, :3].float()
    if s != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=s > size)
    x = x.expand(-1, 3, -1, -1).round().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def gradcam_maps(net, reader, images: np.ndarray, *, batch_size: int = 128, verbose: bool = False,
                 method: str = "gradcam") -> np.ndarray:
    """Grad-CAM (``method="gradcam"``) or Grad-CAM++ (``"gradcam++"``: pixel-wise weights of the gradients, which
    the attention paper cites) of ``net`` (pixels → class logits) for its predicted class, at the layer
    ``net.cam_layer``; one map per image, (N, S, S) in [0, 1] at the network's input size S."""
    grad_cam = require("pytorch_grad_cam")
    GradCAM, GradCAMPlusPlus = grad_cam.GradCAM, grad_cam.GradCAMPlusPlus

    if method not in CAM_METHODS:
        raise ValueError(f"the class activation map must be one of {', '.join(CAM_METHODS)}; got {method!r}")
    maps = np.empty((len(images), reader.input_size, reader.input_size), np.float32)
    net.eval()
    with (GradCAM if method == "gradcam" else GradCAMPlusPlus)(model=net, target_layers=[net.cam_layer]) as cam:
        for start in track(range(0, len(images), batch_size), total=-(-len(images) // batch_size),
                           description="Grad-CAM", verbose=verbose):
            # the trunk is frozen: its output has a gradient only when the input asks for one
            x = reader.preprocess(images[start:start + batch_size]).requires_grad_(True)
            maps[start:start + len(x)] = cam(input_tensor=x, targets=None)
    return maps


def grabcut_mask(image: np.ndarray, cam: np.ndarray, threshold: float, iterations: int = 5) -> np.ndarray:
    """GrabCut of one RGB uint8 image in the region the CAM selects: the bounding box of the pixels where the CAM
    reaches ``threshold``, widened by a quarter of the image side and kept off a frame of 1/32 of it, is probable
    foreground, everything outside it certain background (GrabCut's rectangle start, :func:`trimap_in_box`).

    Why a widened box and not the CAM's own pixels as the start: the 4 × 4 map lights up the part of a garment that
    tells the known classes apart and the background beside its edges; GrabCut seeded with those pixels kept
    fragments (mean IoU with the garment 0.12–0.28 in a development probe). ``benchmarks/attention_masks.py``
    measures the masks kept: on 300 Fashion-MNIST garments, 0.717 for this box at threshold 0.2 (0.583 at 0.5),
    0.497 for the thresholded CAM, 0.554 for the whole image. Returns a boolean mask;
    the CAM's mask when GrabCut keeps almost nothing (a flat image), the whole image when the CAM says nothing
    (:func:`cam_mask`)."""
    start = cam_mask(cam, threshold)
    if start.all():
        return start
    found = grabcut(image, trimap_in_box(start), iterations=iterations)
    return start if found is None else found


def attend(net, reader, images: np.ndarray, *, grabcut: bool = True, threshold: float = 0.2, batch_size: int = 128,
           verbose: bool = False, method: str = "gradcam"):
    """The images at the network's input size with everything outside the attended region set to black, the masks
    (N, S, S) of that region (the class activation map of ``method`` thresholded at ``threshold``, refined by
    GrabCut when ``grabcut``) and the maps."""
    rgb = resize_uint8(images, reader.input_size)
    cams = gradcam_maps(net, reader, rgb, batch_size=batch_size, verbose=verbose, method=method)
    if grabcut:
        masks = np.stack([grabcut_mask(img, cam, threshold) for img, cam in
                          track(zip(rgb, cams), total=len(rgb), description="GrabCut", verbose=verbose)])
    else:
        masks = np.stack([cam_mask(cam, threshold) for cam in cams])
    return mask_images(rgb, masks), masks, cams


def mask_images(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``images`` (N, S, S, 3) kept where ``masks`` (N, S, S) is true, black elsewhere."""
    return fill_background(images, masks, 0)


def overlay(image: np.ndarray, cam: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """A picture of what the network attends to: the RGB image with the CAM as a heat map over it, and the mask's
    outline in white."""
    cv2 = require("cv2")

    out = image.astype(np.float32)
    if cam is not None:
        heat = cv2.applyColorMap(np.uint8(255 * np.clip(cam, 0, 1)), cv2.COLORMAP_JET)[..., ::-1]
        out = 0.55 * out + 0.45 * heat
    out = np.clip(out, 0, 255).astype(np.uint8)
    if mask is not None:
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        out = np.ascontiguousarray(out)
        cv2.drawContours(out, contours, -1, (255, 255, 255), 1)
    return out
