"""``deepclust assign``: new images into the clusters of an earlier run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, default_out, friendly_errors, out_console, warnings_as_lines


@app.command()
def assign(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    folder: Annotated[Path, typer.Argument(help="Folder of new images to assign to the run's clusters.")],
    out: Annotated[Path | None, typer.Option(help="Folder for assignments.csv (default runs/RUN-assign-FOLDER, "
                                                  "never reused).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty --out folder.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Images per batch.")] = 64,
    cache: Annotated[bool, typer.Option(help="Reuse and store features in the cache.")] = True,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
):
    """Assign new images to the clusters of an earlier run (methods that can predict: kmeans, SCAN, the DEC family)."""
    from .._atomic import write_json, write_text
    from .._device import resolve_device
    from ..assign import assign_images
    from ..runfolder import check_output_dir

    with friendly_errors():
        resolve_device(device)
        out = out if out is not None else default_out(f"{run_dir.resolve().name}-assign-{folder.resolve().name}")
        check_output_dir(out, overwrite)
        with warnings_as_lines():
            result = assign_images(run_dir, folder, batch_size=batch_size, device=device, use_cache=cache,
                                   verbose=not quiet)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "assignments.csv", "path,cluster\n" + "".join(
        f"{p},{int(c)}\n" for p, c in zip(result.paths, result.labels)))
    write_json(out / "assign.json", {"run": str(run_dir.resolve()), "folder": str(folder.resolve()),
                                     "n_assigned": len(result.paths), "cluster_sizes": result.cluster_sizes(),
                                     "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped]})
    if result.skipped:
        out_console.print(f"{len(result.skipped)} file(s) skipped (reasons in assign.json)")
    out_console.print(f"{len(result.paths)} images assigned to {len(result.cluster_sizes())} of the run's clusters; "
                      f"written to {out / 'assignments.csv'}")
