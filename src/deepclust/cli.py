"""The ``deepclust`` command line: thin commands that parse, call the library and print."""

from __future__ import annotations

import csv
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Cluster unlabelled images: pretrained CNN features, classical and deep clustering.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out_console = Console()
err_console = Console(stderr=True)


class Color(str, Enum):
    gray = "gray"
    rgb = "rgb"


class Split(str, Enum):
    all = "all"
    train = "train"
    test = "test"


def _fail(message: str, code: int = 2):
    err_console.print(f"[bold red]error:[/bold red] {message}")
    raise typer.Exit(code)


def _user_errors():
    from .datasets import DatasetNotFoundError
    from .features import WeightsNotFoundError
    from .runfolder import OutputExistsError

    return (ValueError, FileNotFoundError, NotADirectoryError, OutputExistsError, WeightsNotFoundError,
            DatasetNotFoundError, FloatingPointError)


def _default_out(name: str) -> Path:
    """``runs/NAME``, or ``runs/NAME-2``, ``-3``… so that an earlier run is never overwritten."""
    base = Path("runs") / name
    out, n = base, 1
    while out.exists() and any(out.iterdir()):
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def _scores_table(metrics: dict) -> Table:
    table = Table(title="scores")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics.items():
        table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    return table


_METHOD_OPTIONS_HELP = ("Method options: give any option of the method as --NAME VALUE (--NAME / --no-NAME for on/off "
                       "options) or -o NAME=VALUE; `deepclust methods METHOD` lists them with their types and "
                       "defaults (e.g. --pretrain-epochs 50 for dec, --heads 4 for best).")
_INPUT, _RUN = "Input (what the method consumes)", "Run"


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, epilog=_METHOD_OPTIONS_HELP)
def cluster(
    ctx: typer.Context,
    folder: Annotated[Path | None, typer.Argument(help="Folder of images (searched recursively).")] = None,
    dataset: Annotated[str | None, typer.Option(
        help="A builtin data set instead of a folder (see `deepclust datasets`).")] = None,
    split: Annotated[Split, typer.Option(help="Split of an IDX data set.")] = Split.all,
    data_dir: Annotated[Path | None, typer.Option(help="Folder with the data set's files.")] = None,
    download: Annotated[bool, typer.Option(help="Download the data set when it is not on disk.")] = False,
    limit: Annotated[int | None, typer.Option(help="Use only the first N images of the data set.")] = None,
    n_clusters: Annotated[int | None, typer.Option(
        "--n-clusters", "-k", help="Number of clusters; chosen by the silhouette when omitted (kmeans, "
             "agglomerative).")] = None,
    method: Annotated[str, typer.Option(help="Clustering method (see `deepclust methods`).")] = "kmeans",
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A method option NAME=VALUE (repeat; see `deepclust methods METHOD`).")] = None,
    input: Annotated[str | None, typer.Option(
        "--input", "--deep-input", help="What the method consumes when it can take several: pixels or features "
             "(dec/idec/dcn).",
        rich_help_panel=_INPUT)] = None,
    extractor: Annotated[str | None, typer.Option(
        help="features/views: feature extractor (see `deepclust extractors`; default efficientnet_lite0).",
        rich_help_panel=_INPUT)] = None,
    layer: Annotated[str | None, typer.Option(
        help="features: extractor layer; default from the extractor.", rich_help_panel=_INPUT)] = None,
    weights: Annotated[Path | None, typer.Option(
        help="features/views: local weights file for the extractor.", rich_help_panel=_INPUT)] = None,
    input_size: Annotated[int | None, typer.Option(
        help="features/views: input side in pixels; default from the images' size.", rich_help_panel=_INPUT)] = None,
    image_size: Annotated[int | None, typer.Option(
        help="pixels (and the pixels/hog views) of a folder: resize images to this side (28).",
        rich_help_panel=_INPUT)] = None,
    color: Annotated[Color | None, typer.Option(
        help="pixels of a folder: gray (default) or rgb input.", rich_help_panel=_INPUT)] = None,
    view: Annotated[list[str] | None, typer.Option(
        help="views: a view to join: EXTRACTOR:LAYER, pixels or hog (repeat; default: see README).",
        rich_help_panel=_INPUT)] = None,
    augmentations: Annotated[int | None, typer.Option(
        help="views: augmented copies (shifted; mirrored unless --no-flip) of every image; each costs one "
             "more extraction (default 0; see README).", rich_help_panel=_INPUT)] = None,
    flip: Annotated[bool | None, typer.Option(
        "--flip/--no-flip", help="views: mirror the augmented copies at random (--no-flip for digits and text).",
        rich_help_panel=_INPUT)] = None,
    batch_size: Annotated[int, typer.Option(
        help="Images per batch when reading and extracting.", rich_help_panel=_INPUT)] = 64,
    labels_from_subfolders: Annotated[bool, typer.Option(
        help="Score against the images' first subfolder names.", rich_help_panel=_RUN)] = False,
    seed: Annotated[int, typer.Option(
        help="Random seed: the same seed gives the same clusters.", rich_help_panel=_RUN)] = 0,
    out: Annotated[Path | None, typer.Option(
        help="Run folder to write (default runs/NAME, never reused).", rich_help_panel=_RUN)] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty --out folder.", rich_help_panel=_RUN)] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.", rich_help_panel=_RUN)] = "auto",
    cache_dir: Annotated[Path | None, typer.Option(
        help="Feature cache folder (default ~/.cache/deepclust/features).", rich_help_panel=_RUN)] = None,
    cache: Annotated[bool, typer.Option(help="Reuse and store features in the cache.", rich_help_panel=_RUN)] = True,
    workers: Annotated[int | None, typer.Option(
        help="Image decoding processes (default: spare cores).", rich_help_panel=_RUN)] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.", rich_help_panel=_RUN)] = False,
):
    """Cluster a folder of images (or a builtin data set) and write a run folder."""
    from .datasets import load_dataset
    from .methods import get_method
    from .pipeline import cluster_images
    from .runfolder import check_output_dir

    try:
        spec = get_method(method)
        extra = list(ctx.args)
        if folder is not None and str(folder).startswith("-"):  # an unknown option landed in FOLDER's slot
            extra, folder = [str(folder), *extra], None
        options, positional = _method_options(spec, extra, option or [])
        if positional:
            if folder is not None or len(positional) > 1:
                _fail(f"unexpected argument(s): {' '.join(positional)}")
            folder = Path(positional[0])
        if (folder is None) == (dataset is None):
            _fail("give either a FOLDER or --dataset NAME (not both)")
        if out is None:
            out = _default_out(dataset or Path(folder).resolve().name)
        check_output_dir(out, overwrite)
        source_info = {}
        if dataset is not None:
            X, y = load_dataset(dataset, split=split.value, data_dir=data_dir, download=download)
            if limit is not None:
                X, y = X[:limit], y[:limit]
            source, labels = X, y
            source_info = {"kind": "dataset", "dataset": dataset, "split": split.value, "limit": limit}
        else:
            source, labels = folder, ("subfolders" if labels_from_subfolders else None)
        run = cluster_images(source, method=method, n_clusters=n_clusters, input=input, extractor=extractor,
                             layer=layer, weights=weights, input_size=input_size, image_size=image_size,
                             grayscale=None if color is None else color == Color.gray,
                             views=tuple(view) if view else None, augmentations=augmentations, augment_flip=flip,
                             batch_size=batch_size, random_state=seed, device=device, cache_dir=cache_dir,
                             use_cache=cache, num_workers=workers, labels_true=labels, verbose=not quiet, **options)
        run.source_info.update(source_info)
        path = run.save(out, overwrite=overwrite, command=["deepclust", *sys.argv[1:]])
    except _user_errors() as exc:
        _fail(str(exc))
    out_console.print(_scores_table(run.metrics))
    if run.k_selection:
        out_console.print(f"k chosen by {run.k_selection['criterion']}: {run.n_clusters} (curve in run.json)")
    if run.skipped:
        out_console.print(f"{len(run.skipped)} file(s) skipped (reasons in run.json)")
    out_console.print(f"{len(run.paths)} images in {run.n_clusters} clusters, "
                      f"{run.timings['total']:.1f} s; run folder: {path}")


def _method_options(spec, tokens: list[str], pairs: list[str]) -> tuple[dict, list[str]]:
    """The method options in ``--name value`` / ``--name`` / ``--no-name`` tokens and ``NAME=VALUE`` pairs, each
    parsed by the method's own declaration; returns them and the tokens that are no option (positional)."""
    from .methods import MethodOptionError

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
                raise
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
        opt = spec.option(name.strip().replace("-", "_"))
        options[opt.name] = opt.parse(value)
    return options, positional


@app.command()
def methods(
    name: Annotated[str | None, typer.Argument(help="A method: list its options.")] = None,
):
    """List the clustering methods, or one method's options (types, defaults, help)."""
    from .methods import get_method, list_methods

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
    try:
        spec = get_method(name)
    except ValueError as exc:
        _fail(str(exc))
    out_console.print(f"[bold]{spec.name}[/bold]: {spec.summary}")
    out_console.print(f"estimator {spec.estimator.__module__}.{spec.estimator.__name__}; consumes "
                      f"{' or '.join(spec.inputs)}; paper: {spec.paper}")
    table = Table(title=f"options of {spec.name}")
    for col in ("option", "type", "default", "help"):
        table.add_column(col)
    aliases = {v: k for k, v in spec.aliases.items()}
    for opt in spec.options:
        shown = opt.name + (f" (--{aliases[opt.name]})" if opt.name in aliases else "")
        table.add_row(shown, opt.type_name, repr(opt.default), opt.help)
    out_console.print(table)
    out_console.print(_METHOD_OPTIONS_HELP)


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    labels: Annotated[Path | None, typer.Option(help="CSV with columns path,label; default: the run's label "
                                                        "column, else the images' subfolder names.")] = None,
):
    """Score a run folder against known labels (ACC, NMI, ARI, purity) and write evaluation.json."""
    from ._atomic import write_json
    from .metrics import external_scores

    assignments = run_dir / "assignments.csv"
    if not assignments.is_file():
        _fail(f"{assignments} not found: is {run_dir} a run folder?")
    with assignments.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if labels is not None:
        if not labels.is_file():
            _fail(f"labels file not found: {labels}")
        with labels.open(newline="") as f:
            table = list(csv.reader(f))
        if not table or len(table[0]) < 2:
            _fail(f"{labels}: expected a CSV with two columns path,label")
        start = 1 if table[0][0].strip().lower() == "path" else 0
        known = {r[0]: r[1] for r in table[start:] if len(r) >= 2}
        rows = [r for r in rows if r["path"] in known]
        truth, source = [known[r["path"]] for r in rows], str(labels)
    elif rows and "label" in rows[0]:
        truth, source = [r["label"] for r in rows], "assignments.csv label column"
    else:
        if any("/" not in r["path"] for r in rows):
            _fail("no --labels given and some images are not in a subfolder, so there are no labels to score with")
        truth, source = [r["path"].split("/", 1)[0] for r in rows], "subfolder names"
    if not rows:
        _fail("no image of the run has a label")
    scores = external_scores(truth, [r["cluster"] for r in rows])
    scores["n_scored"] = len(rows)
    write_json(run_dir / "evaluation.json", {"labels": source, "scores": scores})
    out_console.print(_scores_table(scores))
    out_console.print(f"labels from {source}; written to {run_dir / 'evaluation.json'}")


@app.command()
def datasets():
    """List the builtin data sets and whether each is available offline here."""
    from .datasets import DATASETS, dataset_available

    table = Table(title="builtin data sets")
    for col in ("name", "available", "description"):
        table.add_column(col)
    for info in DATASETS.values():
        table.add_row(info.name, "yes" if dataset_available(info.name) else "no (needs files or --download)",
                      info.description)
    out_console.print(table)


@app.command()
def extractors():
    """List the feature extractors, their layers and where their weights come from."""
    from .features import get_extractor_spec, list_extractors

    table = Table(title="feature extractors")
    for col in ("name", "layers (size)", "input", "weights"):
        table.add_column(col)
    for name in list_extractors():
        spec = get_extractor_spec(name)
        layers = ", ".join(f"{k}{'*' if k == spec.default_layer else ''} ({v})" for k, v in spec.layers.items())
        table.add_row(name, layers, str(spec.input_size), spec.weights_source)
    out_console.print(table)
    out_console.print("* default layer. Weights other than the pip-shipped ones: --weights PATH, or a download.")


if __name__ == "__main__":
    app()
