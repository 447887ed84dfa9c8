"""What a run recorded of its source (run.json's ``source``), read back: to name it, to reopen its images, and to
check that new input is of the same kind."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._interface import Source


@dataclass(frozen=True)
class SourceRecord:
    """What was clustered (run.json's ``source``): a ``folder`` (``root``), a builtin ``dataset`` (``dataset``,
    ``split``), an ``array`` given from Python or ``embeddings`` (``file``, ``dim``, where its images were found:
    ``images``, ``root``); ``shape`` and ``n_rows`` are those of the images or rows clustered, so with ``limit`` of a
    random ``subset`` of the ``n_found``."""

    kind: str
    root: str | None = None
    dataset: str | None = None
    split: str | None = None
    known_classes: str | None = None
    shape: tuple[int, ...] | None = None
    file: str | None = None
    paths_file: str | None = None
    n_rows: int | None = None
    dim: int | None = None
    images: str | None = None
    limit: int | None = None
    n_found: int | None = None
    subset: str | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> SourceRecord:
        data = dict(data or {})
        if "shape" in data and data["shape"] is not None:
            data["shape"] = tuple(data["shape"])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names and k != "kind"},
                   kind=data.get("kind") or ("folder" if data.get("root") else "dataset" if data.get("dataset")
                                             else "array"))

    def to_dict(self) -> dict:
        out = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        if self.shape is not None:
            out["shape"] = list(self.shape)
        return out

    @property
    def input_root(self) -> Path | None:
        """The folder the run's images are in: a folder run's, or that of embeddings whose images were found."""
        return Path(self.root) if self.kind in ("folder", "embeddings") and self.root else None

    @property
    def title(self) -> str:
        """A short name for the page's title: the data set, the folder's name, the embeddings file or the array."""
        if self.kind == "array":
            return f"array {list(self.shape or ())}"
        if self.kind == "embeddings":
            return f"embeddings {Path(self.file or '?').name}"
        return self.dataset or Path(self.root or "images").name

    def line(self) -> str:
        """What was clustered, in a line: the input folder, the data set, the embeddings file or the array's shape."""
        if self.kind == "embeddings":
            return f"embeddings {self.file} ({self.n_rows} × {self.dim}; images: {self.images})"
        return self.root or self.dataset or f"array of shape {tuple(self.shape or ())}"

    @property
    def scanned_folder(self) -> Path | None:
        """The input folder a later run scans again (a folder run's), where no run folder may go."""
        return self.input_root if self.kind == "folder" else None

    @property
    def holds_vectors(self) -> bool:
        """Whether the run clustered vectors given to it (embeddings) rather than images."""
        return self.kind == "embeddings"

    @property
    def shows_images(self) -> bool:
        """Whether the run's images can be read back to be shown: a folder's or embeddings' found files, a builtin
        data set's rows (not those of a data set split by class, which the run does not keep)."""
        if self.input_root is not None:
            return True
        return self.kind == "dataset" and bool(self.dataset) and self.known_classes is None

    def reopen(self, paths: list[str]) -> Source:
        """The rows named ``paths`` (as the run named them) of the source, opened again: the input folder's files,
        the builtin data set's rows, the embeddings file's rows. ``ValueError`` that says why they cannot be (the
        folder or file is gone or changed; an array given from Python, whose pixels the run folder does not keep;
        the novel classes of a data set split by class)."""
        from ._array import ImageArray
        from ._builtin import load_dataset
        from ._embeddings import load_embeddings
        from ._folder import ImageFolder

        if self.kind == "embeddings":
            assert self.file is not None  # recorded for embeddings
            if not Path(self.file).is_file():
                raise ValueError(f"the run's embeddings file {self.file} is not there any more")
            table = load_embeddings(self.file, self.paths_file)
            row_of = {p: i for i, p in enumerate(table.paths)}
            gone = next((p for p in paths if p not in row_of), None)
            if gone is not None:
                raise ValueError(f"the run's rows are no longer all in {self.file} (e.g. {gone}): it changed since")
            return table.take([row_of[p] for p in paths])
        if self.input_root is not None:
            if not self.input_root.is_dir():
                raise ValueError(f"the run's input folder {self.input_root} is not there any more")
            return ImageFolder(self.input_root, list(paths))
        if not self.dataset:
            raise ValueError("this run clustered an array given from Python: its pixels are not in the run folder")
        if self.known_classes is not None:  # its rows index the novel classes' images of a split by class
            raise ValueError(f"this run clustered the novel classes of {self.dataset} ({self.split}): its images "
                             f"are not read back from the run folder")
        X, y = load_dataset(self.dataset, split=self.split or "all")
        rows = np.array([int(p) for p in paths], dtype=np.int64)  # an array, as ImageArray.take indexes it
        return ImageArray(X[rows], y[rows], rows=rows, about={"dataset": self.dataset, "split": self.split})

    def reopen_images(self, paths: list[str]) -> Source | None:
        """The images of the rows named ``paths``, to show (:meth:`reopen`'s, or the files that embeddings' rows
        name); None where the run keeps no way to read them (see :attr:`shows_images`)."""
        from ._folder import ImageFolder

        if not self.shows_images:
            return None
        if self.input_root is not None:  # a folder's files, or those embeddings' paths name
            return ImageFolder(self.input_root, list(paths))
        return self.reopen(paths)

    def check_like(self, source) -> None:
        """New input for a run on this source: embeddings of the same width for a run on embeddings, images for a
        run on images (``source``: a :class:`Source`, or what :func:`open_source` takes)."""
        given = holds_vectors(source)
        if given != self.holds_vectors:
            raise ValueError(f"this run clustered {'embeddings' if self.holds_vectors else 'images'}: assign "
                             f"{'an embeddings file (.npy, .parquet, .csv)' if self.holds_vectors else 'images'} "
                             f"to it")
        if given and source.vectors.shape[1] != self.dim:
            raise ValueError(f"{source.name} has {source.vectors.shape[1]} dimensions; the run's embeddings have "
                             f"{self.dim}")


def holds_vectors(source) -> bool:
    """Whether ``source`` (a :class:`Source`, or a path or array not yet opened) is vectors, not images."""
    return isinstance(source, Source) and source.vectors is not None
