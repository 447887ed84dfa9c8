"""``deepclust review``: the local app that fixes a run's clusters, or its edits written out as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, err_console, friendly_errors, out_console, warnings_as_lines


@app.command()
def review(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but 127.0.0.1 lets other machines "
                                           "reach the page (they still need the token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: a free one).")] = 0,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open the page in the browser "
                                                                        "(--no-open: only print its address).")]
    = True,
    export_log: Annotated[Path | None, typer.Option(
        help="Write the edits in effect and the clusters they give to this JSON file, and exit.",
        show_default=False)] = None,
):
    """Fix a run's clusters in the browser: rename, merge, split, move, set aside, undo.

    Each edit is appended to review.jsonl in the run folder and on disk before the page shows it; the run's own
    files are never changed. Every command then reads the fixed clusters (`--original` for the run as clustered)."""
    from ..review import LOOPBACK, ReviewedRun, ReviewServer

    with friendly_errors(), warnings_as_lines():
        if export_log is not None:
            reviewed = ReviewedRun.open(run_dir)
            reviewed.export_log(export_log)
            out_console.print(f"{len(reviewed.done)} edits written to {export_log}")
            return
        server = ReviewServer(run_dir, host=host, port=port)
    if host not in LOOPBACK:
        err_console.print(f"[yellow]warning:[/yellow] listening on {host}: other machines that reach it can open "
                          f"the page with its token; use the default 127.0.0.1 unless you mean it", highlight=False)
    read_only = " (read-only: the run folder cannot be written)" if server.read_only else ""
    out_console.print(f"reviewing {run_dir}{read_only}; open this address (it holds the page's secret token); "
                      f"Ctrl+C stops the server:", highlight=False, soft_wrap=True)
    out_console.print(server.url, highlight=False, soft_wrap=True)
    if open_browser:
        server.open_in_browser()
    server.serve()  # until Ctrl+C
    out_console.print("stopped; every edit the page showed as done is in review.jsonl")
