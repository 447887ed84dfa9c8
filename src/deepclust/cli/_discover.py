"""``deepclust discover``: labelled images of known classes and unlabelled images of others in, the unlabelled ones
clustered by a method that learns from the known classes first (DTC), a run folder out."""

from __future__ import annotations

import inspect
import sys
import time
from pathlib import Path
from typing import Annotated, cast

import typer

from ..methods import RUN_N_CLUSTERS
from ._app import (
    app,
    cli_words,
    declared_command,
    declared_values,
    default_out,
    fail,
    friendly_errors,
    out_console,
    scores_table,
    warnings_as_lines,
)
from ._options import (
    INPUT,
    METHOD,
    METHOD_OPTIONS_HELP,
    SETTING_FLAGS,
    MapOption,
    Overwrite,
    Quiet,
    RunOut,
    Seed,
    method_options,
    option_names,
    own_flags,
    setting_parameters,
    settings_of,
)

_EXAMPLES = """Examples:

  deepclust discover --known LABELLED/ --unknown NEW/ -k 5        LABELLED/ has one subfolder per class

  deepclust discover --known LABELLED/ --unknown NEW/ --estimate-k --attention gradcam+grabcut

  deepclust discover --dataset fashion-mnist --known-classes 0-4 -k 5 --out runs/dtc
"""
#: DTC's options that ``discover`` shows as its own (with their choices); the others are given as --NAME VALUE.
DTC_OPTIONS = ("attention", "variant")


def method_parameters(method: str, names) -> list[inspect.Parameter]:
    """Command-line options of a method's options ``names``, read from the registry (type, choices, default, help
    from the estimator's signature and docstring); built when the command runs, as importing a method costs."""
    from ..methods import get_method

    spec = get_method(method)
    params = []
    for name in names:
        opt = spec.option(name)
        option = typer.Option(opt.flag, help=cli_words(opt.help, option_names(spec)) + ".", rich_help_panel=METHOD)
        params.append(inspect.Parameter(opt.name, inspect.Parameter.KEYWORD_ONLY, default=opt.default,
                                        annotation=Annotated[opt.annotation, option]))
    return params


def parse_classes(text: str) -> list[int]:
    """``0-4`` or ``0,2,5`` (or both, ``0-2,7``) as a sorted list of class numbers."""
    classes: set[int] = set()
    try:
        for part in text.split(","):
            lo, dash, hi = part.strip().partition("-")
            classes.update(range(int(lo), int(hi) + 1) if dash else [int(lo)])
    except ValueError:
        raise ValueError(f"--known-classes takes class numbers like 0-4 or 0,2,5; got {text!r}") from None
    return sorted(classes)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             epilog=_EXAMPLES + "\n" + METHOD_OPTIONS_HELP.replace("deepclust methods METHOD", "deepclust methods dtc"),
             cls=declared_command(
                 ("unknown", lambda: setting_parameters(["known"])),
                 ("option", lambda: method_parameters("dtc", DTC_OPTIONS)),
                 ("out", lambda: setting_parameters(["image_size"], help="Decode folder images at this side (default "
                                                    "64).", min=8, group="input")),
                 ("quiet", lambda: setting_parameters(["device"]))))
def discover(
    ctx: typer.Context,
    # --known (an input setting), DTC's --attention and --variant, --image-size and --device are declared elsewhere:
    # see cls= above
    unknown: Annotated[Path | None, typer.Option(
        help="Folder of the unlabelled images to cluster (other classes than the known ones).",
        rich_help_panel=INPUT)] = None,
    dataset: Annotated[str | None, typer.Option(
        help="A builtin data set split by class instead of folders (see `deepclust datasets`).",
        rich_help_panel=INPUT)] = None,
    known_classes: Annotated[str | None, typer.Option(
        help="--dataset: the known classes (e.g. 0-4); the others are clustered. Known images come from the train "
             "split, unlabelled ones from the test split, where the data set has both.",
        rich_help_panel=INPUT)] = None,
    data_dir: Annotated[Path | None, typer.Option(help="--dataset: folder with the data set's files.",
                                                  rich_help_panel=INPUT)] = None,
    labels_from_subfolders: Annotated[bool, typer.Option(
        "--labels-from-subfolders", help="Score the clusters against the unknown images' subfolder names.",
        rich_help_panel=INPUT)] = False,
    n_clusters: Annotated[int | None, typer.Option(
        "--n-clusters", "-k", min=int(RUN_N_CLUSTERS.low), help="Number of novel classes.",
        rich_help_panel=METHOD)] = None,
    estimate_k: Annotated[bool, typer.Option(
        "--estimate-k", help="Estimate the number of novel classes (DTC's probe of held-out known classes).",
        rich_help_panel=METHOD)] = False,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A method option NAME=VALUE (repeat).", rich_help_panel=METHOD)] = None,
    out: RunOut = None,
    overwrite: Overwrite = False,
    map: MapOption = "umap",
    seed: Seed = 0,
    quiet: Quiet = False,
):
    """Cluster unlabelled images of novel classes with what labelled images of known classes teach (DTC)."""
    started = time.perf_counter()  # the whole command's time, heavy imports included
    from .._device import resolve_device
    from .._outputs import check_output_dir
    from ..datasets import ImageArray, load_transfer_split
    from ..methods import get_method
    from ..pipeline import cluster_images
    from ..run import RunFolder, figure_file

    with friendly_errors():
        spec = get_method("dtc")
    names = option_names(spec) + ["n_clusters"]
    declared = declared_values(ctx)
    settings = settings_of({k: v for k, v in declared.items() if k not in DTC_OPTIONS})
    known, device = settings.pop("known"), settings["device"]
    with friendly_errors(names, SETTING_FLAGS):
        options, positional = method_options(spec, list(ctx.args), option or [], own_flags(ctx))
        options = {**{k: v for k, v in declared.items() if k in DTC_OPTIONS}, **options}
        if positional:
            fail(f"unexpected argument(s): {' '.join(positional)}")
        if dataset is None and (known is None or unknown is None):
            fail("give --known FOLDER and --unknown FOLDER, or --dataset NAME --known-classes 0-4")
        if dataset is not None and (known is not None or unknown is not None):
            fail("give folders (--known, --unknown) or --dataset, not both")
        if dataset is not None and known_classes is None:
            fail("--dataset needs --known-classes (e.g. 0-4): the classes whose labels the method may use")
        if dataset is None and (known_classes is not None or data_dir is not None):
            fail("--known-classes and --data-dir only apply to --dataset")
        if n_clusters is not None and estimate_k:
            fail("give -k K or --estimate-k, not both")
        if n_clusters is None and not estimate_k:
            fail("say how many novel classes to find: -k K, or --estimate-k to estimate it")
        resolve_device(device)
        if out is None:  # without --dataset, --unknown was given (checked above)
            out = default_out(dataset or Path(cast(Path, unknown)).resolve().name)
        check_output_dir(out, overwrite, inputs=[known, unknown])
        source: ImageArray | Path | None
        if dataset is not None:
            assert known_classes is not None  # --dataset needs --known-classes (checked above)
            X_known, y_known, X, y, how = load_transfer_split(dataset, parse_classes(known_classes), data_dir=data_dir)
            known_source, labels = (X_known, y_known), None
            source = ImageArray(X, y, about={"dataset": dataset, "known_classes": known_classes, "split": how})
        else:
            known_source, source = known, unknown
            labels = "subfolders" if labels_from_subfolders else None
        with warnings_as_lines():
            run = cluster_images(source, method="dtc", n_clusters=n_clusters, known=known_source,
                                 labels_true=labels, random_state=seed, **settings, verbose=not quiet,
                                 method_options=options)
        with warnings_as_lines():
            path = run.save(out, overwrite=overwrite, command=["deepclust", *sys.argv[1:]],
                            map=None if map == "none" else map, verbose=not quiet, started=started)
    out_console.print(scores_table(run.metrics))
    if run.k_selection:
        out_console.print(f"novel classes estimated: {run.k_selection['k']} (curves in run.json and "
                          f"{figure_file('k_selection')})")
    held = run.params.get("known_accuracy")
    if held is not None:
        out_console.print(f"supervised stage: {held:.1%} accuracy on held-out known images")
    seconds = RunFolder.open(path).record.timings["command"]
    out_console.print(f"{len(run.paths)} images in {run.n_clusters} clusters, {seconds:.1f} s "
                      f"in all; run folder: {path}; open {path / 'report.html'}")
