"""The held-out colour panel: colour data sets built offline from other sources than the first panel
(:mod:`._synthetic`), on which no design choice is made. Changes are chosen on the first panel and reported on both.

- ``icons``: textured, multi-part desktop icons of two icon themes Debian ships as PNG (Oxygen, ``oxygen-icon-theme``;
  GNOME's classic theme, ``gnome-icon-theme``), labelled by the icon-naming-spec folder each icon lives in (actions,
  applications, devices, emotes, mimetypes, places, status), drawn on white.
- ``icons-on-photos``: the same icons pasted onto crops of other photographs than the first panel's (the nature
  photographs of ``mate-backgrounds``), with the object masks kept.
- ``emojione``: emoji of another font in another style (EmojiOne's SVG drawings, ``ruby-gemojione``) of twelve other
  Unicode subgroups than the first panel's, drawn on white.

Each is a fixed function of its seed: the same call gives the same images. The icons chosen do not depend on the
seed (only where and how large each is drawn, and on which crop)."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import numpy as np

from ._synthetic import MissingSystemFileError, emoji_by_subgroup, objects_on, photo_crops_of, white

#: The icon themes: where each keeps its ``NxN/<folder>/*.png`` icons, and the Debian package that installs it.
ICON_THEMES = {
    "oxygen": (Path("/usr/share/icons/oxygen/base"), "oxygen-icon-theme"),
    "gnome": (Path("/usr/share/icons/gnome"), "gnome-icon-theme"),
}
#: Seven classes, each a set of the themes' folders (the icon naming specification's contexts); weather icons are
#: in ``status``, Plasma's applets with the applications, the few emblems left out.
ICON_FOLDERS = {
    "action": ("actions",), "application": ("apps", "categories", "applets"), "device": ("devices",),
    "face": ("emotes",), "file type": ("mimetypes",), "place": ("places",), "status": ("status",),
}
ICON_CLASSES = tuple(ICON_FOLDERS)
#: Icons smaller than this are left out (the 48-px and smaller drawings would be blurred by the upscaling).
MIN_ICON_SIZE = 128
#: The nature photographs of MATE's wallpapers (Debian ``mate-backgrounds``): the backgrounds of ``icons-on-photos``.
PHOTO_DIR = Path("/usr/share/backgrounds/mate/nature")
PHOTO_PACKAGE = "mate-backgrounds"
PHOTO_NAMES = ("Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm",
               "TwoWings", "Wood", "YellowFlower")
#: EmojiOne's drawings (CC BY-SA 4.0), one SVG per emoji named by its code point (``1F34E.svg``).
EMOJIONE_DIR = Path("/usr/share/rubygems-integration/all/gems/gemojione-3.3.0/assets/svg")
EMOJIONE_PACKAGE = "ruby-gemojione"
#: Twelve kinds of things as Unicode emoji subgroups, none of them a subgroup of the first panel's ``emoji``.
EMOJIONE_SUBGROUPS = {
    "sea animal & reptile": ("animal-marine", "animal-reptile", "animal-amphibian"),
    "dish": ("food-prepared", "food-asian"), "sky & weather": ("sky & weather",),
    "aircraft & boat": ("transport-air", "transport-water"), "event": ("event",), "game": ("game",),
    "office": ("office", "writing"), "paper & mail": ("book-paper", "mail"), "computer & phone": ("computer", "phone"),
    "light & video": ("light & video",), "tool": ("tool",), "sound & music": ("sound", "music"),
}
EMOJIONE_CLASSES = tuple(EMOJIONE_SUBGROUPS)
#: EmojiOne's drawings are 64 units a side: rendered at 4× (256 px), above the largest size they are pasted at.
_EMOJIONE_SCALE = 4
#: Photos are decoded at the JPEG scale that keeps their shorter side at least this long (crops are a third to three
#: fifths of it, resized to 224 px: never upscaled).
_PHOTO_SHORT_SIDE = 640


def icon_files(per_class: int = 60) -> list[tuple[Path, int]]:
    """``(png, class)`` for the icons of :data:`ICON_CLASSES`: each icon of each theme once (symbolic links and
    byte-identical copies left out) at its largest size of at least :data:`MIN_ICON_SIZE` px, at most ``per_class``
    per class taken evenly along the sorted (theme, folder, name) order."""
    found = _icon_files()
    out: list[tuple[Path, int]] = []
    for c in range(len(ICON_CLASSES)):
        files = [f for f, k in found if k == c]
        keep = np.unique(np.round(np.linspace(0, len(files) - 1, min(per_class, len(files)))).astype(int))
        out += [(files[i], c) for i in keep]
    return out


def _icon_files() -> list[tuple[Path, int]]:
    return _scan_icons(tuple((name, str(root), package) for name, (root, package) in ICON_THEMES.items()))


@functools.cache
def _scan_icons(themes) -> list[tuple[Path, int]]:
    class_of = {folder: c for c, folders in enumerate(ICON_FOLDERS.values()) for folder in folders}
    largest: dict[tuple[str, str, str], tuple[int, Path]] = {}
    for name, root, package in themes:
        root = Path(root)
        if not root.is_dir():
            raise MissingSystemFileError(f"the icon data sets need the {name} icon theme at {root} "
                                         f"(Debian package {package}: apt-get install {package})")
        for size_dir in root.iterdir():
            m = re.fullmatch(r"(\d+)x\1", size_dir.name)
            if m is None or int(m[1]) < MIN_ICON_SIZE:
                continue
            for f in size_dir.glob("*/*.png"):
                key = (name, f.parent.name, f.stem)
                if f.parent.name in class_of and not f.is_symlink() and largest.get(key, (0,))[0] < int(m[1]):
                    largest[key] = (int(m[1]), f)
    seen: set[str] = set()
    out = []
    for key in sorted(largest):
        f = largest[key][1]
        digest = hashlib.sha1(f.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            out.append((f, class_of[key[1]]))
    return out


def read_icon(path) -> np.ndarray:
    """One icon as uint8 RGBA ``(h, w, 4)``, cut to its drawn pixels (alpha over 16: a faint shadow's edge is not
    part of the object)."""
    from PIL import Image

    with Image.open(path) as image:
        rgba = np.asarray(image.convert("RGBA"))
    return _cut_to_drawn(rgba, path)


def _cut_to_drawn(rgba: np.ndarray, source) -> np.ndarray:
    rows, cols = np.flatnonzero((rgba[..., 3] > 16).any(1)), np.flatnonzero((rgba[..., 3] > 16).any(0))
    if len(rows) == 0:
        raise ValueError(f"{source} draws nothing")
    return np.ascontiguousarray(rgba[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])


def _icons(per_class: int) -> tuple[list[np.ndarray], list[int]]:
    pairs = icon_files(per_class)
    return [read_icon(f) for f, _ in pairs], [c for _, c in pairs]


def load_held_out_photos(names=PHOTO_NAMES) -> list[np.ndarray]:
    """The MATE nature photographs, uint8 ``(H, W, 3)`` with the shorter side 640 px or more, in the order of
    ``names``."""
    return [_photo(name, str(PHOTO_DIR)) for name in names]


@functools.cache
def _photo(name: str, folder: str) -> np.ndarray:
    from PIL import Image

    path = Path(folder) / f"{name}.jpg"
    if not path.exists():
        raise MissingSystemFileError(f"the held-out photo data sets need MATE's nature photographs at {folder} "
                                     f"(Debian package {PHOTO_PACKAGE}: apt-get install {PHOTO_PACKAGE})")
    with Image.open(path) as image:
        w, h = image.size
        scale = max(1, min(w, h) // _PHOTO_SHORT_SIDE)
        image.draft("RGB", (w // scale, h // scale))  # a DCT-scaled decode: a quarter of the time of a full one
        return np.asarray(image.convert("RGB"))


def load_icons(split: str = "all", data_dir=None, download: bool = False, *, size: int = 224, seed: int = 0,
               copies: int = 2, per_class: int = 60, return_masks: bool = False):
    """Desktop icons of seven kinds (:data:`ICON_CLASSES`: the icon theme's own folders) drawn on white, each
    ``copies`` times at a random half to nine tenths of the side and place: 780 images of ``size`` px, like a folder
    of textured colour drawings.

    Examples
    --------
    >>> X, y = load_icons()  # doctest: +SKIP
    >>> X.shape, len(ICON_CLASSES)  # doctest: +SKIP
    ((780, 224, 224, 3), 7)
    """
    objects, labels = _icons(per_class)
    X, y, masks = objects_on(objects, labels, white(size), size, (0.5, 0.9), seed, copies)
    return (X, y, masks) if return_masks else (X, y)


def load_icons_on_photos(split: str = "all", data_dir=None, download: bool = False, *, size: int = 224,
                         seed: int = 0, copies: int = 2, per_class: int = 60, photos=PHOTO_NAMES,
                         return_masks: bool = False):
    """The icons of :func:`load_icons` pasted onto random crops (a third to three fifths of the shorter side,
    flipped half the time) of the MATE nature photographs, at half to four fifths of the side: textured objects on
    other photos than the first panel's. With ``return_masks``, also the object masks (bool, alpha over half)."""
    objects, labels = _icons(per_class)
    X, y, masks = objects_on(objects, labels, photo_crops_of(load_held_out_photos(photos), size), size,
                             (0.5, 0.8), seed, copies)
    return (X, y, masks) if return_masks else (X, y)


def emojione_by_subgroup(max_per_class: int = 40) -> list[tuple[str, int]]:
    """``(emoji, class)`` for the single-code-point emoji of :data:`EMOJIONE_SUBGROUPS` that EmojiOne draws, at most
    ``max_per_class`` per class, in the Unicode order."""
    if not EMOJIONE_DIR.is_dir():
        raise MissingSystemFileError(f"the emojione data set needs EmojiOne's drawings at {EMOJIONE_DIR} "
                                     f"(Debian package {EMOJIONE_PACKAGE}: apt-get install {EMOJIONE_PACKAGE})")
    counts = dict.fromkeys(range(len(EMOJIONE_SUBGROUPS)), 0)
    out = []
    for emoji, c in emoji_by_subgroup(EMOJIONE_SUBGROUPS, max_per_class=10_000):
        if (EMOJIONE_DIR / f"{ord(emoji):04X}.svg").exists() and counts[c] < max_per_class:
            out.append((emoji, c))
            counts[c] += 1
    return out


def render_emojione(emoji: str) -> np.ndarray:
    """One emoji of EmojiOne as uint8 RGBA ``(h, w, 4)``, rendered from its SVG at 256 px and cut to its drawn
    pixels (needs pyvips, the ``vips`` extra, whose wheel bundles an SVG renderer)."""
    try:
        import pyvips
    except ImportError as exc:  # pragma: no cover - the vips extra is part of the standard install
        raise ImportError("the emojione data set renders SVG with pyvips: pip install 'deepclust[vips]'") from exc
    path = EMOJIONE_DIR / f"{ord(emoji):04X}.svg"
    if not path.exists():
        raise MissingSystemFileError(f"EmojiOne has no drawing of {emoji!r} at {path} "
                                     f"(Debian package {EMOJIONE_PACKAGE}: apt-get install {EMOJIONE_PACKAGE})")
    image = pyvips.Image.new_from_file(str(path), scale=_EMOJIONE_SCALE)
    if image.bands == 3:
        image = image.bandjoin(255)
    return _cut_to_drawn(np.ascontiguousarray(image.numpy().astype(np.uint8)), path)


def _emojione(max_per_class: int) -> tuple[list[np.ndarray], list[int]]:
    pairs = emojione_by_subgroup(max_per_class)
    return [render_emojione(e) for e, _ in pairs], [c for _, c in pairs]


def load_emojione(split: str = "all", data_dir=None, download: bool = False, *, size: int = 224, seed: int = 0,
                  copies: int = 2, max_per_class: int = 40, return_masks: bool = False):
    """EmojiOne's emoji of twelve kinds of things (:data:`EMOJIONE_CLASSES`, Unicode subgroups the first panel's
    ``emoji`` does not use) drawn on white, each ``copies`` times at a random half to nine tenths of the side and
    place: ~540 images of ``size`` px, another style of colour drawing than Noto's."""
    objects, labels = _emojione(max_per_class)
    X, y, masks = objects_on(objects, labels, white(size), size, (0.5, 0.9), seed, copies)
    return (X, y, masks) if return_masks else (X, y)


def held_out_available() -> bool:
    """Whether the held-out data sets can be built here (the icon themes, the photographs, EmojiOne's drawings and
    Unicode's emoji list are installed)."""
    from ._synthetic import EMOJI_TEST_FILE

    return (all(root.is_dir() for root, _ in ICON_THEMES.values())
            and all((PHOTO_DIR / f"{name}.jpg").exists() for name in PHOTO_NAMES)
            and EMOJIONE_DIR.is_dir() and EMOJI_TEST_FILE.exists())
