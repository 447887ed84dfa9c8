"""``deepclust cluster``: a folder or a builtin data set in, a run folder out; method options from the method."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ._app import app, default_out, fail, friendly_errors, out_console, scores_table, warnings_as_lines

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


class Color(str, Enum):
    gray = "gray"
    rgb = "rgb"


class MapKind(str, Enum):
    umap = "umap"
    tsne = "tsne"
    none = "none"


#: The CLI flags of input settings whose API name differs (``cluster_images(grayscale=...)`` is ``--color``).
SETTING_FLAGS = {"grayscale": "--color", "views": "--view", "augment_flip": "--flip", "num_workers": "--workers",
                 "use_cache": "--cache", "known": "--known"}

# options that several commands writing a run folder share (cluster, discover)
RunOut = Annotated[Path | None, typer.Option(help="Run folder to write (default runs/NAME, never reused).",
                                             rich_help_panel=_OUTPUT)]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out folder.",
                                         rich_help_panel=_OUTPUT)]
MapOption = Annotated[MapKind, typer.Option(help="2-D map in report.html: umap, tsne (up to 20,000 images) or none.",
                                            rich_help_panel=_OUTPUT)]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed gives the same clusters.",
                                   rich_help_panel=_RUNTIME)]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.", rich_help_panel=_RUNTIME)]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.", rich_help_panel=_RUNTIME)]


class Runtime(str, Enum):
    auto = "auto"
    torch = "torch"
    onnx = "onnx"


class Split(str, Enum):
    all = "all"
    train = "train"
    test = "test"


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             epilog=_EXAMPLES + "\n" + METHOD_OPTIONS_HELP)
def cluster(
    ctx: typer.Context,
    folder: Annotated[Path | None, typer.Argument(help="Folder of images (searched recursively).",
                                                  show_default=False)] = None,
    dataset: Annotated[str | None, typer.Option(
        help="A builtin data set instead of a folder (see `deepclust datasets`).", rich_help_panel=_INPUT)] = None,
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
        "--n-clusters", "-k", min=2, help="Number of clusters; chosen from the data when omitted (kmeans, "
                                          "agglomerative).", rich_help_panel=_METHOD)] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A method option NAME=VALUE (repeat).", rich_help_panel=_METHOD)] = None,
    input: Annotated[str | None, typer.Option(
        help="pixels or features, for methods that take either (dec/idec/dcn).", rich_help_panel=_FEATURES)] = None,
    deep_input: Annotated[str | None, typer.Option(hidden=True, help="Old name of --input.")] = None,
    extractor: Annotated[str | None, typer.Option(
        help="Feature extractor (see `deepclust extractors`; default: EfficientNet-Lite0).",
        rich_help_panel=_FEATURES)] = None,
    layer: Annotated[str | None, typer.Option(help="Extractor layer (default from the extractor).",
                                              rich_help_panel=_FEATURES)] = None,
    weights: Annotated[Path | None, typer.Option(help="Local weights file for the extractor.",
                                                 rich_help_panel=_FEATURES)] = None,
    input_size: Annotated[int | None, typer.Option(
        min=1, help="Extractor input side in pixels (default from the images' size).",
        rich_help_panel=_FEATURES)] = None,
    image_size: Annotated[int | None, typer.Option(
        min=1, help="pixels input and pixels/hog views: resize folder images to this side (28).",
        rich_help_panel=_FEATURES)] = None,
    color: Annotated[Color | None, typer.Option(help="pixels input of a folder: gray (default) or rgb.",
                                                rich_help_panel=_FEATURES)] = None,
    view: Annotated[list[str] | None, typer.Option(
        help="views input: EXTRACTOR:LAYER, pixels or hog (repeat; default: see README).",
        rich_help_panel=_FEATURES)] = None,
    augmentations: Annotated[int | None, typer.Option(
        min=0, help="views input: augmented copies of every image (default 0).", rich_help_panel=_FEATURES)] = None,
    flip: Annotated[bool | None, typer.Option(
        "--flip/--no-flip", help="views input: mirror the augmented copies (--no-flip for digits and text).",
        rich_help_panel=_FEATURES)] = None,
    out: RunOut = None,
    overwrite: Overwrite = False,
    map: MapOption = "umap",
    seed: Seed = 0,
    device: Device = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Images per batch when reading and extracting.",
                                            rich_help_panel=_RUNTIME)] = 64,
    workers: Annotated[int | None, typer.Option(min=0, help="Image decoding processes (default: spare cores).",
                                                rich_help_panel=_RUNTIME)] = None,
    runtime: Annotated[Runtime, typer.Option(
        help="How the extractor runs: auto (ONNX Runtime on CPU when the job pays for its export: ~700 images at "
             "224 px, ~12,000 at 64 px), torch or onnx.",
        rich_help_panel=_RUNTIME)] = Runtime.auto,
    dask: Annotated[str | None, typer.Option(
        help="Extract features on a Dask cluster: local:N (N worker processes here) or tcp://HOST:PORT.",
        rich_help_panel=_RUNTIME)] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Feature cache folder (default: see `deepclust cache`).", rich_help_panel=_RUNTIME)] = None,
    cache: Annotated[bool, typer.Option(help="Reuse and store features in the cache.",
                                        rich_help_panel=_RUNTIME)] = True,
    quiet: Quiet = False,
):
    """Cluster a folder of images (or a builtin data set) and write a run folder."""
    started = time.perf_counter()  # the whole command's time, heavy imports included
    from .._device import resolve_device
    from .._outputs import UnsafeOutputError, check_output_dir
    from ..datasets import DATASETS, load_dataset
    from ..methods import get_method
    from ..pipeline import cluster_images

    given = {name for name in ctx.params  # by name: typer may bring its own copy of click's enum
             if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"}
    with friendly_errors():
        spec = get_method(method)
    names = option_names(spec) + ["n_clusters", "cache_dir"]
    with friendly_errors(names, SETTING_FLAGS):
        extra = list(ctx.args)
        if folder is not None and str(folder).startswith("-"):  # an unknown option landed in FOLDER's slot
            extra, folder = [str(folder), *extra], None
        options, positional = method_options(spec, extra, option or [], own_flags(ctx))
        if positional:
            if folder is not None or len(positional) > 1:
                fail(f"unexpected argument(s): {' '.join(positional)}")
            folder = Path(positional[0])
        if (folder is None) == (dataset is None):
            fail("give either a FOLDER or --dataset NAME (not both)")
        _check_source_options(given, folder, dataset, DATASETS)
        if "labels_depth" in given and not labels_from_subfolders:
            fail("--labels-depth says which subfolder names the class: give it with --labels-from-subfolders")
        resolve_device(device)
        if deep_input is not None:
            if input is not None and input != deep_input:
                fail("--deep-input is the old name of --input: give one of them")
            input = deep_input
        defaulted = out is None
        if defaulted:
            out = default_out(dataset or Path(folder).resolve().name)
        try:
            check_output_dir(out, overwrite, inputs=[folder, weights, data_dir])
        except UnsafeOutputError:
            if not defaulted:
                raise
            fail(f"the default run folder {out} lies in or around the input folder {folder} (the command runs "
                 f"from inside it); give --out with a folder outside the input")
        source_info = {}
        if dataset is not None:
            source, labels = load_dataset(dataset, split=split.value, data_dir=data_dir, download=download)
            source_info = {"kind": "dataset", "dataset": dataset, "split": split.value}
        else:
            source, labels = folder, (f"subfolders:{labels_depth}" if labels_from_subfolders else None)
        with warnings_as_lines():
            run = cluster_images(source, method=method, n_clusters=n_clusters, input=input, extractor=extractor,
                                 layer=layer, weights=weights, input_size=input_size, image_size=image_size,
                                 grayscale=None if color is None else color == Color.gray,
                                 views=tuple(view) if view else None, augmentations=augmentations,
                                 augment_flip=flip, batch_size=batch_size, random_state=seed, device=device,
                                 cache_dir=cache_dir, use_cache=cache, num_workers=workers, labels_true=labels,
                                 limit=limit, verbose=not quiet, runtime=runtime.value, dask=dask, **options)
        run.source_info.update(source_info)
        with warnings_as_lines():
            path = run.save(out, overwrite=overwrite, command=["deepclust", *sys.argv[1:]],
                            map=None if map == MapKind.none else MapKind(map).value, verbose=not quiet)
    out_console.print(scores_table(run.metrics))
    if run.k_selection:
        sel = run.k_selection
        runner_up = f", runner-up {sel['runner_up']}" if sel.get("runner_up") else ""
        out_console.print(f"k chosen by {sel['criterion']}: {sel['k']}{runner_up} (curves in run.json and "
                          f"figures/k_selection.png)")
    if run.skipped:
        out_console.print(f"{len(run.skipped)} file(s) skipped (reasons in run.json)")
    if "subset" in run.source_info:
        out_console.print(f"images: {run.source_info['subset']} (seed {seed})")
    asked = f" (fitted with {run.n_clusters_fitted})" if run.n_clusters_fitted != run.n_clusters else ""
    out_console.print(f"{len(run.paths)} images in {run.n_clusters} clusters{asked}, "
                      f"{time.perf_counter() - started:.1f} s in all; run folder: {path}; open "
                      f"{path / 'report.html'}")


def _check_source_options(given: set, folder, dataset, datasets) -> None:
    """Options of the other kind of source are errors, not silently ignored."""
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
