"""Colour data sets built offline from what Debian and the Python packages ship: emoji of everyday things rendered
from the Noto colour emoji font and labelled by their Unicode subgroup, the same emoji pasted onto crops of
photographs (objects on clutter, with the object masks kept), and crops of the photographs labelled by photo.

They stand in for the colour photos and drawings of things that users cluster, where the 28×28 grey sets cannot
tell whether a change helps. Each is a fixed function of its seed: the same call gives the same images."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_TEST_FILE = Path("/usr/share/unicode/emoji/emoji-test.txt")
#: The font's one bitmap size (Noto Color Emoji is a CBDT font: it renders at 109 px only).
_EMOJI_FONT_SIZE = 109
#: Twelve kinds of everyday things, as Unicode emoji subgroups (the class names are the subgroups' own words).
EMOJI_SUBGROUPS = {
    "bird": ("animal-bird",), "bug": ("animal-bug",), "mammal": ("animal-mammal",),
    "fruit": ("food-fruit",), "sweet": ("food-sweet",), "drink": ("drink",), "clothing": ("clothing",),
    "musical instrument": ("musical-instrument",), "sport": ("sport",), "vehicle": ("transport-ground",),
    "building": ("place-building",), "plant": ("plant-flower", "plant-other"),
}
EMOJI_CLASSES = tuple(EMOJI_SUBGROUPS)
#: The colour photographs scikit-image and scikit-learn ship (offline): backgrounds and the photo-crop classes.
PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
               "stereo_motorcycle", "china", "flower")


class MissingSystemFileError(FileNotFoundError):
    """A file a synthetic data set is built from (a font, the Unicode emoji list) is not installed."""


def load_photos(names=PHOTO_NAMES) -> list[np.ndarray]:
    """The shipped colour photographs, uint8 ``(H, W, 3)``, in the order of ``names``."""
    return [_photo(name) for name in names]


@functools.cache
def _photo(name: str) -> np.ndarray:
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    from skimage import data

    image = getattr(data, name)()
    return image[0] if name == "stereo_motorcycle" else image  # the left view of the stereo pair


def emoji_by_subgroup(subgroups: dict[str, tuple[str, ...]] | None = None, max_per_class: int = 40,
                      ) -> list[tuple[str, int]]:
    """``(emoji, class)`` for the fully-qualified single-code-point emoji of each class's Unicode subgroups (skin
    tones and sequences left out), at most ``max_per_class`` per class, in the Unicode order."""
    subgroups = EMOJI_SUBGROUPS if subgroups is None else subgroups
    if not EMOJI_TEST_FILE.exists():
        raise MissingSystemFileError(f"the emoji data sets need Unicode's emoji list at {EMOJI_TEST_FILE} "
                                     f"(Debian package unicode-data: apt-get install unicode-data)")
    class_of = {sub: c for c, subs in enumerate(subgroups.values()) for sub in subs}
    found: list[tuple[str, int]] = []
    counts = dict.fromkeys(range(len(subgroups)), 0)
    subgroup = None
    for line in EMOJI_TEST_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        if line.startswith("#") or ";" not in line or subgroup not in class_of:
            continue
        code_points, status = (part.strip() for part in line.split("#")[0].split(";"))
        points = [p for p in code_points.split() if p != "FE0F"]
        c = class_of[subgroup]
        if status == "fully-qualified" and len(points) == 1 and counts[c] < max_per_class:
            found.append((chr(int(points[0], 16)), c))
            counts[c] += 1
    return found


def render_emoji(emoji: str) -> np.ndarray:
    """One emoji as uint8 RGBA ``(h, w, 4)``, cut to its drawn pixels, at the font's own size (about 109 px)."""
    from PIL import Image, ImageDraw

    font = _emoji_font()
    canvas = Image.new("RGBA", (2 * _EMOJI_FONT_SIZE, 2 * _EMOJI_FONT_SIZE), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), emoji, font=font, embedded_color=True)
    box = canvas.getchannel("A").getbbox()
    if box is None:
        raise ValueError(f"the emoji font draws nothing for {emoji!r} (U+{ord(emoji[0]):04X})")
    return np.asarray(canvas.crop(box))


@functools.lru_cache(maxsize=1)
def _emoji_font():
    from PIL import ImageFont

    if not EMOJI_FONT.exists():
        raise MissingSystemFileError(f"the emoji data sets need the Noto colour emoji font at {EMOJI_FONT} "
                                     f"(Debian package fonts-noto-color-emoji: apt-get install fonts-noto-color-emoji)")
    return ImageFont.truetype(str(EMOJI_FONT), _EMOJI_FONT_SIZE)


def paste(background: np.ndarray, obj_rgba: np.ndarray, box: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``obj_rgba`` scaled to fit a ``side × side`` square at ``(top, left)`` of ``background`` (``box`` is
    ``(top, left, side)``, aspect kept, centred in the square), alpha-blended; returns the image and the object's
    mask (bool, where its alpha is over half)."""
    from PIL import Image

    top, left, side = box
    h, w = obj_rgba.shape[:2]
    scale = side / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    obj = np.asarray(Image.fromarray(obj_rgba).resize((new_w, new_h), Image.Resampling.LANCZOS))
    top, left = top + (side - new_h) // 2, left + (side - new_w) // 2
    out = background.copy()
    region = out[top:top + new_h, left:left + new_w].astype(np.float32)
    alpha = obj[..., 3:4].astype(np.float32) / 255.0
    out[top:top + new_h, left:left + new_w] = np.round(region * (1 - alpha) + obj[..., :3] * alpha).astype(np.uint8)
    mask = np.zeros(background.shape[:2], bool)
    mask[top:top + new_h, left:left + new_w] = obj[..., 3] > 127
    return out, mask


def random_crop(photo: np.ndarray, size: int, rng: np.random.RandomState,
                scale: tuple[float, float] = (0.35, 0.6)) -> np.ndarray:
    """A square crop of ``photo`` whose side is ``scale`` (a random fraction in the range) of its shorter side, at a
    random place, flipped left-right half the time, resized to ``size × size``."""
    from PIL import Image

    h, w = photo.shape[:2]
    side = max(8, int(round(rng.uniform(*scale) * min(h, w))))
    top, left = rng.randint(0, h - side + 1), rng.randint(0, w - side + 1)
    crop = photo[top:top + side, left:left + side]
    if rng.rand() < 0.5:
        crop = crop[:, ::-1]
    return np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((size, size), Image.Resampling.BILINEAR))


def objects_on(objects, labels, backgrounds, size: int, scale: tuple[float, float], seed: int,
               copies: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every RGBA object of ``objects`` (``labels[i]`` its class) pasted ``copies`` times, each onto a background
    made by ``backgrounds(rng)`` (a uint8 ``(size, size, 3)`` image), scaled to fit a square of a random fraction
    ``scale`` of the side at a random place. Returns ``(X, y, masks)``: uint8 ``(N, size, size, 3)``, int64, bool."""
    rng = np.random.RandomState(seed)
    n = len(objects) * copies
    X = np.empty((n, size, size, 3), np.uint8)
    masks = np.empty((n, size, size), bool)
    y = np.repeat(np.asarray(labels, np.int64), copies)
    for i in range(n):
        side = int(round(rng.uniform(*scale) * size))
        top, left = rng.randint(0, size - side + 1), rng.randint(0, size - side + 1)
        X[i], masks[i] = paste(backgrounds(rng), objects[i // copies], (top, left, side))
    return X, y, masks


def white(size: int):
    """Backgrounds for :func:`objects_on`: plain white (a drawing with transparency, as the folder reader shows it)."""
    return lambda rng: np.full((size, size, 3), 255, np.uint8)


def photo_crops_of(photos, size: int, scale: tuple[float, float] = (0.35, 0.6)):
    """Backgrounds for :func:`objects_on`: random crops of random photos of ``photos``."""
    return lambda rng: random_crop(photos[rng.randint(len(photos))], size, rng, scale)


def load_emoji(split: str = "all", data_dir=None, download: bool = False, *, size: int = 224, seed: int = 0,
               copies: int = 2, return_masks: bool = False):
    """Emoji of twelve kinds of things (:data:`EMOJI_CLASSES`) drawn on white, each ``copies`` times at a random
    half to nine tenths of the side and place: ~600 images of ``size`` px, like a folder of colour drawings."""
    pairs = emoji_by_subgroup()
    X, y, masks = objects_on([render_emoji(e) for e, _ in pairs], [c for _, c in pairs], white(size), size,
                             (0.5, 0.9), seed, copies)
    return (X, y, masks) if return_masks else (X, y)


def load_emoji_on_photos(split: str = "all", data_dir=None, download: bool = False, *, size: int = 224,
                         seed: int = 0, copies: int = 2, photos=PHOTO_NAMES, return_masks: bool = False):
    """The emoji of :func:`load_emoji` pasted onto random crops of the shipped photographs, at half to four fifths
    of the side: objects on clutter, where a clustering that follows the background is at chance."""
    pairs = emoji_by_subgroup()
    X, y, masks = objects_on([render_emoji(e) for e, _ in pairs], [c for _, c in pairs],
                             photo_crops_of(load_photos(photos), size), size, (0.5, 0.8), seed, copies)
    return (X, y, masks) if return_masks else (X, y)


def load_photo_crops(split: str = "all", data_dir=None, download: bool = False, *, size: int = 224, seed: int = 0,
                     per_photo: int = 40):
    """``per_photo`` random crops (a third to three fifths of the shorter side, flipped half the time) of each of
    the ten shipped colour photographs (:data:`PHOTO_NAMES`), labelled by photo."""
    rng = np.random.RandomState(seed)
    photos = load_photos()
    X = np.stack([random_crop(p, size, rng) for p in photos for _ in range(per_photo)])
    return X, np.repeat(np.arange(len(photos), dtype=np.int64), per_photo)


#: The shipped photographs split into two pools, so that known and novel objects of the cluttered transfer split
#: lie on different backgrounds: a clustering cannot lean on a background it learnt from the known classes.
KNOWN_PHOTOS = ("astronaut", "coffee", "rocket", "immunohistochemistry", "china")
NOVEL_PHOTOS = ("chelsea", "hubble_deep_field", "retina", "stereo_motorcycle", "flower")


def colourised(gray: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """A grey object on black (uint8 ``(h, w)``, e.g. a Fashion-MNIST garment) as RGBA in a random saturated
    colour: the grey values shade the colour, alpha is opaque wherever the object has ink (grey > 8)."""
    import colorsys

    colour = np.array(colorsys.hsv_to_rgb(rng.rand(), rng.uniform(0.5, 1.0), 1.0), np.float32)
    shade = 0.25 + 0.75 * gray.astype(np.float32) / 255.0  # dark ink stays visible on a dark photo
    rgb = np.round(255.0 * shade[..., None] * colour).astype(np.uint8)
    alpha = np.where(gray > 8, 255, 0).astype(np.uint8)
    return np.dstack([rgb, alpha])


def cluttered_transfer_split(X: np.ndarray, y: np.ndarray, known_classes, *, size: int = 112,
                             scale: tuple[float, float] = (0.45, 0.8), seed: int = 0):
    """A transfer-clustering benchmark of objects on clutter (MNIST-M-like, built offline): each grey object of
    ``X`` (e.g. Fashion-MNIST), colourised at random, pasted at a random scale (``scale`` of the side) and place
    onto a ``size``-pixel random crop of a shipped photograph — objects of ``known_classes`` onto the
    :data:`KNOWN_PHOTOS`, the others onto the :data:`NOVEL_PHOTOS`. Returns ``(X_known, y_known, X_novel,
    y_novel, masks_known, masks_novel)``, the masks true where the object's pixels were pasted."""
    rng = np.random.RandomState(seed)
    known = np.isin(y, np.asarray(list(known_classes)))
    out = []
    for rows, pool in ((np.flatnonzero(known), KNOWN_PHOTOS), (np.flatnonzero(~known), NOVEL_PHOTOS)):
        objects = [colourised(X[i], rng) for i in rows]
        images, labels, masks = objects_on(objects, y[rows], photo_crops_of(load_photos(pool), size), size, scale,
                                           int(rng.randint(2**31 - 1)))
        out.append((images, labels, masks))
    (Xk, yk, mk), (Xn, yn, mn) = out
    return Xk, yk, Xn, yn, mk, mn


def emoji_available() -> bool:
    """Whether the emoji data sets can be built here (the font and Unicode's emoji list are installed)."""
    return EMOJI_FONT.exists() and EMOJI_TEST_FILE.exists()
