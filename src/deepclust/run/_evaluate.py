"""Scoring a finished run against known labels: a labels CSV, the run's own label column, or the images' folders.
The result is written into the run folder (evaluation.json, confusion.csv) and shown by its report; a run keeps one
evaluation, and one against other labels replaces it only when asked."""

from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._folder import RunFolder
from ._review import ASIDE

#: Column names a labels CSV may use in its header (any case); without a header: path first, label second.
PATH_COLUMNS = ("path", "file", "filename", "file_name", "filepath", "image", "img", "name")
LABEL_COLUMNS = ("label", "class", "category", "target", "y", "class_name")


@dataclass
class Evaluation:
    """A run scored against labels: where the labels came from (``labels``), the scores (ACC, NMI, ARI, purity,
    ``n_scored``), and the images per cluster (rows, ``cluster_ids``) and class (columns, ``classes``)."""

    labels: str
    scores: dict
    cluster_ids: list[str]
    classes: list[str]
    counts: np.ndarray
    n_run_images: int
    unmatched_label_rows: int = 0
    #: Which clusters were scored: ``as clustered``, or those a person fixed (``3 edits (review.jsonl)``).
    clusters: str = "as clustered"


class EvaluationExistsError(ValueError):
    """The run was scored against other labels; scoring it again would replace that evaluation."""

    def __init__(self, run_dir, earlier: dict, labels: str):
        acc = earlier.get("scores", {}).get("acc")
        self.earlier, self.labels = earlier.get("labels"), labels
        super().__init__(f"{run_dir} was scored against {self.earlier}{f' (ACC {acc:.3f})' if acc is not None else ''}"
                         f", and scoring it against {labels} would replace that: give replace=True to do so (a run "
                         f"keeps one evaluation)")


def evaluate_run(run_dir: str | os.PathLike, labels: str | os.PathLike | None = None, *,
                 labels_depth: str | int | None = None, replace: bool = False,
                 original: bool = False) -> Evaluation:
    """Score the run in ``run_dir`` against ``labels`` (a CSV of path and label; paths absolute or relative to the
    input folder; a header of common names or none), else the run's label column, else its images' folders at
    ``labels_depth`` (``"first"`` by default, ``"deepest"`` or a number of levels); write evaluation.json and
    confusion.csv into the run folder and rebuild its report.

    Warns when the labels cover part of the run, when label rows name no image of it, and when the images lie at
    several folder depths (the folders may be containers, not classes). :class:`EvaluationExistsError` when the run
    was scored against other labels and ``replace`` is false. The clusters scored are those a person fixed
    (``deepclust review``), unless ``original``; evaluation.json says which.
    """
    from .._outputs import check_writable
    from ..metrics import external_scores
    from ..report import RUN_OWN_LABELS

    run = RunFolder.open(run_dir, original=original)
    check_writable(run_dir, hint="the scores are written into the run folder: copy it somewhere writable")
    if labels is not None and labels_depth is not None:
        raise ValueError("labels_depth says which folder names the class when no labels file is given: give one of "
                         "them")
    rows, unmatched = run.rows, 0
    if labels is not None:
        known = _read_labels(Path(labels), run)
        in_run = {r["path"] for r in rows}
        unmatched = sum(1 for p in known if p not in in_run)
        rows = [r for r in rows if r["path"] in known]
        truth, source = [known[r["path"]] for r in rows], str(Path(labels).resolve())
        if not rows:
            raise ValueError(f"none of the {len(known)} paths in {labels} is an image of the run (paths are matched "
                             f"relative to the input folder {run.root or '?'}; absolute paths work too)")
        if len(rows) < len(run.rows):
            warnings.warn(f"{labels} labels {len(rows)} of the run's {len(run.rows)} images; the scores are for "
                          f"those only", UserWarning, stacklevel=2)
        if unmatched:
            warnings.warn(f"{unmatched} row(s) of {labels} name no image of the run (ignored)", UserWarning,
                          stacklevel=2)
    elif rows and "label" in rows[0] and labels_depth is None:
        truth, source = [r["label"] for r in rows], RUN_OWN_LABELS
    else:
        truth, source = _folder_labels([r["path"] for r in rows], labels_depth or "first", run.root)
    if not rows:
        raise ValueError("the run has no images to score")
    earlier = run.evaluation()
    if earlier is not None and not _same_labels(earlier.get("labels"), source) and not replace:
        raise EvaluationExistsError(run_dir, earlier, source)
    clusters = [r["cluster"] for r in rows]
    scores = external_scores(truth, clusters)
    scores["n_scored"] = sum(int(c) != ASIDE for c in clusters)  # images in no cluster are left out of the scores
    classes, cluster_ids = sorted(set(truth)), sorted(set(clusters), key=int)
    counts = np.zeros((len(cluster_ids), len(classes)), dtype=np.int64)
    ci, ki = {c: i for i, c in enumerate(cluster_ids)}, {c: i for i, c in enumerate(classes)}
    for t, c in zip(truth, clusters):
        counts[ci[c], ki[t]] += 1
    result = Evaluation(source, scores, cluster_ids, classes, counts, len(run.rows), unmatched, run.clusters_read)
    run.write_evaluation({"labels": source, "scores": scores, "n_run_images": len(run.rows),
                          "unmatched_label_rows": unmatched, "clusters": run.clusters_read}, classes,
                         dict(zip(cluster_ids, counts)))
    run.write_report()
    return result


def _same_labels(earlier: str | None, now: str) -> bool:
    """Whether two evaluations' label sources are the same: the same words, or the same labels file however its path
    was written (an older evaluation recorded it as typed)."""
    if earlier == now:
        return True
    return earlier is not None and Path(earlier).is_file() and Path(earlier).resolve() == Path(now).resolve()


def _read_labels(labels: Path, run: RunFolder) -> dict[str, str]:
    """The CSV's labels by the run's name of each image."""
    if not labels.is_file():
        raise FileNotFoundError(f"labels file not found: {labels}")
    with labels.open(newline="") as f:
        table = [r for r in csv.reader(f) if r]
    if not table or len(table[0]) < 2:
        raise ValueError(f"{labels}: expected a CSV with two columns path,label")
    root = run.root
    in_run = {r["path"] for r in run.rows}
    start, path_col, label_col = ((0, 0, 1) if _run_path(table[0][0], root) in in_run
                                  else _label_columns(table[0], labels))
    return {_run_path(r[path_col], root): r[label_col].strip() for r in table[start:]
            if len(r) > max(path_col, label_col)}


def _run_path(path: str, root: Path | None) -> str:
    """A labels-CSV path as the run names its images: relative to the input folder, POSIX separators."""
    p = Path(path.strip())
    if p.is_absolute() and root is not None:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return Path(os.path.normpath(p)).as_posix()


def _label_columns(first_row: list[str], labels: Path) -> tuple[int, int, int]:
    """Where the data starts and which columns hold the path and the label, for a first row that names no image of
    the run: a header with common names, else columns 0 and 1; a first row that looks like a header of other names
    is an error that says what is expected."""
    header = [c.strip().lower() for c in first_row]
    path_col = next((i for i, c in enumerate(header) if c in PATH_COLUMNS), None)
    label_col = next((i for i, c in enumerate(header) if c in LABEL_COLUMNS), None)
    if path_col is not None and label_col is not None:
        return 1, path_col, label_col
    if not Path(first_row[0].strip()).suffix:  # no image file name: a header of names we do not know
        raise ValueError(f"{labels}: the first row {','.join(first_row)} is not a header deepclust knows; name the "
                         f"columns {' or '.join(PATH_COLUMNS[:3])} and {' or '.join(LABEL_COLUMNS[:3])}, or leave "
                         f"the header out (path first, label second)")
    return 0, 0, 1


def _folder_labels(paths: list[str], depth: str | int, root: Path | None) -> tuple[list[str], str]:
    """Each image's folder at ``depth`` as its label, and how the labels are named; a warning when the folders look
    like containers rather than classes (images at several depths: ``DCIM/2024/05/x.jpg`` beside
    ``WhatsApp/y.jpg``), where another depth or a labels file may be meant."""
    from ..datasets import ImageFolder

    found = ImageFolder(root or Path("."), paths).labels_from_subfolders(depth)
    if found is None:
        raise ValueError("no labels given and some images are not in a subfolder, so there are no labels to score "
                         "with")
    truth = [str(t) for t in found]
    if len(set(truth)) < 2:
        raise ValueError(f"every image lies in the folder {truth[0]}, so its name is no label to score with: give "
                         f"a labels file or labels_depth (deepest or a number of levels)")
    depths = {len(Path(p).parts) - 1 for p in paths}
    if depth != "deepest" and len(depths) > 1:
        classes = sorted(set(truth))
        shown = ", ".join(classes[:6]) + (" …" if len(classes) > 6 else "")
        warnings.warn(f"the images lie at {len(depths)} folder depths, so the folders may not be classes: scoring "
                      f"against {shown}; if those are not the classes, give another depth (deepest, or a number "
                      f"of levels) or a labels file", UserWarning, stacklevel=3)
    return truth, "subfolder names" + ("" if depth == "first" else f" (depth {depth})")
