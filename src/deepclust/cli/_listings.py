"""Commands that list what deepclust has: methods and their options, data sets, extractors, the feature cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ._app import app, fail, friendly_errors, out_console
from ._options import METHOD_OPTIONS_HELP


@app.command()
def methods(
    name: Annotated[str | None, typer.Argument(help="A method: list its options.", show_default=False)] = None,
):
    """List the clustering methods, or one method's options (types, defaults, help)."""
    from ..methods import get_method, list_methods, summary_of

    if name is None:  # names never wrap nor cut: two would look alike (agglomerative-ward, -average)
        table = Table(title="clustering methods")
        table.add_column("name", no_wrap=True)
        table.add_column("family", no_wrap=True)
        table.add_column("consumes")
        table.add_column("paper", ratio=1)
        for method in list_methods():
            spec = get_method(method)
            table.add_row(spec.name, spec.family, ", ".join(spec.inputs), spec.paper)
        out_console.print(table)
        out_console.print("`deepclust methods NAME` shows a method's estimator and lists its options.")
        return
    with friendly_errors():
        spec = get_method(name)
    out_console.print(f"[bold]{spec.name}[/bold]: {summary_of(spec.estimator)}.", highlight=False)
    out_console.print(f"estimator {spec.estimator.__module__}.{spec.estimator.__name__}; consumes "
                      f"{' or '.join(spec.inputs)}; paper: {spec.paper}", highlight=False)
    # two columns: at 80 columns a separate type and default column left the help a few words wide
    table = Table(title=f"options of {spec.name}")
    table.add_column("option, type, default", overflow="fold")
    table.add_column("help", overflow="fold", ratio=1)
    aliases: dict[str, list[str]] = {}
    for alias, target in spec.aliases.items():
        aliases.setdefault(target, []).append("--" + alias.replace("_", "-"))
    for opt in spec.options:
        cell = Text(opt.flag, style="bold")
        for other in aliases.get(opt.name, []) + opt.alias_flags:
            cell.append(f"\n({other})")
        cell.append(f"\n{opt.type_name}, default {opt.default!r}", style="dim")
        if opt.constraint is not None:
            cell.append(f"\n{opt.constraint}", style="dim")
        table.add_row(cell, opt.help)
    out_console.print(table)
    out_console.print(METHOD_OPTIONS_HELP)


@app.command()
def datasets():
    """List the builtin data sets and whether each is available offline here."""
    from ..datasets import DATASETS, dataset_available

    table = Table(title="builtin data sets")
    table.add_column("name", no_wrap=True)
    for col in ("available", "splits", "description"):
        table.add_column(col, overflow="fold")
    for info in DATASETS.values():
        table.add_row(info.name, "yes" if dataset_available(info.name) else "no (needs files or --download)",
                      ", ".join(info.splits), info.description)
    out_console.print(table)


@app.command()
def extractors():
    """List the feature extractors, their layers and where their weights come from."""
    from ..features import get_extractor_spec, list_extractors

    table = Table(title="feature extractors")
    table.add_column("name", no_wrap=True)
    table.add_column("layers (size)")
    table.add_column("input")
    table.add_column("weights", overflow="fold")
    for name in list_extractors():
        spec = get_extractor_spec(name)
        layers = ", ".join(f"{k}{'*' if k == spec.default_layer else ''} ({v})" for k, v in spec.layers.items())
        table.add_row(name, layers, str(spec.input_size), spec.weights_source)
    out_console.print(table)
    out_console.print("* default layer. Weights other than the pip-shipped ones: --weights PATH, or a download.")


@app.command()
def cache(
    action: Annotated[str, typer.Argument(help="list (default) or clear.")] = "list",
    entry: Annotated[str | None, typer.Argument(
        help="clear: only this entry (its key as `cache list` shows it).", show_default=False)] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Feature cache folder (default ~/.cache/deepclust/features, or $DEEPCLUST_CACHE).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="clear: do not ask for confirmation.")] = False,
):
    """Show the feature cache (entries, size) or clear it, whole or one entry."""
    import shlex

    from ..features import clear_feature_cache, find_cache_entry, list_feature_cache

    if action not in ("list", "clear"):
        fail(f"unknown action {action!r}: use list or clear")
    if entry is not None and action != "clear":
        fail(f"an entry ({entry}) is given only to clear: `deepclust cache clear {entry}`")
    same_dir = f" --cache-dir {shlex.quote(str(cache_dir))}" if cache_dir is not None else ""
    entries = list_feature_cache(cache_dir)
    if action == "list":
        total = sum(e.size_bytes for e in entries)
        table = Table(title=f"feature cache ({len(entries)} entries, {total / 2**20:.1f} MiB)")
        table.add_column("key", no_wrap=True)
        table.add_column("what", overflow="fold")
        for col in ("images", "MiB", "last used"):
            table.add_column(col, justify="right" if col != "last used" else "left")
        for e in entries:
            table.add_row(e.key[:12], e.description, str(e.n_images), f"{e.size_bytes / 2**20:.1f}",
                          e.last_used.strftime("%Y-%m-%d %H:%M"))
        out_console.print(table)
        if entries:
            out_console.print(f"in {entries[0].path.parent}; `deepclust cache clear{same_dir}` removes them, "
                              f"`deepclust cache clear KEY{same_dir}` one of them", highlight=False)
        return
    if entry is not None:
        with friendly_errors():
            entries = [find_cache_entry(entry, cache_dir)]
    if not entries:
        out_console.print("the feature cache is empty")
        return
    total = sum(e.size_bytes for e in entries)
    what = (f"the cache entry {entries[0].key[:12]} ({entries[0].description})" if entry is not None
            else f"{len(entries)} cached feature files")
    if not yes and not typer.confirm(f"remove {what} ({total / 2**20:.1f} MiB)?"):
        out_console.print("nothing removed")
        return
    with friendly_errors():
        removed = clear_feature_cache(cache_dir, key=entries[0].key if entry is not None else None)
    out_console.print(f"removed {removed} {'entry' if removed == 1 else 'entries'} ({total / 2**20:.1f} MiB)")
