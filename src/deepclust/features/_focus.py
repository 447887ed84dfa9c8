"""Object focus: find the object in each image and embed a crop around it instead of the whole image.

On photos of objects on cluttered backgrounds, features of the whole image describe the background as much as the
object, and the clusters follow the backgrounds (emoji pasted onto photo crops: chance-level ACC). :class:`ObjectFocus`
finds the object with the network the default extractor already uses (EfficientNet-Lite0 with its ImageNet head),
refines the region with GrabCut (OpenCV), greys the background and hands the extractor a crop around the object,
resized back to the image's shape. It is a batch transform of uint8 images, the hook
:func:`~deepclust.features.extract_features` takes as ``augment``: its :attr:`~ObjectFocus.key` is part of the
feature cache key.

Saliency variants (``saliency=``), all from one forward pass of the frozen network at 224 px:

- ``"spectral"`` (default): the deep spectral split of Melas-Kyriazi et al. (CVPR 2022) on the CNN's stage-4 map
  (14 × 14 at 224 px): the Fiedler vector of the normalised Laplacian of the locations' feature affinities cuts the
  image in two; the side that holds less of the border is the object.
- ``"cam"``: a class-agnostic class activation map (Zhou et al., CVPR 2016): the last conv map weighted by the
  classifier weights of the top five ImageNet classes, each weighted by its probability.
- ``"norm"``: the channel L2 norm of the last block stage (stage 6, 7 × 7).

The map is scaled to [0, 1], thresholded, and its largest connected component kept; GrabCut (Rother et al. 2004),
started from that mask (probable object inside, probable background in a band of an eighth of the side around it,
certain background beyond), redraws it along colour edges. The pixels outside the mask are set to grey 128 (the
network's zero input) and the crop is the mask's bounding box widened by ``margin`` on every side, with the image's
aspect ratio (a square for square images), resized back to the image's shape.

Why this default (``benchmarks/focus.py``, ``benchmarks/results/focus.md``; 604 emoji of 12 classes pasted onto
photo crops, chance ACC 0.13; mean IoU of the found mask with the true object mask, of its box with the object's
box, and the default clustering's ACC on the crops; without focus ACC 0.146):

=====================  ========  =======  =====
saliency               mask IoU  box IoU  ACC
=====================  ========  =======  =====
spectral               0.555     0.628    0.313
spectral + GrabCut     0.653     0.704    0.406
cam                    0.300     0.441
cam + GrabCut          0.431     0.540    0.204
norm                   0.411     0.509
norm + GrabCut         0.604     0.660    0.283
=====================  ========  =======  =====

Spectral + GrabCut finds the object best and clusters best (2.8 × chance; the same emoji on white reach 0.457
without focus). The background fill matters as much as the crop: the same crops with their background kept reach
0.205. On the emoji on white, focus does not hurt (0.500 against 0.457). It costs a forward pass of the network
through stage 4 and GrabCut at 160 px: about 0.1–0.25 s per image on 2 busy cores, more than the extraction itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .._extras import require
from ._masks import (
    crop_box,
    crop_resize,
    fill_background,
    grabcut,
    resize_mask,
    threshold_map,
    trimap_around_mask,
)

#: The values of the ``focus`` input setting.
FOCUS_MODES = ("none", "object")
#: The saliency maps :class:`ObjectFocus` can find the object with.
SALIENCY = ("spectral", "cam", "norm")
#: Each saliency map's threshold (a fraction of the map's range), chosen on emoji-on-photos (benchmarks/focus.py).
THRESHOLDS = {"spectral": 0.6, "cam": 0.4, "norm": 0.5}
#: The network saliency is computed with (the default extractor's backbone, with its ImageNet classifier).
SALIENCY_NETWORK = "efficientnet_lite0"
_VERSION = 1  # bump when the regions found change for the same settings (the feature cache keys change with it)


@dataclass(frozen=True)
class FocusRegions:
    """Where :class:`ObjectFocus` found the objects of N images of side ``H × W``.

    Attributes
    ----------
    masks : bool (N, H, W): the object's pixels.
    boxes : int (N, 4): the crop of each image as ``(top, left, height, width)`` in its pixels.
    saliency : float (N, h, w) in [0, 1]: the saliency map, at the network's map resolution.
    """

    masks: np.ndarray
    boxes: np.ndarray
    saliency: np.ndarray


@dataclass(frozen=True)
class ObjectFocus:
    """Crop every image to the object it shows, found by the default extractor's network (see the module's
    docstring for how and how well), and resize the crop back to the image's shape.

    Parameters
    ----------
    saliency : ``"spectral"`` (default), ``"cam"`` or ``"norm"``: the map the object is found in.
    grabcut : refine the thresholded map with GrabCut.
    threshold : the map's threshold, a fraction of its range; None: the variant's own (:data:`THRESHOLDS`).
    margin : the crop's margin around the object's box, a fraction of the box's side on each side.
    fill : the grey level the pixels outside the object's mask are set to (128: the network's zero input, as the
        images are normalised with mean 0.5); None keeps the background inside the crop.
    side : the side, in pixels, the saliency network sees the image at.
    grabcut_side : the side GrabCut sees the image at (160: half the time of 224 for the same masks, mean IoU 0.655
        against 0.659 on 76 emoji-on-photos; 112: 0.636 in a quarter of the time).
    device : where the saliency network runs (``"cpu"``, ``"cuda"``, ``"auto"``).
    batch_size : images per forward pass of the saliency network.

    Examples
    --------
    >>> from deepclust.features import ObjectFocus, create_extractor, extract_features
    >>> focus = ObjectFocus()
    >>> crops = focus(images, np.arange(len(images)))  # doctest: +SKIP
    >>> regions = focus.locate(images)  # masks, boxes and saliency maps  # doctest: +SKIP
    >>> feats = extract_features(images, create_extractor(), augment=focus)  # doctest: +SKIP
    """

    saliency: Literal["spectral", "cam", "norm"] = "spectral"
    grabcut: bool = True
    threshold: float | None = None
    margin: float = 0.1
    fill: int | None = 128
    side: int = 224
    grabcut_side: int = 160
    device: str = "cpu"
    batch_size: int = 32

    def __post_init__(self):
        if self.saliency not in SALIENCY:
            raise ValueError(f"saliency must be one of {', '.join(map(repr, SALIENCY))}, got {self.saliency!r}")
        if self.fill is not None and not 0 <= self.fill <= 255:
            raise ValueError(f"the focus fill must be a grey level from 0 to 255 (or None), got {self.fill}")
        if not 0.0 <= self.margin <= 1.0:
            raise ValueError(f"the focus margin must be between 0 and 1, got {self.margin}")

    @property
    def cut(self) -> float:
        """The threshold used."""
        return THRESHOLDS[self.saliency] if self.threshold is None else float(self.threshold)

    @property
    def key(self) -> str:
        """What identifies the transform in a feature cache key."""
        grabcut = f"grabcut{self.grabcut_side}" if self.grabcut else "nograbcut"
        return (f"focus-object-v{_VERSION}-{SALIENCY_NETWORK}-{self.saliency}-t{self.cut}-{grabcut}-"
                f"margin{self.margin}-fill{self.fill}-side{self.side}")

    @property
    def description(self) -> str:
        """How progress bars and the cache listing name the transform."""
        return f"object focus ({self.saliency}{' + GrabCut' if self.grabcut else ''})"

    def __call__(self, images: np.ndarray, indices: np.ndarray | None = None) -> np.ndarray:
        """The images (B, H, W[, C]) uint8, each cropped to its object (the background outside the object's mask
        set to ``fill``) and resized back to (H, W); ``indices`` (their positions in the source) are not needed:
        the crop depends on the image alone."""
        images = np.asarray(images)
        if len(images) == 0:
            return images.copy()
        return self.apply(images, self.locate(images))

    def apply(self, images: np.ndarray, regions: FocusRegions) -> np.ndarray:
        """The images (B, H, W[, C]) with the background outside each object's mask set to ``fill`` (unless None),
        cut to each crop box and resized back to (H, W)."""
        out = np.empty_like(images)
        for i, (image, mask, box) in enumerate(zip(images, regions.masks, regions.boxes)):
            if self.fill is not None:
                image = fill_background(image, mask, self.fill)
            out[i] = crop_resize(image, box)
        return out

    def locate(self, images: np.ndarray) -> FocusRegions:
        """Where the objects are: masks, crop boxes and saliency maps (:class:`FocusRegions`) of uint8 images
        (B, H, W[, C])."""
        return self.regions(images, self.saliency_maps(images))

    def saliency_maps(self, images: np.ndarray) -> np.ndarray:
        """The saliency maps (B, h, w), each scaled to [0, 1], of uint8 images (B, H, W[, C]) seen at ``side``."""
        import torch

        rgb = _rgb_at(np.asarray(images), self.side)
        net, prep = _saliency_network(self.device, self.side)
        out = []
        with torch.inference_mode():
            for start in range(0, len(rgb), self.batch_size):
                x = prep.preprocess(rgb[start:start + self.batch_size])
                out.append(_MAPS[self.saliency](net, x))
        maps = np.concatenate(out).astype(np.float32)
        lo, hi = maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)
        return (maps - lo) / np.maximum(hi - lo, 1e-12)

    def regions(self, images: np.ndarray, maps: np.ndarray) -> FocusRegions:
        """The regions of uint8 images (B, H, W[, C]) given their saliency maps (:meth:`saliency_maps`): each map
        thresholded, its largest component kept, refined by GrabCut, and the crop box around it."""
        images = np.asarray(images)
        h, w = images.shape[1:3]
        side = self.grabcut_side if self.grabcut else self.side
        rgb = _rgb_at(images, side) if self.grabcut else None
        masks = np.empty((len(images), h, w), bool)
        boxes = np.empty((len(images), 4), np.int64)
        for i, smap in enumerate(maps):
            mask = threshold_map(smap, self.cut, side)
            if rgb is not None and mask.any() and not mask.all():  # rgb: with grabcut
                found = grabcut(rgb[i], trimap_around_mask(mask), largest=True)
                mask = mask if found is None else found
            masks[i] = resize_mask(mask, h, w)
            boxes[i] = crop_box(masks[i], self.margin)
        return FocusRegions(masks, boxes, maps)


def create_focus(focus: str | None, device: str = "cpu") -> ObjectFocus | None:
    """The transform of the ``focus`` input setting: None for ``"none"`` (or None), an :class:`ObjectFocus` for
    ``"object"``; any other value is a ``ValueError`` naming the allowed ones."""
    if focus is None or focus == "none":
        return None
    if focus == "object":
        return ObjectFocus(device=device)
    raise ValueError(f"focus must be one of {', '.join(map(repr, FOCUS_MODES))}, got {focus!r}")


# --- the saliency network and its maps ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _saliency_network(device: str, side: int):
    """EfficientNet-Lite0 with its ImageNet head, and a :class:`FeatureExtractor` whose ``preprocess`` prepares
    images for it (the extractor's own preprocessing, from its spec)."""
    import torch

    from .._device import resolve_device
    from ._extractor import FeatureExtractor
    from ._registry import build_network, get_extractor_spec
    from ._weights import weights_identity

    spec = get_extractor_spec(SALIENCY_NETWORK)
    device = resolve_device(device)
    net = build_network(SALIENCY_NETWORK, head=True)
    net = net.eval().to(device, memory_format=torch.channels_last)
    prep = FeatureExtractor(spec=spec, layer=spec.default_layer, input_size=int(side), device=device,
                            weights_id=weights_identity(spec, None), module=net, runtime="torch")
    return net, prep


def _spectral_map(net, x) -> np.ndarray:
    (features,) = net.forward_intermediates(x, indices=[3], intermediates_only=True, stop_early=True)  # stage 4
    return np.stack([fiedler_map(f) for f in features.float().cpu().numpy()])


def _cam_map(net, x, top: int = 5) -> np.ndarray:
    import torch

    f = net.forward_features(x)  # (B, 1280, h, w): the map the classifier pools
    classifier = net.get_classifier()
    p = net.forward_head(f).softmax(dim=1)
    prob, cls = p.topk(top, dim=1)
    weights = torch.einsum("bk,bkc->bc", prob / prob.sum(1, keepdim=True), classifier.weight[cls])
    return torch.einsum("bc,bchw->bhw", weights, f).float().cpu().numpy()


def _norm_map(net, x) -> np.ndarray:
    (last,) = net.forward_intermediates(x, indices=[4], intermediates_only=True, stop_early=True)  # stage 6
    return last.float().norm(dim=1).cpu().numpy()


_MAPS = {"spectral": _spectral_map, "cam": _cam_map, "norm": _norm_map}


def fiedler_map(features: np.ndarray) -> np.ndarray:
    """The deep spectral split of one feature map (C, h, w) → (h, w): the Fiedler vector of the normalised graph
    Laplacian of the locations' affinities (cosine similarity of their centred features, negatives set to 0), signed
    so that the object (the side holding less of the map's border) is positive."""
    c, h, w = features.shape
    v = features.reshape(c, -1).T.astype(np.float64)
    v = v - v.mean(axis=0)
    v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-6
    affinity = np.clip(v @ v.T, 0.0, None)
    d = affinity.sum(axis=1)
    inv_sqrt = 1.0 / np.sqrt(np.maximum(d, 1e-12))
    laplacian = np.eye(len(d)) - inv_sqrt[:, None] * affinity * inv_sqrt[None, :]
    from scipy.linalg import eigh

    _, vectors = eigh(laplacian, subset_by_index=[0, 1], driver="evr")  # the two smallest: 3× faster than all
    e = (vectors[:, 1] * inv_sqrt).reshape(h, w)
    border = np.concatenate([e[0], e[-1], e[1:-1, 0], e[1:-1, -1]])
    return -e if np.mean(border > 0) > 0.5 else e


# --- the images the network and GrabCut see ---------------------------------------------------------------------

def _rgb_at(images: np.ndarray, side: int) -> np.ndarray:
    """uint8 (B, H, W[, C]) → RGB uint8 (B, side, side, 3), the whole image resized (not its centre square: the
    mask is mapped back onto the whole image)."""
    cv2 = require("cv2")

    if images.ndim == 3:
        images = images[..., None]
    out = np.empty((len(images), side, side, 3), np.uint8)
    for i, image in enumerate(images):
        image = image[..., :3]
        if image.shape[-1] == 1:
            image = np.repeat(image, 3, axis=-1)
        shrink = max(image.shape[:2]) > side
        out[i] = cv2.resize(np.ascontiguousarray(image), (side, side),
                            interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out
