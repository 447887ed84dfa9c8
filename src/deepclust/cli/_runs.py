"""Commands on a finished run folder: score it against labels, assign new images to its clusters."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from ._app import app, err_console, fail, friendly_errors, out_console, scores_table, warnings_as_lines


def _run_path(path: str, root: Path | None) -> str:
    """A labels-CSV path as the run names its images: relative to the input folder, POSIX separators."""
    p = Path(path.strip())
    if p.is_absolute() and root is not None:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return Path(os.path.normpath(p)).as_posix()


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    labels: Annotated[Path | None, typer.Option(help="CSV with columns path,label (paths absolute or relative to "
                                                       "the input folder); default: the run's label column, else "
                                                       "the images' subfolder names.")] = None,
    labels_depth: Annotated[str | None, typer.Option(
        help="Without --labels: which folder names the class, first (2023 of 2023/Holiday/x.jpg), deepest "
             "(2023/Holiday) or N (the first N levels). Default: first.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace an evaluation against other labels (one run "
                                                            "keeps one evaluation).")] = False,
):
    """Score a run folder against known labels (ACC, NMI, ARI, purity, cluster-by-class table)."""
    from .._outputs import check_writable
    from ..metrics import external_scores
    from ..report import RUN_OWN_LABELS
    from ..run import CONFUSION_FILE, EVALUATION_FILE, RunFolder

    with friendly_errors():
        run = RunFolder.open(run_dir)
        check_writable(run_dir, hint="the scores are written into the run folder: copy it somewhere writable")
    rows = run.rows
    n_run, unmatched = len(rows), 0
    if labels is not None and labels_depth is not None:
        fail("--labels-depth says which subfolder names the class when no --labels file is given: give one of them")
    if labels is not None:
        if not labels.is_file():
            fail(f"labels file not found: {labels}")
        with labels.open(newline="") as f:
            table = [r for r in csv.reader(f) if r]
        if not table or len(table[0]) < 2:
            fail(f"{labels}: expected a CSV with two columns path,label")
        root = run.root
        in_run = {r["path"] for r in rows}
        start, path_col, label_col = ((0, 0, 1) if _run_path(table[0][0], root) in in_run
                                      else _label_columns(table[0], labels))
        known = {_run_path(r[path_col], root): r[label_col].strip() for r in table[start:]
                 if len(r) > max(path_col, label_col)}
        unmatched = sum(1 for p in known if p not in in_run)
        rows = [r for r in rows if r["path"] in known]
        truth, source = [known[r["path"]] for r in rows], str(labels)
        if not rows:
            fail(f"none of the {len(known)} paths in {labels} is an image of the run (paths are matched relative to "
                 f"the input folder {root or '?'}; absolute paths work too)")
        if len(rows) < n_run:
            err_console.print(f"[yellow]warning:[/yellow] {labels} labels {len(rows)} of the run's {n_run} images; "
                              f"the scores are for those only", highlight=False)
        if unmatched:
            err_console.print(f"[yellow]warning:[/yellow] {unmatched} row(s) of {labels} name no image of the run "
                              f"(ignored)", highlight=False)
    elif rows and "label" in rows[0] and labels_depth is None:
        truth, source = [r["label"] for r in rows], RUN_OWN_LABELS
    else:
        truth, source = _subfolder_labels([r["path"] for r in rows], labels_depth or "first")
    if not rows:
        fail("the run has no images to score")
    earlier = run.evaluation()
    if earlier is not None and earlier.get("labels") != source and not replace:
        acc = earlier.get("scores", {}).get("acc")
        fail(f"{run_dir} was scored against {earlier.get('labels')}{f' (ACC {acc:.3f})' if acc is not None else ''}, "
             f"and scoring it against {source} would replace that: give --replace to do so (a run keeps one "
             f"evaluation)")
    clusters = [r["cluster"] for r in rows]
    scores = external_scores(truth, clusters)
    scores["n_scored"] = len(rows)
    classes, cluster_ids = sorted(set(truth)), sorted(set(clusters), key=int)
    counts = np.zeros((len(cluster_ids), len(classes)), dtype=np.int64)
    ci, ki = {c: i for i, c in enumerate(cluster_ids)}, {c: i for i, c in enumerate(classes)}
    for t, c in zip(truth, clusters):
        counts[ci[c], ki[t]] += 1
    run.write_evaluation({"labels": source, "scores": scores, "n_run_images": n_run,
                          "unmatched_label_rows": unmatched}, classes, dict(zip(cluster_ids, counts)))
    with friendly_errors():
        run.write_report()
    out_console.print(scores_table(scores))
    out_console.print(_confusion_table(cluster_ids, classes, counts))
    out_console.print(f"labels from {source}; written to {run_dir / EVALUATION_FILE} and {CONFUSION_FILE}, and "
                      f"shown in report.html")


def _subfolder_labels(paths: list[str], depth: str) -> tuple[list[str], str]:
    """Each image's folder at ``depth`` as its label, and how the labels are named; said on stderr when the folders
    look like containers rather than classes (images at several depths: ``DCIM/2024/05/x.jpg`` beside
    ``WhatsApp/y.jpg``), where ``--labels-depth`` or a labels file may be meant."""
    from ..datasets import ImageFolder

    with friendly_errors():
        found = ImageFolder(Path("."), paths).labels_from_subfolders(depth)
    if found is None:
        fail("no --labels given and some images are not in a subfolder, so there are no labels to score with")
    truth = [str(t) for t in found]
    depths = {len(Path(p).parts) - 1 for p in paths}
    named = "subfolder names" + ("" if depth == "first" else f" (--labels-depth {depth})")
    if len(set(truth)) < 2:
        fail(f"every image lies in the folder {truth[0]}, so its name is no label to score with: give --labels FILE"
             f" or --labels-depth (deepest or a number of levels)")
    if depth != "deepest" and len(depths) > 1:
        classes = sorted(set(truth))
        err_console.print(f"[yellow]warning:[/yellow] the images lie at {len(depths)} folder depths, so the folders "
                          f"may not be classes: scoring against {', '.join(classes[:6])}"
                          f"{' …' if len(classes) > 6 else ''}; give --labels-depth deepest or N, or --labels FILE, "
                          f"if those are not the classes", highlight=False)
    return truth, named


#: Column names a labels CSV may use in its header (any case); without a header: path first, label second.
PATH_COLUMNS = ("path", "file", "filename", "file_name", "filepath", "image", "img", "name")
LABEL_COLUMNS = ("label", "class", "category", "target", "y", "class_name")


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
        fail(f"{labels}: the first row {','.join(first_row)} is not a header deepclust knows; name the columns "
             f"{' or '.join(PATH_COLUMNS[:3])} and {' or '.join(LABEL_COLUMNS[:3])}, or leave the header out (path "
             f"first, label second)")
    return 0, 0, 1


def _confusion_table(cluster_ids, classes, counts) -> Table:
    table = Table(title="images per cluster (rows) and class (columns)")
    table.add_column("cluster")
    for c in classes:
        table.add_column(str(c), justify="right")
    table.add_column("majority")
    for c, row in zip(cluster_ids, counts):
        table.add_row(str(c), *[str(v) if v else "·" for v in row], f"{classes[int(row.argmax())]} "
                      f"({row.max() / max(row.sum(), 1):.0%})")
    return table


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
):
    """Rebuild a run folder's report.html from its files (run.json, assignments.csv, figures/)."""
    from .._outputs import check_writable
    from ..run import RunFolder

    with friendly_errors():
        run = RunFolder.open(run_dir)
        check_writable(run_dir, hint="the page is written into the run folder: copy it somewhere writable")
        path = run.write_report()
    out_console.print(f"wrote {path}")


@app.command()
def outliers(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    n: Annotated[int, typer.Option("-n", min=1, help="How many images to list.")] = 20,
):
    """The images least like their cluster (far from its centre for that cluster, low confidence): listed, and
    written to outliers.csv and figures/outliers.png in the run folder."""
    from .._outputs import check_writable
    from ..explore import find_outliers
    from ..run import RunFolder

    with friendly_errors():
        run = RunFolder.open(run_dir)
        check_writable(run_dir, hint="outliers.csv is written into the run folder: copy it somewhere writable")
        found = find_outliers(run_dir, n)
        images = run.images([f["row"] for f in found])
    table = Table(title=f"{len(found)} least typical images")
    for col in ("path", "cluster", "distance / cluster's median", "confidence"):
        table.add_column(col)
    for f in found:
        table.add_row(f["path"], str(f["cluster"]), f"{f['score']:.2f}", f"{f['confidence']:.3f}")
    out_console.print(table)
    written = run.write_outliers(found, images)
    run.write_report()
    out_console.print(f"written to {run_dir}: {' and '.join(written)}; shown in report.html")


@app.command()
def similar(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    image: Annotated[str, typer.Argument(help="An image of the run (its path as in assignments.csv) or any image "
                                              "file (embedded with the run's model).")],
    n: Annotated[int, typer.Option("-n", min=1, help="How many images to list.")] = 10,
):
    """The images of the run nearest to IMAGE in the run's clustering space."""
    from ..explore import find_similar

    with friendly_errors(), warnings_as_lines():
        found, how = find_similar(run_dir, image, n)
    table = Table(title=f"nearest to {image} ({how})")
    for col in ("path", "cluster", "distance"):
        table.add_column(col)
    for f in found:
        table.add_row(f["path"], str(f["cluster"]), f"{f['distance']:.4g}")
    out_console.print(table)


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run folder of a folder of images.")],
    to: Annotated[Path, typer.Option("--to", help="Folder to fill with one subfolder per cluster.")],
    mode: Annotated[str, typer.Option(help="symlink (default) or copy; originals are never moved.")] = "symlink",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Fill a non-empty --to folder.")] = False,
):
    """One folder per cluster holding links to (or copies of) its images: cluster_000/ …, with the name the report
    shows when the run named its clusters (cluster_003_tabby_cat/)."""
    from ..explore import export_clusters

    with friendly_errors():
        try:
            counts = export_clusters(run_dir, to, mode=mode, overwrite=overwrite)
        except FileExistsError:
            fail(f"{to} is not empty; choose another --to or pass --overwrite")
    out_console.print(f"{sum(counts.values())} images in {len(counts)} cluster folders under {to} ({mode})")
