"""``deepclust assign``: new images into the clusters of an earlier run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, default_out, friendly_errors, out_console, warnings_as_lines
from ._options import Original


@app.command()
def assign(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    folder: Annotated[Path, typer.Argument(help="Folder of new images to assign to the run's clusters (a run on "
                                                "embeddings: a file of new rows, as `cluster --embeddings` reads).")],
    out: Annotated[Path | None, typer.Option(help="Folder for assignments.csv and assign.json (default: in runs/, "
                                                  "named after the run and the folder, never reused).",
                                             show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier assign folder (one holding "
                                                                "assign.json).")] = False,
    max_distance: Annotated[float | None, typer.Option(
        min=0.0, help="Leave an image unassigned (cluster -1) when its feature distance (mean distance to its 5 "
                      "nearest run images, L2-normalised CNN features) is above this; default: the 99th "
                      "percentile of the run's own images.", show_default=False)] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Images per batch.")] = 64,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Feature cache folder (default: see `deepclust cache`).", show_default=False)] = None,
    cache: Annotated[bool, typer.Option(help="Reuse and store features in the cache.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    original: Original = False,
):
    """Assign new images to the clusters of an earlier run (methods that can predict: kmeans, SCAN, the DEC family);
    images unlike the run's are left unassigned (cluster -1)."""
    from .._device import resolve_device
    from .._outputs import check_output_dir
    from ..assign import ASSIGN_FILE, assign_images
    from ..datasets import is_embeddings_file, load_embeddings
    from ..run import ASSIGNMENTS_FILE

    with friendly_errors(["max_distance"]):
        resolve_device(device)
        new = folder.resolve()
        out = out if out is not None else default_out(f"{run_dir.resolve().name}-assign-"
                                                       f"{new.stem if new.is_file() else new.name}")
        check_output_dir(out, overwrite, inputs=[folder, run_dir], marker=ASSIGN_FILE, what="assign folder")
        with warnings_as_lines():
            source = load_embeddings(folder) if is_embeddings_file(folder) else folder
            result = assign_images(run_dir, source, max_distance=max_distance, original=original,
                                   batch_size=batch_size, device=device, cache_dir=cache_dir, use_cache=cache,
                                   verbose=not quiet)
        result.save(out, folder)
    if result.skipped:
        out_console.print(f"{len(result.skipped)} file(s) skipped (reasons in assign.json)")
    n_assigned = len(result.paths) - result.n_unassigned
    out_console.print(f"{n_assigned} of {len(result.paths)} images assigned to {len(result.cluster_sizes())} of the "
                      f"run's clusters ({result.clusters}); written to {out / ASSIGNMENTS_FILE}", highlight=False)
    if result.max_distance is None:
        out_console.print(f"unassigned: {result.threshold}", highlight=False)
    else:
        out_console.print(f"{result.n_unassigned} unassigned (cluster -1): feature distance above "
                          f"{result.max_distance:.4g} ({result.threshold}; --max-distance sets it)",
                          highlight=False)
