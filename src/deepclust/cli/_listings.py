"""Commands that list what deepclust has: methods and their options, data sets, extractors, the feature cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, fail, friendly_errors, out_console
from ._cluster import METHOD_OPTIONS_HELP


@app.command()
def methods(
    name: Annotated[str | None, typer.Argument(help="A method: list its options.", show_default=False)] = None,
):
    """List the clustering methods, or one method's options (types, defaults, help)."""
    from ..methods import get_method, list_methods

    if name is None:
        table = Table(title="clustering methods")
        for col in ("name", "family", "consumes", "estimator", "paper"):
            table.add_column(col)
        for method in list_methods():
            spec = get_method(method)
            table.add_row(spec.name, spec.family, " | ".join(spec.inputs), spec.estimator.__name__, spec.paper)
        out_console.print(table)
        out_console.print("`deepclust methods NAME` lists a method's options.")
        return
    with friendly_errors():
        spec = get_method(name)
    out_console.print(f"[bold]{spec.name}[/bold]: {spec.summary}")
    out_console.print(f"estimator {spec.estimator.__module__}.{spec.estimator.__name__}; consumes "
                      f"{' or '.join(spec.inputs)}; paper: {spec.paper}")
    table = Table(title=f"options of {spec.name}")
    for col in ("option", "type", "default", "help"):
        table.add_column(col)
    aliases = {v: k for k, v in spec.aliases.items()}
    for opt in spec.options:
        shown = "--" + opt.name.replace("_", "-") + (f" (--{aliases[opt.name]})" if opt.name in aliases else "")
        table.add_row(shown, opt.type_name, repr(opt.default), opt.help)
    out_console.print(table)
    out_console.print(METHOD_OPTIONS_HELP)


@app.command()
def datasets():
    """List the builtin data sets and whether each is available offline here."""
    from ..datasets import DATASETS, dataset_available

    table = Table(title="builtin data sets")
    for col in ("name", "available", "splits", "description"):
        table.add_column(col)
    for info in DATASETS.values():
        table.add_row(info.name, "yes" if dataset_available(info.name) else "no (needs files or --download)",
                      ", ".join(info.splits), info.description)
    out_console.print(table)


@app.command()
def extractors():
    """List the feature extractors, their layers and where their weights come from."""
    from ..features import get_extractor_spec, list_extractors

    table = Table(title="feature extractors")
    for col in ("name", "layers (size)", "input", "weights"):
        table.add_column(col)
    for name in list_extractors():
        spec = get_extractor_spec(name)
        layers = ", ".join(f"{k}{'*' if k == spec.default_layer else ''} ({v})" for k, v in spec.layers.items())
        table.add_row(name, layers, str(spec.input_size), spec.weights_source)
    out_console.print(table)
    out_console.print("* default layer. Weights other than the pip-shipped ones: --weights PATH, or a download.")


@app.command()
def cache(
    action: Annotated[str, typer.Argument(help="list (default) or clear.")] = "list",
    cache_dir: Annotated[Path | None, typer.Option(
        help="Feature cache folder (default ~/.cache/deepclust/features, or $DEEPCLUST_CACHE).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="clear: do not ask for confirmation.")] = False,
):
    """Show the feature cache (entries, size) or clear it."""
    from ..features import clear_feature_cache, list_feature_cache

    if action not in ("list", "clear"):
        fail(f"unknown action {action!r}: use list or clear")
    entries = list_feature_cache(cache_dir)
    total = sum(e.size_bytes for e in entries)
    if action == "list":
        table = Table(title=f"feature cache ({len(entries)} entries, {total / 2**20:.1f} MiB)")
        for col in ("key", "what", "images", "MiB", "last used"):
            table.add_column(col)
        for e in entries:
            table.add_row(e.key[:12], e.description, str(e.n_images), f"{e.size_bytes / 2**20:.1f}",
                          e.last_used.strftime("%Y-%m-%d %H:%M"))
        out_console.print(table)
        if entries:
            out_console.print(f"in {entries[0].path.parent}; `deepclust cache clear` removes them")
        return
    if not entries:
        out_console.print("the feature cache is empty")
        return
    if not yes and not typer.confirm(f"remove {len(entries)} cached feature files ({total / 2**20:.1f} MiB)?"):
        fail("nothing removed", 1)
    removed = clear_feature_cache(cache_dir)
    out_console.print(f"removed {removed} entries ({total / 2**20:.1f} MiB)")
