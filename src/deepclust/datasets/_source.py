"""Opening what a user gives to cluster as a :class:`Source`: a folder path (scanned), a uint8 array (checked), a
builtin data set, embeddings; a random subset of it, the known images of transfer clustering, and the check that
enough images are left; every error names the files set aside and why."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ._array import ImageArray, check_uint8_images
from ._folder import ImageFolder, SkippedFile, scan_folder
from ._interface import Source
from ._subset import subset_indices


def open_dataset(name: str, split: str = "all", data_dir=None, download: bool = False) -> ImageArray:
    """The builtin data set ``name`` (see :func:`~deepclust.datasets.load_dataset`) as a source to cluster, with its
    labels, so that the run records which data set and split it clustered."""
    from ._builtin import load_dataset

    X, y = load_dataset(name, split=split, data_dir=data_dir, download=download)
    return ImageArray(X, y, about={"dataset": name, "split": split})


def as_source(source) -> Source:
    """``source`` as a :class:`Source`: itself, a folder path scanned (:func:`scan_folder`), or a uint8 image array
    checked (:class:`ImageArray`)."""
    if isinstance(source, Source):
        return source
    if isinstance(source, (str, os.PathLike)):
        return scan_folder(source)
    return ImageArray(source)


def open_source(source, labels_true=None) -> Source:
    """What to cluster as a :class:`Source`, with its known labels: a folder path becomes a scanned
    :class:`ImageFolder` (``labels_true="subfolders[:first|deepest|N]"`` reads its labels from the subfolder
    names); an array is checked to be non-empty uint8 images ``(N, H, W[, C])``; a builtin data set
    (:func:`open_dataset`) and embeddings keep their own labels unless ``labels_true`` is given.

    Examples
    --------
    >>> from deepclust.datasets import load_dataset, open_source
    >>> X, _ = load_dataset("digits")
    >>> open_source(X).typical_size
    8
    """
    source = as_source(source)
    if source.root is not None and source.vectors is None and len(source) == 0:
        raise ValueError(f"no image files found under {source.root}{_reasons(source.skipped)}")
    if isinstance(labels_true, str) and labels_true.partition(":")[0] == "subfolders":
        if not isinstance(source, ImageFolder):
            raise ValueError(f"labels from subfolders need a folder of images, not {source.name}")
        labels_true = source.labels_from_subfolders(labels_true.partition(":")[2] or "first")
        if labels_true is None:
            flat = next(p for p in source.paths if "/" not in p)
            raise ValueError(f"labels from subfolders were asked for, but some images lie directly in "
                             f"{source.root} (e.g. {flat}): put every image in a class subfolder")
    if labels_true is not None:
        source = dataclasses.replace(source, labels=np.asarray(labels_true))
    return source


def open_known(known) -> Source:
    """The labelled images of known classes that transfer clustering learns from: a folder (path or
    :class:`ImageFolder`) with one subfolder per class, or a pair ``(images, labels)``."""
    if isinstance(known, (str, os.PathLike, Source)):
        folder = as_source(known)
        if len(folder) == 0:
            raise ValueError(f"no known images: no image files found under {folder.root}")
        if folder.labels is not None:
            return folder
        if not isinstance(folder, ImageFolder):  # only files have subfolders to name their classes
            raise ValueError(f"the known images ({folder.name}) need labels: give a folder with one subfolder per "
                             f"class, or a pair (images, labels)")
        labels = folder.labels_from_subfolders()
        if labels is None:
            raise ValueError(f"the known images need one subfolder per class; some lie directly in {folder.root}")
        return dataclasses.replace(folder, labels=labels)
    try:
        X_known, y_known = known
    except (TypeError, ValueError):
        raise ValueError("known must be a folder or a pair (images, labels)") from None
    X_known, y_known = np.asarray(X_known), np.asarray(y_known)
    if len(X_known) == 0:
        raise ValueError("no known images: the known image array is empty")
    if len(y_known) != len(X_known):
        raise ValueError(f"{len(y_known)} labels for {len(X_known)} known images")
    return ImageArray(check_uint8_images(X_known, "the known images"), y_known)


def check_disjoint(known: Source, unknown: Source) -> None:
    """Refuse known and unlabelled images that are the same files (the same path, or the same bytes); images in
    memory are not compared."""
    import hashlib

    if known.root is None or unknown.root is None:
        return

    def files(folder):
        return {(folder.root / p).resolve(): p for p in folder.paths}

    a, b = files(known), files(unknown)
    same = sorted(set(a) & set(b))
    if not same:  # copies: equal sizes first, then equal contents
        sizes: dict[int, list] = {}
        for path in a:
            sizes.setdefault(path.stat().st_size, []).append(path)
        digest: dict[Path, bytes] = {}
        for path in b:
            for other in sizes.get(path.stat().st_size, []):
                key = digest.setdefault(other, hashlib.sha1(other.read_bytes()).digest())
                if key == hashlib.sha1(path.read_bytes()).digest():
                    same.append(path)
                    break
    if same:
        raise ValueError(f"the known and the unlabelled images share {len(same)} file(s) (e.g. {same[0]}): the "
                         f"unlabelled images must be others than those the method learns from")

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


def take_subset(source: Source, limit: int, random_state) -> tuple[Source, dict]:
    """``limit`` images of the source (see :func:`~deepclust.datasets.subset_indices`; stratified by its labels when
    it has some), which keep their names (a folder's paths, an array's row numbers in the whole), and what run.json
    says of the draw."""
    chosen, how = subset_indices(len(source), limit, source.labels, random_state)
    return source.take(chosen), {"limit": limit, "subset": how, "n_found": len(source)}
