"""``deepclust duplicates``: exact, perceptual and near-duplicate images of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..explore import COSINE_THRESHOLD, HASH_DISTANCE, HASH_MIN_SIDE
from ._app import app, fail, friendly_errors, out_console, warnings_as_lines


@app.command()
def duplicates(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    threshold: Annotated[float, typer.Option(min=0.5, max=1.0, help="Cosine similarity of the CNN features from "
                                                                     "which two images count as near duplicates.")]
    = COSINE_THRESHOLD,
    hash_distance: Annotated[int, typer.Option(
        min=0, max=64, help="Largest Hamming distance (of 64 bits) between the perceptual hashes of two copies of "
                            "one picture (resized, re-encoded, lightly edited).")] = HASH_DISTANCE,
    hash: Annotated[bool, typer.Option("--hash/--no-hash", help="Compare perceptual hashes.")] = True,
    features: Annotated[bool, typer.Option("--features/--no-features",
                                           help="Compare CNN features (--no-features: no extraction).")] = True,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Feature cache folder (default: see `deepclust cache`).", show_default=False)] = None,
    cache: Annotated[bool, typer.Option(help="Reuse and store features in the cache.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
):
    """Groups of duplicate images: exact copies (same file content), copies by perceptual hash and near duplicates
    (CNN features alike); written to duplicates.csv in the run folder."""
    from .._outputs import check_writable
    from ..explore import find_duplicates
    from ..run import DUPLICATES_FILE, RunFolder

    if not (hash or features):
        fail("--no-hash and --no-features leave nothing to compare but file contents: drop one of them")
    with friendly_errors(), warnings_as_lines():
        run = RunFolder.open(run_dir)
        check_writable(run_dir, hint="duplicates.csv is written into the run folder: copy it somewhere writable")
        groups = find_duplicates(run_dir, threshold if features else None,
                                 hash_distance=hash_distance if hash else None, cache_dir=cache_dir,
                                 use_cache=cache, verbose=not quiet)
    rules = ([f"perceptual: pHash within {hash_distance} bits (images from {HASH_MIN_SIDE} px)"] if hash else []) + (
        [f"near: cosine ≥ {threshold}"] if features else [])
    table = Table(title=f"{len(groups)} group(s) of duplicates ({'; '.join(rules)})")
    table.add_column("group", justify="right")
    table.add_column("kind")
    table.add_column("least cosine", justify="right")
    table.add_column("largest Hamming", justify="right")
    table.add_column("images", overflow="fold")
    for i, g in enumerate(groups[:50]):
        shown = ", ".join(g.paths[:6]) + (" …" if len(g.paths) > 6 else "")
        table.add_row(str(i), g.kind, _shown(g.similarity), _shown(g.hamming), shown)
    out_console.print(table)
    run.write_duplicates(groups)
    run.write_report()
    out_console.print(f"{sum(len(g.paths) for g in groups)} images in {len(groups)} groups; written to "
                      f"{run_dir / DUPLICATES_FILE} and shown in report.html", highlight=False)


def _shown(value) -> str:
    return "–" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
