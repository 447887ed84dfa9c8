"""``deepclust compare``: two runs of the same images side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from ._app import app, default_out, err_console, friendly_errors, out_console, scores_table
from ._options import Original

#: Clusters of A shown in the terminal; the page and comparison.json have them all.
N_FLOWS_SHOWN = 20


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    run_b: Annotated[Path, typer.Argument(help="Another run folder of the same images (another method, k or seed).")],
    out: Annotated[Path | None, typer.Option(help="Folder for moved.csv, comparison.json and compare.html "
                                                  "(default: in runs/, named after the two runs, never reused).",
                                             show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier compare folder (one holding "
                                                                "comparison.json).")] = False,
    original: Original = False,
):
    """Compare two runs on the images both clustered: agreement (ARI, NMI), each cluster of A matched to one of B,
    the flows between them and the images that moved."""
    from .._outputs import check_output_dir
    from ..run import COMPARE_PAGE, COMPARISON_FILE, MOVED_FILE, compare_runs

    with friendly_errors():
        result = compare_runs(run_a, run_b, original=original)
        out = out if out is not None else default_out(f"{run_a.resolve().name}-vs-{run_b.resolve().name}")
        check_output_dir(out, overwrite, inputs=[run_a, run_b], marker=COMPARISON_FILE, what="compare folder")
        result.save(out)
    for note in result.notes:
        err_console.print(f"[yellow]warning:[/yellow] {note}", highlight=False)
    out_console.print(scores_table({"ARI": result.ari, "NMI": result.nmi}, title="agreement"))
    out_console.print(f"{result.n_shared} images in both runs, {len(result.only_in_a)} only in A, "
                      f"{len(result.only_in_b)} only in B; {result.n_moved} moved "
                      f"({result.n_moved / result.n_shared:.1%})", highlight=False)
    out_console.print(_flows_table(result))
    if result.unmatched_b:
        out_console.print(f"B's clusters with no partner in A: {', '.join(map(str, result.unmatched_b))}",
                          highlight=False)
    out_console.print(f"written to {out}: {MOVED_FILE}, {COMPARISON_FILE} and {COMPARE_PAGE}", highlight=False)


def _flows_table(result) -> Table:
    """One row per cluster of A (the ones that lost most, when there are many): its partner, what stayed, where the
    rest went."""
    from ..run import COMPARE_PAGE

    flows = result.cluster_flows()
    title = "where A's clusters went in B"
    if len(flows) > N_FLOWS_SHOWN:
        flows = sorted(sorted(flows, key=lambda f: -f.n_moved)[:N_FLOWS_SHOWN], key=lambda f: f.cluster_a)
        title += f" (the {N_FLOWS_SHOWN} with most moved images; all in {COMPARE_PAGE})"
    table = Table(title=title)
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("A", "right"), ("images", "right"), ("→ B", "right"), ("kept", "right"),
        ("largest outflows (B: images)", "left"))
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for f in flows:
        table.add_row(str(f.cluster_a), str(f.n_shared), "none" if f.matched_b is None else str(f.matched_b),
                      f"{f.kept} ({f.kept / f.n_shared:.0%})" if f.n_shared else "0",
                      ", ".join(f"{b}: {n}" for b, n in f.outflows) or "·")
    return table
