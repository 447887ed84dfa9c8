"""Commands on a finished run folder: score it against labels, rebuild its page, list outliers and similar images,
export its clusters as folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, fail, friendly_errors, out_console, scores_table, warnings_as_lines
from ._options import Original


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
    original: Original = False,
):
    """Score a run folder against known labels (ACC, NMI, ARI, purity, cluster-by-class table)."""
    from ..run import CONFUSION_FILE, EVALUATION_FILE, EvaluationExistsError, evaluate_run

    with friendly_errors(["labels_depth"]), warnings_as_lines():
        try:
            result = evaluate_run(run_dir, labels, labels_depth=labels_depth, replace=replace, original=original)
        except EvaluationExistsError as exc:
            fail(str(exc).replace("replace=True", "--replace"))
    out_console.print(scores_table(result.scores))
    out_console.print(_confusion_table(result.cluster_ids, result.classes, result.counts))
    out_console.print(f"clusters {result.clusters}; labels from {result.labels}; written to "
                      f"{run_dir / EVALUATION_FILE} and {CONFUSION_FILE}, and shown in report.html", highlight=False)


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
    original: Original = False,
):
    """Rebuild a run folder's report.html from its files (run.json, assignments.csv, figures/), with the clusters a
    person fixed (`deepclust review`) when there are any."""
    from .._outputs import check_writable
    from ..run import RunFolder

    with friendly_errors():
        run = RunFolder.open(run_dir, original=original)
        check_writable(run_dir, hint="the page is written into the run folder: copy it somewhere writable")
        path = run.write_report()
    fixed = f" (the clusters a person fixed: {run.review.describe()})" if run.review is not None else ""
    out_console.print(f"wrote {path}{fixed}", highlight=False)


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
    to: Annotated[Path | None, typer.Option("--to", help="Folder to fill with one subfolder per cluster.",
                                            show_default=False)] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write a CSV of path, cluster and name instead "
                                                                "(any run, folders or not).", show_default=False)]
    = None,
    mode: Annotated[str, typer.Option(help="symlink (default) or copy; originals are never moved.")] = "symlink",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Fill a non-empty --to folder, replace --csv.")]
    = False,
    original: Original = False,
):
    """One folder per cluster holding links to (or copies of) its images, or a labelled CSV (--csv).

    The folders are cluster_000/ …, with the cluster's name when it has one (cluster_003_tabby_cat/): the name a
    person gave in `deepclust review`, else the one the report shows. Images set aside in review are left out."""
    from ..explore import export_clusters, export_csv

    if (to is None) == (csv_file is None):
        fail("give --to FOLDER (one folder per cluster) or --csv FILE (path, cluster, name), one of them")
    with friendly_errors():
        try:
            if csv_file is not None:
                counts = export_csv(run_dir, csv_file, overwrite=overwrite, original=original)
            else:
                counts = export_clusters(run_dir, to, mode=mode, overwrite=overwrite, original=original)
        except FileExistsError:
            fail(f"{to or csv_file} exists; choose another or pass --overwrite")
    where = f"rows of {csv_file}" if csv_file is not None else f"cluster folders under {to} ({mode})"
    out_console.print(f"{sum(counts.values())} images in {len(counts)} {where}", highlight=False)
