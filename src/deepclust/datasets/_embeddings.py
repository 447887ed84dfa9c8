"""Vectors a user brings instead of images (``deepclust cluster --embeddings FILE``): one row per image, from a model
deepclust does not run. They enter where features would, so every method that consumes features runs on them; the
images, when their paths resolve, serve only the pictures."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from ._folder import ImageFolder, SkippedFile
from ._interface import Source, images_unavailable

#: The file kinds :func:`load_embeddings` reads.
EMBEDDING_SUFFIXES = (".npy", ".parquet", ".csv")
#: Files next to ``NAME.npy`` that name its rows, tried in this order (``{stem}``: NAME), then a run folder's own.
SIBLING_PATHS = ("{stem}.paths.txt", "{stem}.txt", "{stem}.csv")


@dataclass
class Embeddings(Source):
    """One vector per image (``vectors``, float32 (N, d)) and the image's path, as the run will name it: relative to
    ``root`` when some of the images were found on disk (``n_found`` of them), else as the file gave it (``root``
    None: a run without pictures). ``labels``: a ``label`` column, used only to score. ``file``: where they came from.
    """

    vectors: np.ndarray
    paths: list[str]
    file: Path
    root: Path | None = None
    n_found: int = 0
    labels: np.ndarray | None = None
    paths_file: Path | None = None
    paths_base: Path | None = None
    skipped: list[SkippedFile] = field(default_factory=list)
    kind: ClassVar[str] = "embeddings"

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def name(self) -> str:
        return f"embeddings {self.file}"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def images(self) -> ImageFolder | None:
        """The images the rows name, for montages and thumbnails (a missing file just has no tile); None when none
        was found."""
        return ImageFolder(self.root, list(self.paths)) if self.root is not None else None

    def take(self, rows) -> Embeddings:
        """The rows ``rows`` (an index array), as a new table."""
        rows = np.asarray(rows, dtype=np.intp)
        return replace(self, vectors=self.vectors[rows], paths=[self.paths[i] for i in rows],
                       labels=None if self.labels is None else self.labels[rows])

    def _shown(self) -> ImageFolder:
        images = self.images  # None exactly when root is
        if images is None:
            raise images_unavailable(self.why_no_images())
        return images

    def hash_into(self, h) -> None:
        h.update(np.ascontiguousarray(self.vectors).tobytes())

    def batches(self, size, batch_size=64, plan=None, num_workers=None, upscale=True):
        return self._shown().batches(size, batch_size, plan, num_workers, upscale)

    def pixels(self, size, grayscale, batch_size=64, num_workers=None, verbose=False):
        return self._shown().pixels(size, grayscale, batch_size, num_workers, verbose)

    def image(self, row: int, size: int = 96) -> np.ndarray:
        return self._shown().image(row, size)

    def map_images(self, fn, **options) -> list:
        return self._shown().map_images(fn, **options)

    def why_no_images(self) -> str:
        """Why no image was found, in a clause."""
        if self.paths_file is None and self.file.suffix.lower() == ".npy":
            return f"{self.file.name} came without paths, so its rows are named by number (give a paths file)"
        return f"no file its paths name was found (relative paths are read from {self.paths_base})"

    def describe(self) -> dict:
        """What run.json says of them (its ``source``)."""
        images = (f"{self.n_found} of {len(self)} found under {self.root}" if self.root is not None
                  else f"none: {self.why_no_images()}")
        out = {"kind": "embeddings", "file": str(self.file.resolve()), "n_rows": len(self), "dim": self.dim,
               "images": images}
        if self.paths_file is not None:
            out["paths_file"] = str(self.paths_file.resolve())
        if self.root is not None:
            out["root"] = str(self.root)
        return out


def load_embeddings(file: str | os.PathLike, paths: str | os.PathLike | None = None) -> Embeddings:
    """Read vectors from ``file``: ``.npy`` (N, d), its rows named by ``paths`` (a text file, one path per line, or a
    CSV with a ``path`` column) or by a sibling file (``NAME.paths.txt``, ``NAME.txt``, ``NAME.csv``; in a run folder,
    its ``assignments.csv``), else by their numbers; ``.parquet`` or ``.csv`` with a ``path`` column and either one
    column per dimension or one column holding each row's list, and an optional ``label`` column.

    Relative paths are taken from the folder of the file that lists them (a run folder's from its input folder). Every
    defect is a ``ValueError`` of one sentence: values that are not finite numbers, rows of another width, repeated
    paths, a paths list of another length.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(folder / "vectors.npy", np.eye(3, dtype=np.float32))
    >>> load_embeddings(folder / "vectors.npy").paths
    ['0', '1', '2']
    """
    file = Path(file)
    if not file.is_file():
        raise ValueError(f"embeddings file not found: {file}")
    suffix = file.suffix.lower()
    if suffix not in EMBEDDING_SUFFIXES:
        raise ValueError(f"{file}: embeddings must be a {', '.join(EMBEDDING_SUFFIXES)} file")
    labels = None
    if suffix == ".npy":
        try:
            vectors = np.load(file, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{file} is not a numeric .npy array ({exc})") from None
        if vectors.ndim != 2:
            raise ValueError(f"{file} holds an array of shape {vectors.shape}; embeddings are (rows, dimensions)")
        paths_file = Path(paths) if paths is not None else _sibling_paths(file)
        names, base = (_read_paths(paths_file) if paths_file is not None
                       else ([str(i) for i in range(len(vectors))], None))
        if paths_file is not None and len(names) != len(vectors):
            raise ValueError(f"{paths_file} names {len(names)} paths but {file} has {len(vectors)} rows")
    else:
        if paths is not None:
            raise ValueError(f"a paths file is for .npy files; {file.name} names its rows in its own path column")
        frame = _read_table(file)
        names, base, paths_file = [str(p) for p in frame.pop("path")], file.parent, None
        if "label" in frame.columns:
            labels = frame.pop("label").to_numpy()
        vectors = _table_vectors(frame, file)
    if not np.issubdtype(vectors.dtype, np.number) or np.issubdtype(vectors.dtype, np.complexfloating):
        raise ValueError(f"{file}: the embeddings are {vectors.dtype}, not real numbers")
    if len(vectors) == 0 or vectors.shape[1] == 0:
        raise ValueError(f"{file} has no embeddings (shape {vectors.shape})")
    # one cast and one memory order whatever the file: a table's columns come column-major, and the same values
    # laid out otherwise moved 13 of 320 images to other clusters (UMAP follows the last bits of PCA's output)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{file}: {int(bad.sum())} row(s) hold NaN or infinite values, the first row {row} "
                         f"({names[row]})")
    empty = next((i for i, name in enumerate(names) if not name.strip() or name == "nan"), None)
    if empty is not None:
        raise ValueError(f"{paths_file or file}: row {empty} has no path; every row must name its image")
    table = Embeddings(vectors, names, file, labels=labels, paths_file=paths_file, paths_base=base)
    table = _resolve(table, base) if base is not None else table
    seen: dict[str, int] = {}
    for i, name in enumerate(table.paths):  # as resolved: ./a.jpg and a.jpg are one image
        if name in seen:
            raise ValueError(f"{paths_file or file}: rows {seen[name]} and {i} name the same image ({names[i]}); "
                             f"each row must be another image")
        seen[name] = i
    return table


def is_embeddings_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file of a kind :func:`load_embeddings` reads (a folder never is)."""
    return Path(path).suffix.lower() in EMBEDDING_SUFFIXES and Path(path).is_file()


def _sibling_paths(file: Path) -> Path | None:
    for pattern in SIBLING_PATHS:
        candidate = file.with_name(pattern.format(stem=file.stem))
        if candidate.is_file():
            return candidate
    if (file.parent / "run.json").is_file() and (file.parent / "assignments.csv").is_file():
        return file.parent / "assignments.csv"  # a run folder's embedding.npy: its rows are its assignments' rows
    return None


def _read_paths(paths_file: Path) -> tuple[list[str], Path]:
    """The paths a text or CSV file lists, and the folder relative paths start from."""
    if not paths_file.is_file():
        raise ValueError(f"paths file not found: {paths_file}")
    base = paths_file.parent
    if paths_file.suffix.lower() == ".csv":
        import pandas as pd

        frame = pd.read_csv(paths_file, dtype=str, keep_default_na=False)
        if "path" not in frame.columns:
            raise ValueError(f"{paths_file} has no path column (its columns: {', '.join(frame.columns)})")
        run_json = paths_file.parent / "run.json"
        if run_json.is_file():  # a run folder: its paths are relative to the run's input folder
            source = json.loads(run_json.read_text()).get("source", {})
            base = Path(source["root"]) if source.get("root") else base
        return list(frame["path"]), base
    lines = paths_file.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    blank = next((i for i, line in enumerate(lines) if not line.strip()), None)
    if blank is not None:
        raise ValueError(f"line {blank + 1} of {paths_file} is empty; list one path per line, in the rows' order")
    return [line.strip() for line in lines], base


def _read_table(file: Path):
    import pandas as pd

    if file.suffix.lower() == ".csv":
        frame = pd.read_csv(file)
    else:
        try:
            frame = pd.read_parquet(file)
        except ImportError:
            raise ValueError(f"reading {file.name} needs pyarrow: pip install 'deepclust[parquet]'") from None
    if "path" not in frame.columns:
        raise ValueError(f"{file} has no path column (its columns: {', '.join(map(str, frame.columns[:8]))})")
    return frame


def _table_vectors(frame, file: Path) -> np.ndarray:
    """One column per dimension, or one column of lists (a CSV writes them as text: ``[0.1, 0.2]``)."""
    from pandas.api.types import is_numeric_dtype

    index = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
    if index:
        raise ValueError(f"{file}: column {index[0]!r} has no name (a table's index, written by to_csv without "
                         f"index=False?); name every column, or leave the index out")
    if len(frame.columns) == 1 and not is_numeric_dtype(frame[frame.columns[0]]):
        column = frame.columns[0]
        rows = [_as_list(v, i, column, file) for i, v in enumerate(frame[column])]
        widths = [len(r) for r in rows]
        wrong = next((i for i, w in enumerate(widths) if w != widths[0]), None)
        if wrong is not None:
            raise ValueError(f"{file}: row {wrong} of column {column} has {widths[wrong]} values, row 0 has "
                             f"{widths[0]}; every embedding must have the same width")
        return np.asarray(rows, dtype=np.float64)
    text = [c for c in frame.columns if not is_numeric_dtype(frame[c])]
    if text:
        raise ValueError(f"{file}: column {text[0]} is not numeric; besides path and label, every column must be "
                         f"one dimension of the embedding (or give one column of lists)")
    return frame.to_numpy()


def _as_list(value, row: int, column: str, file: Path) -> list:
    """One cell of a list column as a list of numbers (a CSV holds it as JSON text)."""
    try:
        values = json.loads(value) if isinstance(value, str) else list(value)
    except (ValueError, TypeError):
        raise ValueError(f"{file}: row {row} of column {column} is not a list of numbers (write each as JSON, "
                         f"e.g. [0.1, 0.2]): {str(value)[:40]}") from None
    if not isinstance(values, list):
        raise ValueError(f"{file}: row {row} of column {column} is not a list of numbers: {str(value)[:40]}")
    return values


def _resolve(table: Embeddings, base: Path) -> Embeddings:
    """Find the images the rows name: relative paths from ``base``; the root is the folder that holds all of them,
    and the rows are named relative to it, as a folder run names them."""
    full = [Path(p) if Path(p).is_absolute() else base / p for p in table.paths]
    found = sum(p.is_file() for p in full)
    if not found:
        return table
    full = [Path(os.path.abspath(p)) for p in full]
    base = Path(os.path.abspath(base))
    # names relative to the listing's folder when every image lies under it, so that a row keeps its name whatever
    # else the file lists (compare and --like match rows by name); else relative to the folder that holds them all
    root = base if all(p.is_relative_to(base) for p in full) else Path(os.path.commonpath([str(p.parent)
                                                                                           for p in full]))
    return replace(table, root=root, n_found=found, paths=[p.relative_to(root).as_posix() for p in full])
