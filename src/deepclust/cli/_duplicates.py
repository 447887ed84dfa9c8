"""``deepclust duplicates``: exact and near-duplicate images of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, friendly_errors, out_console, warnings_as_lines


@app.command()
def duplicates(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    threshold: Annotated[float, typer.Option(min=0.5, max=1.0, help="Cosine similarity of the CNN features from "
                                                                     "which two images count as near duplicates.")]
    = 0.99,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
):
    """Groups of duplicate images: exact copies (same file content) and near duplicates (CNN features alike);
    written to duplicates.csv in the run folder."""
    from .._atomic import write_text
    from ..explore import find_duplicates
    from ..report import write_report

    with friendly_errors(), warnings_as_lines():
        groups = find_duplicates(run_dir, threshold, verbose=not quiet)
    table = Table(title=f"{len(groups)} group(s) of duplicates (near: cosine ≥ {threshold})")
    for col in ("group", "kind", "least similar pair", "images"):
        table.add_column(col)
    for i, g in enumerate(groups[:50]):
        shown = ", ".join(g.paths[:6]) + (" …" if len(g.paths) > 6 else "")
        table.add_row(str(i), g.kind, f"{g.similarity:.4f}", shown)
    out_console.print(table)
    write_text(run_dir / "duplicates.csv", "group,kind,similarity,path\n" + "".join(
        f"{i},{g.kind},{g.similarity},{p}\n" for i, g in enumerate(groups) for p in g.paths))
    write_report(run_dir)
    out_console.print(f"{sum(len(g.paths) for g in groups)} images in {len(groups)} groups; written to "
                      f"{run_dir / 'duplicates.csv'} and shown in report.html")
