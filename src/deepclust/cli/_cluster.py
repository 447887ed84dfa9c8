"""``deepclust cluster``: a folder or a builtin data set in, a run folder out; method options from the method."""

from __future__ import annotations

import inspect
import os
import sys
import time
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin

import typer

from ..inputs import InputSettings, setting_default, setting_info, setting_names
from ..methods import RUN_N_CLUSTERS
from ..report import MAPS
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

METHOD_OPTIONS_HELP = ("Method options: give any option of the method as --NAME VALUE (--NAME / --no-NAME for on/off "
                       "options) or -o NAME=VALUE; `deepclust methods METHOD` lists them with their types and "
                       "defaults (e.g. --pretrain-epochs 50 for dec, --heads 4 for best).")
_EXAMPLES = """Examples:

  deepclust cluster PHOTOS/ -k 10
      CNN features + k-means; the run folder goes to runs/PHOTOS

  deepclust cluster PHOTOS/ --limit 500
      a random 500 of the images; k chosen from the data

  deepclust cluster --dataset fashion-mnist --split test -k 10 --method best

  deepclust cluster --dataset mnist-5k -k 10 --method dec --out runs/dec
"""
_INPUT, _FEATURES, _METHOD, _OUTPUT, _RUNTIME = "Input", "Features (what the method consumes)", "Method", "Output", \
    "Runtime"


_PANELS = {"input": _INPUT, "features": _FEATURES, "runtime": _RUNTIME}


def _flag(name: str) -> str | None:
    """The flag that gives setting ``name``: ``--no-cache`` for ``use_cache``, on by default."""
    flag = setting_info(name).flag_of(name)
    return "--no-" + flag[2:] if flag and setting_default(name) is True else flag


#: The CLI flags of input settings whose API name differs (``cluster_images(grayscale=...)`` is ``--color``), read
#: from their declaration (:class:`~deepclust.inputs.Setting`): how errors name a setting the user gave.
SETTING_FLAGS = {name: _flag(name) for name in setting_names()
                 if _flag(name) not in (None, "--" + name.replace("_", "-"))}


def setting_parameters(names, **overrides) -> list[inspect.Parameter]:
    """The command-line options of input settings ``names``, each built from its declaration: flag, help, type
    (choices from a ``Literal`` hint or the declared ``values``), bounds, panel. ``overrides``: ``help``, ``min`` or
    ``group`` for a command that reads a setting its own way (``discover`` decodes at 64 px, and not below 8)."""
    hints = typing.get_type_hints(InputSettings)
    params = []
    for name in names:
        info = setting_info(name)
        kind = _cli_type(hints[name], info)
        flag = info.flag_of(name)
        decls = f"{flag}/--no-{flag[2:]}" if kind is bool else flag
        default = setting_default(name) if not info.values else None
        option = typer.Option(decls, help=overrides.get("help", info.help), min=overrides.get("min", info.min),
                              rich_help_panel=_PANELS[overrides.get("group", info.group)])
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=Annotated[kind if default is not None else kind | None, option]))
    return params


def _cli_type(hint, info):
    """The type a setting takes on the command line: its declared words, its own type hint less None, a path for a
    file-like setting, a repeated option for a sequence."""
    if info.values:
        return Literal[tuple(info.values)]
    if info.cli_type is not None:
        return info.cli_type
    args = [a for a in (get_args(hint) if get_origin(hint) in (typing.Union, type(None | int)) else (hint,))
            if a is not type(None)]
    if os.PathLike in args:
        return Path
    if get_origin(args[0]) is tuple:
        return list[str]
    return args[0]


def settings_of(values: dict) -> dict:
    """Command-line values of input settings as the Python API takes them (``--color gray`` → ``grayscale=True``)."""
    settings = {}
    for name, value in values.items():
        info = setting_info(name)
        if info.values and value is not None:
            value = info.values[value]
        elif isinstance(value, list):
            value = tuple(value) or None
        settings[name] = value
    return settings


#: The input settings ``cluster`` takes: every one with a flag, less those only the transfer input reads (``discover``
#: is the command for it).
CLUSTER_SETTINGS = tuple(name for name in setting_names()
                         if _flag(name) is not None and setting_info(name).kinds != ("transfer",))

# options that several commands writing a run folder share (cluster, discover)
RunOut = Annotated[Path | None, typer.Option(help="Run folder to write (default runs/NAME, never reused).",
                                             rich_help_panel=_OUTPUT)]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out folder.",
                                         rich_help_panel=_OUTPUT)]
MapOption = Annotated[Literal[(*MAPS, "none")], typer.Option(
    help="2-D map in report.html: umap, tsne (up to 20,000 images) or none.", rich_help_panel=_OUTPUT)]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed gives the same clusters.",
                                   rich_help_panel=_RUNTIME)]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.", rich_help_panel=_RUNTIME)]


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
        help="A builtin data set instead of a folder (see `deepclust datasets`).", rich_help_panel=_INPUT)] = None,
    embeddings: Annotated[Path | None, typer.Option(
        help="Your own vectors instead of images: .npy (rows named by --paths, or a sibling NAME.paths.txt or "
             "NAME.txt), .parquet or .csv with a path column (and an optional label column); methods that consume "
             "features run on them.", rich_help_panel=_INPUT, show_default=False)] = None,
    paths: Annotated[Path | None, typer.Option(
        help="--embeddings .npy: a text file, one image path per row (or a CSV with a path column).",
        rich_help_panel=_INPUT, show_default=False)] = None,
    split: Annotated[Split, typer.Option(help="--dataset: split of fashion-mnist or mnist.",
                                         rich_help_panel=_INPUT)] = Split.all,
    data_dir: Annotated[Path | None, typer.Option(help="--dataset: folder with the data set's files.",
                                                  rich_help_panel=_INPUT)] = None,
    download: Annotated[bool, typer.Option("--download", help="--dataset: download it when it is not on disk.",
                                           rich_help_panel=_INPUT)] = False,
    limit: Annotated[int | None, typer.Option(
        min=2, help="Cluster a random N of the images (stratified by label when known; seeded by --seed).",
        rich_help_panel=_INPUT)] = None,
    labels_from_subfolders: Annotated[bool, typer.Option(
        "--labels-from-subfolders", help="Folder: score against the images' subfolder names (see --labels-depth).",
        rich_help_panel=_INPUT)] = False,
    labels_depth: Annotated[str, typer.Option(
        help="Which folder names the class for subfolder labels: first (2023 of 2023/Holiday/x.jpg), deepest "
             "(2023/Holiday) or N (the first N levels).", rich_help_panel=_INPUT)] = "first",
    method: Annotated[str, typer.Option(help="Clustering method (see `deepclust methods`).",
                                        rich_help_panel=_METHOD)] = "kmeans",
    n_clusters: Annotated[int | None, typer.Option(
        "--n-clusters", "-k", min=int(RUN_N_CLUSTERS.low),
        help="Number of clusters; chosen from the data when omitted (kmeans, agglomerative).",
        rich_help_panel=_METHOD)] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A method option NAME=VALUE (repeat).", rich_help_panel=_METHOD)] = None,
    input: Annotated[str | None, typer.Option(
        help="pixels or features, for methods that take either (dec/idec/dcn).", rich_help_panel=_FEATURES)] = None,
    deep_input: Annotated[str | None, typer.Option(hidden=True, help="Old name of --input.")] = None,
    like: Annotated[Path | None, typer.Option(
        help="An earlier run folder: clusters that match its clusters (on the images both hold) keep its numbers "
             "and names; new clusters get new numbers.", rich_help_panel=_OUTPUT, show_default=False)] = None,
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
    from ..datasets import DATASETS, load_embeddings, open_dataset
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
        earlier = RunFolder.open(like) if like is not None else None  # not a run folder: said before the work
        if deep_input is not None:
            if input is not None and input != deep_input:
                fail("--deep-input is the old name of --input: give one of them")
            input = deep_input
        defaulted = out is None
        if defaulted:
            out = default_out(dataset or (embeddings.stem if embeddings is not None else Path(folder).resolve().name))
        try:
            check_output_dir(out, overwrite, inputs=[folder, settings["weights"], data_dir, embeddings])
        except UnsafeOutputError:
            if not defaulted:
                raise
            fail(f"the default run folder {out} lies in or around the input folder {folder} (the command runs "
                 f"from inside it); give --out with a folder outside the input")
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


def own_flags(ctx: typer.Context) -> list[str]:
    """The command's own long options (``--n-clusters``…), to suggest one for a mistyped flag."""
    return [o for p in ctx.command.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])
            if o.startswith("--")]


def method_options(spec, tokens: list[str], pairs: list[str], command_flags=()) -> tuple[dict, list[str]]:
    """The method options in ``--name value`` / ``--name`` / ``--no-name`` tokens and ``NAME=VALUE`` pairs, each
    parsed by the method's own declaration; returns them and the tokens that are no option (positional).
    ``command_flags``: the command's own options, suggested first when an unknown flag is close to one."""
    from ..methods import MethodOptionError

    options, positional, i = {}, [], 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--"):
            positional.append(token)
            continue
        name, has_value, value = token[2:].partition("=")
        name = name.replace("-", "_")
        negated = name.startswith("no_") and not has_value
        try:
            opt = spec.option(name)
        except MethodOptionError:
            if not negated:
                raise _no_such_option(spec, name, command_flags) from None
            opt = spec.option(name[3:])
            if not opt.is_flag:
                raise MethodOptionError(f"--{token[2:]}: option {opt.name} of {spec.name} is not an on/off "
                                        f"option") from None
            options[opt.name] = False
            continue
        if opt.is_flag and not has_value:
            options[opt.name] = True
            continue
        if not has_value:
            if i >= len(tokens):
                raise MethodOptionError(f"option --{token[2:]} needs a value ({opt.type_name})")
            value, i = tokens[i], i + 1
        options[opt.name] = opt.parse(value)
    for pair in pairs:
        name, has_value, value = pair.partition("=")
        if not has_value:
            raise MethodOptionError(f"-o takes NAME=VALUE, got {pair!r}")
        name = name.strip().replace("-", "_")
        try:
            opt = spec.option(name)
        except MethodOptionError:
            raise _no_such_option(spec, name) from None
        options[opt.name] = opt.parse(value)
    return options, positional


def _no_such_option(spec, name: str, command_flags=()):
    """The error for an option the method does not have, in the CLI's spelling, with the closest one: one of the
    command's own flags when the name is close to one (``--n-cluster`` → ``--n-clusters``), else the method's."""
    import difflib

    from ..methods import MethodOptionError

    def dashed(n):
        return "--" + n.replace("_", "-")

    own = difflib.get_close_matches(dashed(name), list(command_flags), n=1, cutoff=0.75)
    if own:
        return MethodOptionError(f"no such option {dashed(name)}; did you mean {own[0]}?")
    close = difflib.get_close_matches(name, option_names(spec), n=1, cutoff=0.6)
    hint = f" (did you mean {dashed(close[0])}?)" if close else ""
    return MethodOptionError(f"method {spec.name} has no option {dashed(name)}{hint}; its options: "
                             f"{', '.join(o.flag for o in spec.options) or 'none'} (`deepclust methods "
                             f"{spec.name}` describes them)")


def option_names(spec) -> list[str]:
    """Every name a method option answers to: readable CLI name, parameter name, paper symbol, registry alias."""
    return [n for o in spec.options for n in dict.fromkeys((o.cli_name, o.name, *o.aliases))] + list(spec.aliases)
