"""``deepclust cluster``: a folder or a builtin data set in, a run folder out; method options from the method."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, cast

import typer

from ..inputs import setting_info, setting_names
from ..methods import RUN_N_CLUSTERS
from ._app import (
    app,
    declared_command,
    declared_values,
    default_out,
    err_console,
    fail,
    friendly_errors,
    out_console,
    scores_table,
    warnings_as_lines,
)
from ._options import (
    FEATURES,
    INPUT,
    METHOD,
    METHOD_OPTIONS_HELP,
    OUTPUT,
    SETTING_FLAGS,
    MapOption,
    Overwrite,
    Quiet,
    RunOut,
    Seed,
    method_options,
    option_names,
    own_flags,
    setting_flag,
    setting_parameters,
    settings_of,
)

_EXAMPLES = """Examples:

  deepclust cluster PHOTOS/ -k 10
      CNN features + k-means; the run folder goes to runs/PHOTOS

  deepclust cluster PHOTOS/ --limit 500
      a random 500 of the images; k chosen from the data

  deepclust cluster --dataset fashion-mnist --split test -k 10 --method best

  deepclust cluster --dataset mnist-5k -k 10 --method dec --out runs/dec
"""
#: The input settings ``cluster`` takes: every one with a flag, less those only the transfer input reads (``discover``
#: is the command for it).
CLUSTER_SETTINGS = tuple(name for name in setting_names()
                         if setting_flag(name) is not None and setting_info(name).kinds != ("transfer",))

class Split(str, Enum):
    all = "all"
    train = "train"
    test = "test"


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             epilog=_EXAMPLES + "\n" + METHOD_OPTIONS_HELP,
             cls=declared_command(("quiet", lambda: setting_parameters(CLUSTER_SETTINGS))))
def cluster(
    ctx: typer.Context,
    folder: Annotated[Path | None, typer.Argument(help="Folder of images (searched recursively).",
                                                  show_default=False)] = None,
    dataset: Annotated[str | None, typer.Option(
        help="A builtin data set instead of a folder (see `deepclust datasets`).", rich_help_panel=INPUT)] = None,
    embeddings: Annotated[Path | None, typer.Option(
        help="Your own vectors instead of images: .npy (rows named by --paths, or a sibling NAME.paths.txt or "
             "NAME.txt), .parquet or .csv with a path column (and an optional label column); methods that consume "
             "features run on them.", rich_help_panel=INPUT, show_default=False)] = None,
    paths: Annotated[Path | None, typer.Option(
        help="--embeddings .npy: a text file, one image path per row (or a CSV with a path column).",
        rich_help_panel=INPUT, show_default=False)] = None,
    split: Annotated[Split, typer.Option(help="--dataset: split of fashion-mnist or mnist.",
                                         rich_help_panel=INPUT)] = Split.all,
    data_dir: Annotated[Path | None, typer.Option(help="--dataset: folder with the data set's files.",
                                                  rich_help_panel=INPUT)] = None,
    download: Annotated[bool, typer.Option("--download", help="--dataset: download it when it is not on disk.",
                                           rich_help_panel=INPUT)] = False,
    limit: Annotated[int | None, typer.Option(
        min=2, help="Cluster a random N of the images (stratified by label when known; seeded by --seed).",
        rich_help_panel=INPUT)] = None,
    labels_from_subfolders: Annotated[bool, typer.Option(
        "--labels-from-subfolders", help="Folder: score against the images' subfolder names (see --labels-depth).",
        rich_help_panel=INPUT)] = False,
    labels_depth: Annotated[str, typer.Option(
        help="Which folder names the class for subfolder labels: first (2023 of 2023/Holiday/x.jpg), deepest "
             "(2023/Holiday) or N (the first N levels).", rich_help_panel=INPUT)] = "first",
    method: Annotated[str, typer.Option(help="Clustering method (see `deepclust methods`).",
                                        rich_help_panel=METHOD)] = "kmeans",
    n_clusters: Annotated[int | None, typer.Option(
        "--n-clusters", "-k", min=int(RUN_N_CLUSTERS.low),
        help="Number of clusters; chosen from the data when omitted (kmeans, agglomerative).",
        rich_help_panel=METHOD)] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A method option NAME=VALUE (repeat).", rich_help_panel=METHOD)] = None,
    input: Annotated[str | None, typer.Option(
        help="pixels or features, for methods that take either (dec/idec/dcn).", rich_help_panel=FEATURES)] = None,
    like: Annotated[Path | None, typer.Option(
        help="An earlier run folder: clusters that match its clusters (on the images both hold) keep its numbers "
             "and names; new clusters get new numbers.", rich_help_panel=OUTPUT, show_default=False)] = None,
    like_original: Annotated[bool, typer.Option(
        "--original", help="With --like: the earlier run as clustered, not the clusters a person fixed with "
                           "`deepclust review`.", rich_help_panel=OUTPUT)] = False,
    out: RunOut = None,
    overwrite: Overwrite = False,
    map: MapOption = "umap",
    seed: Seed = 0,
    # the input settings' options (--extractor … --cache) come from their declaration: CLUSTER_SETTINGS
    quiet: Quiet = False,
):
    """Cluster a folder of images (or a builtin data set) and write a run folder."""
    started = time.perf_counter()  # the whole command's time, heavy imports included
    from .._device import resolve_device
    from .._outputs import UnsafeOutputError, check_output_dir
    from ..datasets import DATASETS, Source, load_embeddings, open_dataset
    from ..methods import get_method
    from ..pipeline import cluster_images
    from ..run import RunFolder, figure_file

    given = {name for name in ctx.params  # by name: typer may bring its own copy of click's enum
             if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"}
    with friendly_errors():
        spec = get_method(method)
    names = option_names(spec) + ["n_clusters", "cache_dir"]
    settings = settings_of(declared_values(ctx))
    with friendly_errors(names, SETTING_FLAGS):
        extra = list(ctx.args)
        if folder is not None and str(folder).startswith("-"):  # an unknown option landed in FOLDER's slot
            extra, folder = [str(folder), *extra], None
        options, positional = method_options(spec, extra, option or [], own_flags(ctx))
        if positional:
            if folder is not None or len(positional) > 1:
                fail(f"unexpected argument(s): {' '.join(positional)}")
            folder = Path(positional[0])
        if sum(x is not None for x in (folder, dataset, embeddings)) != 1:
            fail("give one of a FOLDER, --dataset NAME or --embeddings FILE")
        if paths is not None and embeddings is None:
            fail("--paths names the rows of an --embeddings .npy file")
        _check_source_options(given, folder, dataset, DATASETS)
        if "labels_depth" in given and not labels_from_subfolders:
            fail("--labels-depth says which subfolder names the class: give it with --labels-from-subfolders")
        resolve_device(settings["device"])
        if like_original and like is None:
            fail("--original says which clusters of the --like run to keep: give it with --like RUN")
        # not a run folder: said before the work
        earlier = RunFolder.open(like, original=like_original) if like is not None else None
        defaulted = out is None
        if out is None:  # one of FOLDER, --dataset and --embeddings was given (checked above)
            out = default_out(dataset or (embeddings.stem if embeddings is not None
                                          else Path(cast(Path, folder)).resolve().name))
        try:
            check_output_dir(out, overwrite, inputs=[folder, settings["weights"], data_dir, embeddings])
        except UnsafeOutputError:
            if not defaulted:
                raise
            fail(f"the default run folder {out} lies in or around the input folder {folder} (the command runs "
                 f"from inside it); give --out with a folder outside the input")
        source: Source | Path | None
        if dataset is not None:
            source, labels = open_dataset(dataset, split=split.value, data_dir=data_dir, download=download), None
        elif embeddings is not None:
            source, labels = load_embeddings(embeddings, paths), None
        else:
            source, labels = folder, (f"subfolders:{labels_depth}" if labels_from_subfolders else None)
        with warnings_as_lines():
            run = cluster_images(source, method=method, n_clusters=n_clusters, input=input, random_state=seed,
                                 labels_true=labels, limit=limit, **settings, verbose=not quiet,
                                 method_options=options, like=earlier)
        with warnings_as_lines():
            path = run.save(out, overwrite=overwrite, command=["deepclust", *sys.argv[1:]],
                            map=None if map == "none" else map, verbose=not quiet, started=started)
    out_console.print(scores_table(run.metrics))
    if run.k_selection:
        sel = run.k_selection
        runner_up = f", runner-up {sel['runner_up']}" if sel.get("runner_up") else ""
        out_console.print(f"k chosen by {sel['criterion']}: {sel['k']}{runner_up} (curves in run.json and "
                          f"{figure_file('k_selection')})")
        if sel.get("caveat"):
            err_console.print(f"[yellow]unsure of k:[/yellow] {sel['caveat']}", highlight=False)
    if earlier is not None:
        kept, new = run.params["like"]["kept"], run.params["like"]["new"]
        out_console.print(f"like {like}: {len(kept)} cluster(s) kept their numbers{_listed(kept)}, {len(new)} new"
                          f"{_listed(new)} ({run.params['like']['n_shared']} images in both runs)", highlight=False)
        if earlier.review is not None:
            carried = run.params["like"].get("given_names") or {}
            out_console.print(f"  matched with the clusters a person fixed in {like} ({earlier.review.describe()}); "
                              f"{len(carried)} name(s) given there carried over as this run's first edits",
                              highlight=False)
    if run.skipped:
        out_console.print(f"{len(run.skipped)} file(s) skipped (reasons in run.json)")
    if run.record.source.subset:
        out_console.print(f"images: {run.record.source.subset} (seed {seed})")
    asked = f" (fitted with {run.n_clusters_fitted})" if run.n_clusters_fitted != run.n_clusters else ""
    out_console.print(f"{len(run.paths)} images in {run.n_clusters} clusters{asked}, "
                      f"{RunFolder.open(path).record.timings['command']:.1f} s in all; run folder: {path}; open "
                      f"{path / 'report.html'}")


def _listed(numbers: list[int], shown: int = 12) -> str:
    if not numbers:
        return ""
    more = f", … {len(numbers) - shown} more" if len(numbers) > shown else ""
    return f" ({', '.join(map(str, numbers[:shown]))}{more})"


def _check_source_options(given: set, folder, dataset, datasets) -> None:
    """Options of the other kind of source are errors, not silently ignored."""
    if folder is None and dataset is None:  # --embeddings
        wrong = sorted(given & {"split", "data_dir", "download", "labels_from_subfolders", "labels_depth"})
        if wrong:
            verb = "does" if len(wrong) == 1 else "do"
            fail(f"{', '.join('--' + w.replace('_', '-') for w in wrong)} {verb} not apply to --embeddings (a label "
                 f"column in a .csv or .parquet file scores the run)")
        return
    if folder is not None:
        wrong = sorted(given & {"split", "data_dir", "download"})
        if wrong:
            verb = "applies" if len(wrong) == 1 else "apply"
            fail(f"{', '.join('--' + w.replace('_', '-') for w in wrong)} {verb} only to --dataset, not to a folder")
    else:
        if {"labels_from_subfolders", "labels_depth"} & given:
            fail("--labels-from-subfolders applies to a folder; builtin data sets are scored with their own labels")
        info = datasets.get(dataset)
        if info is not None and "split" in given and len(info.splits) == 1:
            fail(f"--split does not apply to {dataset}: it has one split")


