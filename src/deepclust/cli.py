"""The ``deepclust`` command line: thin commands that parse, call the library and print."""

from __future__ import annotations

import csv
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Cluster unlabelled images: pretrained CNN features, classical and deep clustering.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out_console = Console()
err_console = Console(stderr=True)


class Method(str, Enum):
    kmeans = "kmeans"
    agglomerative_ward = "agglomerative-ward"
    agglomerative_average = "agglomerative-average"
    dec = "dec"
    idec = "idec"
    dcn = "dcn"
    dcec = "dcec"
    gapdcec = "gapdcec"
    scan = "scan"
    best = "best"


class Optimizer(str, Enum):
    sgd = "sgd"
    adam = "adam"


class DeepInput(str, Enum):
    pixels = "pixels"
    features = "features"


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


@app.command()
def cluster(
    folder: Annotated[Optional[Path], typer.Argument(help="Folder of images (searched recursively).")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="A builtin data set instead of a folder (see `deepclust datasets`).")] = None,
    split: Annotated[Split, typer.Option(help="Split of an IDX data set.")] = Split.all,
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder with the data set's files.")] = None,
    download: Annotated[bool, typer.Option(help="Download the data set when it is not on disk.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="Use only the first N images of the data set.")] = None,
    n_clusters: Annotated[Optional[int], typer.Option("--n-clusters", "-k", help="Number of clusters; chosen by the silhouette when omitted.")] = None,
    method: Annotated[Method, typer.Option(help="Clustering algorithm.")] = Method.kmeans,
    extractor: Annotated[str, typer.Option(help="Feature extractor (see `deepclust extractors`).")] = "efficientnet_lite0",
    layer: Annotated[Optional[str], typer.Option(help="Extractor layer; default from the extractor.")] = None,
    weights: Annotated[Optional[Path], typer.Option(help="Local weights file for the extractor.")] = None,
    input_size: Annotated[Optional[int], typer.Option(help="Input side in pixels; default from the images' size.")] = None,
    batch_size: Annotated[int, typer.Option(help="Images per batch.")] = 64,
    pca: Annotated[int, typer.Option(help="PCA components before UMAP (0: none).")] = 50,
    umap: Annotated[int, typer.Option(help="UMAP dimensions before clustering (0: none).")] = 10,
    l2: Annotated[bool, typer.Option(help="L2-normalise features first.")] = True,
    k_max: Annotated[int, typer.Option(help="Largest k tried when choosing k.")] = 20,
    deep_input: Annotated[DeepInput, typer.Option(help="Deep methods: cluster pixels, or CNN features (dec/idec/dcn).")] = DeepInput.pixels,
    image_size: Annotated[int, typer.Option(help="Deep methods on a folder: resize images to this side.")] = 28,
    color: Annotated[Color, typer.Option(help="Deep methods on a folder: gray or rgb input.")] = Color.gray,
    pretrain_epochs: Annotated[Optional[int], typer.Option(help="Deep methods: autoencoder pretraining epochs (paper: 200).")] = None,
    maxiter: Annotated[Optional[int], typer.Option(help="Deep methods: clustering iterations at most (paper: 20000).")] = None,
    update_interval: Annotated[Optional[int], typer.Option(help="Deep methods: iterations between target updates (140).")] = None,
    tol: Annotated[Optional[float], typer.Option(help="Deep methods: stop when fewer labels than this change (0.001).")] = None,
    autoencoder: Annotated[Optional[Path], typer.Option(help="Deep methods: a pretrained autoencoder file to reuse.")] = None,
    optimizer: Annotated[Optional[Optimizer], typer.Option(help="Deep methods: clustering-stage optimiser (default: the method's paper's; see README).")] = None,
    learning_rate: Annotated[Optional[float], typer.Option(help="Deep methods: clustering-stage learning rate (default: the method's paper's).")] = None,
    augment: Annotated[bool, typer.Option("--augment", help="Deep methods: DEC-DA, shift (±10 %) and rotate (±10°) every training batch at random (see README).")] = False,
    view: Annotated[Optional[list[str]], typer.Option(help="scan/best: a view to join: EXTRACTOR:LAYER, pixels or hog (repeat; default: see README).")] = None,
    heads: Annotated[Optional[int], typer.Option(help="scan/best: heads trained at once; the label-free loss picks one (10).")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="scan/best: training epochs of the heads (default: about 2,000 steps).")] = None,
    augmentations: Annotated[Optional[int], typer.Option(help="scan/best: augmented copies (shifted; mirrored unless --no-flip) of every image for the heads and self-labelling; each costs one more extraction (default 0; see README).")] = None,
    flip: Annotated[bool, typer.Option(help="scan/best: mirror the augmented copies at random (--no-flip for digits and text).")] = True,
    labels_from_subfolders: Annotated[bool, typer.Option(help="Score against the images' first subfolder names.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same clusters.")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="Run folder to write (default runs/NAME, never reused).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty --out folder.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    cache_dir: Annotated[Optional[Path], typer.Option(help="Feature cache folder (default ~/.cache/deepclust/features).")] = None,
    cache: Annotated[bool, typer.Option(help="Reuse and store features in the cache.")] = True,
    workers: Annotated[Optional[int], typer.Option(help="Image decoding processes (default: spare cores).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
):
    """Cluster a folder of images (or a builtin data set) and write a run folder."""
    from .datasets import load_dataset
    from .pipeline import DEFAULT_VIEWS, cluster_images
    from .runfolder import check_output_dir

    if (folder is None) == (dataset is None):
        _fail("give either a FOLDER or --dataset NAME (not both)")
    try:
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
        run = cluster_images(source, n_clusters=n_clusters, method=method.value, extractor=extractor, layer=layer,
                             weights=weights, input_size=input_size, batch_size=batch_size, l2_normalize=l2,
                             pca_components=pca or None, umap_components=umap or None, k_max=k_max,
                             deep_input=deep_input.value, image_size=image_size, grayscale=color == Color.gray,
                             deep_params=_deep_params(pretrain_epochs=pretrain_epochs, maxiter=maxiter,
                                                      update_interval=update_interval, tol=tol,
                                                      autoencoder=autoencoder, augment=augment or None,
                                                      optimizer=optimizer and optimizer.value,
                                                      learning_rate=learning_rate),
                             views=tuple(view) if view else DEFAULT_VIEWS,
                             head_params=_deep_params(n_heads=heads, epochs=epochs),
                             augmentations=augmentations, augment_flip=flip,
                             random_state=seed, device=device, cache_dir=cache_dir, use_cache=cache,
                             num_workers=workers, labels_true=labels, verbose=not quiet)
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


def _deep_params(**given) -> dict:
    """Only the method options the user gave: the estimator's defaults (the paper's) stay otherwise."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in given.items() if v is not None}


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepclust cluster`.")],
    labels: Annotated[Optional[Path], typer.Option(help="CSV with columns path,label; default: the run's label "
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
