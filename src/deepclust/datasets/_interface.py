"""The one interface every kind of input implements (a folder, an array, a builtin data set, embeddings), so that no
other package asks which kind it was given."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class SkippedFile:
    """A file (or folder) that got no cluster, and why."""

    path: str
    reason: str


@dataclass
class ImageBatch:
    """A batch of decoded images: ``images[i]`` is image number ``indices[i]``; ``failed`` lists the rest;
    ``notes`` the warnings decoding raised (by name of file), to be raised where the batch is used."""

    indices: np.ndarray
    images: np.ndarray
    failed: list[tuple[int, str]]
    notes: list[str] = field(default_factory=list)

    @property
    def n_items(self) -> int:
        return len(self.indices) + len(self.failed)


class Source(ABC):
    """What a run clusters, whatever it came as: ``len`` rows, each named by ``paths[i]`` (a path relative to
    ``root``, or the row's number in the array it came from), with known ``labels`` (or None, used only to score),
    the files set aside while opening it (``skipped``), and its images at a size (:meth:`batches`, :meth:`pixels`,
    :meth:`image`). Embeddings carry ``vectors`` (the features, given) and show the images their paths name, when
    found (:attr:`images`)."""

    #: run.json's ``source.kind``: "folder", "array", "dataset" or "embeddings".
    kind: ClassVar[str]
    # Declared here, set by each kind (no defaults here: the kinds are dataclasses with these as their fields).
    paths: list[str]
    labels: np.ndarray | None
    skipped: list[SkippedFile]
    #: The folder the images are files in; None for images in memory.
    root: Path | None
    #: The features, when they were given instead of images (embeddings); None for images.
    vectors: np.ndarray | None

    @abstractmethod
    def __len__(self) -> int: ...

    @property
    def images(self) -> Source | None:
        """The images to show for the rows (montages, thumbnails): the source itself, or the files that embeddings'
        paths name (None when none was found)."""
        return self

    @property
    def typical_size(self) -> int:
        """A typical image side, to choose the network's input size (0: no images)."""
        return 0

    @property
    def name(self) -> str:
        """The source in a few words, for messages: its folder, its array's shape, its file."""
        return self.kind

    @abstractmethod
    def take(self, rows) -> Source:
        """The rows ``rows`` (an index array) as a source of their own; each keeps its name (``paths``)."""

    @abstractmethod
    def describe(self) -> dict:
        """What run.json's ``source`` says of it (read back by :class:`~deepclust.datasets.SourceRecord`)."""

    @abstractmethod
    def hash_into(self, h) -> None:
        """Feed what identifies its images (files' sizes and times, or the pixels) to the hash ``h``: the feature
        cache's key."""

    @abstractmethod
    def batches(self, size: int, batch_size: int = 64, plan: list[np.ndarray] | None = None,
                num_workers: int | None = None, upscale: bool = True) -> Iterator[ImageBatch]:
        """The images in order (or the image numbers of ``plan``), ``batch_size`` at a time: files decoded at
        ``size`` (``upscale=False``: smaller ones keep their side), arrays as they are."""

    @abstractmethod
    def pixels(self, size: int, grayscale: bool, batch_size: int = 64, num_workers: int | None = None,
               verbose: bool = False) -> tuple[np.ndarray, np.ndarray, list[SkippedFile]]:
        """Every readable image as one uint8 array ``(N, S, S, C)`` (files decoded at ``size``, grey when
        ``grayscale``; arrays as given), their row numbers, and the files that failed."""

    @abstractmethod
    def image(self, row: int, size: int = 96) -> np.ndarray:
        """Row ``row``'s uint8 image (a file decoded at ``size``; an array's as it is)."""

    @abstractmethod
    def map_images(self, fn: Callable, *, mode: str = "RGB", min_side: int = 0, reduce_to: int | None = None,
                   num_workers: int | None = None, verbose: bool = False, description: str = "") -> list:
        """``fn(image)`` of every row's image as a PIL image in colour ``mode`` (files decoded at a reduced scale
        near ``reduce_to``, turned upright), None for an unreadable image or one whose smaller side is below
        ``min_side``."""


def images_unavailable(why: str) -> ValueError:
    """The error a source without images (embeddings whose files were not found) gives when asked for them."""
    return ValueError(f"no images to read: {why}")
