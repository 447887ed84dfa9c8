"""Images in memory as a source: a uint8 array given from Python, or a builtin data set's images with where they
came from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from ._folder import ImageBatch, SkippedFile, iter_array_batches
from ._interface import Source


@dataclass
class ImageArray(Source):
    """A uint8 image array ``(N, H, W[, C])`` as a :class:`Source`. ``rows``: each image's number in the array it
    was taken from (its name in a run: a subset keeps the numbers of the whole); ``about``: what a run records of
    where it came from, for a builtin data set (``{"dataset": …, "split": …}``, see :func:`open_dataset`)."""

    array: np.ndarray = field(repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)
    rows: np.ndarray | None = field(default=None, repr=False)
    about: dict = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    root = None
    vectors = None

    def __post_init__(self):
        self.array = check_uint8_images(self.array, "images")
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
        if self.rows is None:
            self.rows = np.arange(len(self.array))

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "dataset" if self.about.get("dataset") else "array"

    def __len__(self) -> int:
        return len(self.array)

    @property
    def paths(self) -> list[str]:  # type: ignore[override]
        assert self.rows is not None  # set by __post_init__
        return [str(int(r)) for r in self.rows]

    @property
    def typical_size(self) -> int:
        return int(max(self.array.shape[1:3]))

    @property
    def name(self) -> str:
        return f"array {list(self.array.shape)}"

    def take(self, rows) -> ImageArray:
        rows = np.asarray(rows, dtype=np.intp)
        assert self.rows is not None  # set by __post_init__
        return replace(self, array=self.array[rows], labels=None if self.labels is None else self.labels[rows],
                       rows=self.rows[rows])

    def describe(self) -> dict:
        return {"kind": self.kind, "shape": list(self.array.shape), **self.about}

    def hash_into(self, h) -> None:
        arr = np.ascontiguousarray(self.array)
        h.update(f"{arr.shape}{arr.dtype}".encode())
        h.update(arr.data.cast("B"))  # memoryview(arr), which numpy's stubs allow only from Python 3.12

    def batches(self, size: int, batch_size: int = 64, plan=None, num_workers=None,
                upscale: bool = True) -> Iterator[ImageBatch]:
        return iter_array_batches(self.array, batch_size, plan)

    def pixels(self, size: int, grayscale: bool, batch_size: int = 64, num_workers=None, verbose: bool = False):
        return self.array, np.arange(len(self)), []

    def image(self, row: int, size: int = 96) -> np.ndarray:
        return np.asarray(self.array[row])

    def map_images(self, fn, *, mode: str = "RGB", min_side: int = 0, reduce_to: int | None = None,
                   num_workers: int | None = None, verbose: bool = False, description: str = "") -> list:
        from PIL import Image

        from .._progress import track

        if min(self.array.shape[1:3]) < min_side:
            return [None] * len(self)
        return [fn(Image.fromarray(a.squeeze() if a.ndim == 3 and a.shape[-1] == 1 else a).convert(mode))
                for a in track(self.array, total=len(self), description=description, verbose=verbose)]


def check_uint8_images(X, what: str) -> np.ndarray:
    """``X`` as a non-empty uint8 image array (N, H, W[, C]); a clear error naming ``what`` otherwise."""
    X = np.asarray(X)
    if X.dtype != np.uint8 or X.ndim not in (3, 4) or len(X) == 0:
        raise ValueError(f"{what} must be a non-empty uint8 image array (N, H, W[, C]); got {X.dtype} {X.shape}")
    return X
