"""Opening what a user gives to cluster: a folder path (scanned) or a uint8 array (checked), a random subset of it,
and the check that enough images are left; every error names the files set aside and why."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._embeddings import Embeddings
from ._folder import ImageFolder, SkippedFile, image_size, scan_folder
from ._subset import subset_indices


@dataclass(frozen=True)
class DatasetImages:
    """The images of a builtin data set as a source to cluster (:func:`open_dataset`): the uint8 array, its labels
    and what a run records of where they came from (``kind``, ``dataset``, ``split`` …)."""

    images: np.ndarray = field(repr=False)
    labels: np.ndarray | None = field(repr=False)
    about: dict


def open_dataset(name: str, split: str = "all", data_dir=None, download: bool = False) -> DatasetImages:
    """The builtin data set ``name`` (see :func:`~deepclust.datasets.load_dataset`) as a source to cluster, so that
    the run records which data set and split it clustered."""
    from ._builtin import load_dataset

    X, y = load_dataset(name, split=split, data_dir=data_dir, download=download)
    return DatasetImages(X, y, {"kind": "dataset", "dataset": name, "split": split})


class OpenedSource(NamedTuple):
    """What :func:`open_source` returns: the images (an :class:`ImageFolder` or a uint8 array) or the
    :class:`Embeddings` given for them, their labels, a typical image side (to choose the input size), the files
    set aside while scanning, and what a run records of the source (run.json's ``source``)."""

    source: ImageFolder | np.ndarray | Embeddings
    labels_true: object
    typical_size: int
    skipped: list[SkippedFile]
    about: dict | None = None


def describe_source(source) -> dict:
    """What run.json's ``source`` says of opened images: a folder's root, an array's shape, embeddings' own
    description (:meth:`Embeddings.describe`); nothing for None."""
    if isinstance(source, Embeddings):
        return source.describe()
    if isinstance(source, ImageFolder):
        return {"kind": "folder", "root": str(source.root.resolve())}
    return {} if source is None else {"kind": "array", "shape": list(np.shape(source))}


def open_source(source, labels_true=None) -> OpenedSource:
    """A folder path becomes a scanned :class:`ImageFolder` (``labels_true="subfolders[:first|deepest|N]"`` reads
    its labels from the subfolder names); an array is checked to be non-empty uint8 images ``(N, H, W[, C])``; a
    builtin data set (:func:`open_dataset`) gives its images and, unless ``labels_true`` is given, its labels.

    Examples
    --------
    >>> from deepclust.datasets import load_dataset, open_source
    >>> X, _ = load_dataset("digits")
    >>> open_source(X).typical_size
    8
    """
    if isinstance(source, Embeddings):  # vectors given: no images to open (their labels, if any, score them)
        return OpenedSource(source, source.labels if labels_true is None else labels_true, 0, [],
                            describe_source(source))
    if isinstance(source, DatasetImages):
        X = check_uint8_images(source.images, "images")
        return OpenedSource(X, source.labels if labels_true is None else labels_true, max(X.shape[1:3]), [],
                            {**describe_source(X), **source.about})
    if isinstance(source, (str, os.PathLike)):
        source = scan_folder(source)
        if len(source) == 0:
            raise ValueError(f"no image files found under {source.root}{_reasons(source.skipped)}")
        if isinstance(labels_true, str) and labels_true.partition(":")[0] == "subfolders":
            labels_true = source.labels_from_subfolders(labels_true.partition(":")[2] or "first")
            if labels_true is None:
                flat = next(p for p in source.paths if "/" not in p)
                raise ValueError(f"labels from subfolders were asked for, but some images lie directly in "
                                 f"{source.root} (e.g. {flat}): put every image in a class subfolder")
        return OpenedSource(source, labels_true, _typical_folder_size(source), list(source.skipped),
                            describe_source(source))
    source = check_uint8_images(source, "images")
    return OpenedSource(source, labels_true, max(source.shape[1:3]), [], describe_source(source))


def check_uint8_images(X, what: str) -> np.ndarray:
    """``X`` as a non-empty uint8 image array (N, H, W[, C]); a clear error naming ``what`` otherwise."""
    X = np.asarray(X)
    if X.dtype != np.uint8 or X.ndim not in (3, 4) or len(X) == 0:
        raise ValueError(f"{what} must be a non-empty uint8 image array (N, H, W[, C]); got {X.dtype} {X.shape}")
    return X


def check_enough_images(n: int, n_clusters: int | None, set_aside: list[SkippedFile], how: str) -> None:
    """Two images at least, and no fewer than the clusters asked for: said before the work that would fail."""
    if n < 2:
        raise ValueError(f"only {n} image(s) {how}; need at least 2 to cluster{_reasons(set_aside)}")
    if n_clusters is not None and int(n_clusters) > n:
        raise ValueError(f"n_clusters is {n_clusters} but only {n} image(s) {how}: ask for at most {n} clusters"
                         f"{_reasons(set_aside)}")


def _reasons(set_aside: list[SkippedFile], shown: int = 3) -> str:
    """`` (N files set aside: a.png: reason; …)``: why files were not used, the first few by name."""
    if not set_aside:
        return ""
    named = "; ".join(f"{s.path}: {s.reason}" for s in set_aside[:shown])
    more = f"; and {len(set_aside) - shown} more" if len(set_aside) > shown else ""
    return f" ({len(set_aside)} file(s) set aside: {named}{more})"


def take_subset(source, labels_true, limit: int, random_state):
    """``limit`` images of the source (see :func:`~deepclust.datasets.subset_indices`), their labels, and what
    run.json says of them; for arrays the original indices are kept (``"indices"``), so ``paths`` still name the
    images of the whole array."""
    chosen, how = subset_indices(len(source), limit, labels_true, random_state)
    info = {"limit": limit, "subset": how, "n_found": len(source)}
    if labels_true is not None:
        labels_true = np.asarray(labels_true)[chosen]
    if isinstance(source, ImageFolder):
        return ImageFolder(source.root, [source.paths[i] for i in chosen], source.skipped), labels_true, info
    if isinstance(source, Embeddings):
        return source.take(chosen), labels_true, info
    return source[chosen], labels_true, {**info, "indices": chosen}


def _typical_folder_size(folder: ImageFolder, n: int = 32) -> int:
    """Median larger side of the first readable images (headers only), to pick the input size."""
    sizes = []
    for rel in folder.paths[:n]:
        try:
            sizes.append(max(image_size(folder.root / rel)))
        except Exception:  # unreadable files are reported by the extraction, not here
            continue
    return int(np.median(sizes)) if sizes else 224
