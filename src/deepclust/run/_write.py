"""Writing a run folder: ``run.json``, ``assignments.csv``, the embedding, the model and the figures, built in a
temporary sibling folder and moved into place whole."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .._atomic import default_mode, write_json, write_text
from .._outputs import check_output_dir
from .._progress import say
from .._umap import quiet_umap_import
from .._version import __version__
from ..cluster import cluster_tree
from ..datasets import label_name
from ..features import NAMES_ABOUT, cluster_label
from ..methods import k_options_of
from ..report import (
    HOVER_FILE,
    MAPS,
    N_HOVER,
    REPORT_FILE,
    TREE_FIGURE,
    atypical_members,
    make_grid,
    map_2d,
    plot_cluster_map,
    plot_cluster_tree,
    plot_k_selection,
    plot_thumbnail_map,
    plot_training_curves,
    read_images,
    save_figure,
    save_png,
    typical_members,
    write_hover,
    write_member_sheets,
    write_method_figures,
)
from ._folder import ASSIGNMENTS_FILE, EMBEDDING_2D_FILE, EMBEDDING_FILE, FIGURES, RUN_FILE, TRAINING_FILE, RunFolder
from ._model import MODEL_FILE, save_model

#: The side of a montage's tiles (make_grid's default), at which the images are decoded.
MONTAGE_TILE = 96
#: The tree of the clusters (super-clusters), drawn up to this many clusters (run.json holds it always).
MAX_TREE_LEAVES = 60


def versions() -> dict[str, str]:
    """Versions of deepclust and the libraries that shape its results."""
    out = {"deepclust": __version__, "python": platform.python_version()}
    for mod in ("numpy", "scipy", "sklearn", "torch", "torchvision", "timm", "umap", "PIL"):
        try:
            with quiet_umap_import():
                out[mod] = __import__(mod).__version__
        except Exception:  # a missing optional library is simply not listed
            pass
    return out


def write_run(run, out: str | os.PathLike, *, overwrite: bool = False, command: list[str] | None = None,
              montage_size: int = 36, map: str | None = "umap", verbose: bool = False,
              started: float | None = None) -> Path:
    """Write ``run`` (a :class:`~deepclust.run.ClusterRun`) to the folder ``out``, with ``report.html``.

    ``map``: the 2-D map of the images (``"umap"``, ``"tsne"`` or None for none; see :func:`~deepclust.report.map_2d`).
    ``verbose``: show progress while the figures are made (from large photos they take a while). run.json's
    ``timings_s`` gains ``write`` (this function) and its ``total`` includes it (the stages, from the scan of the input
    to the written run); ``started`` (``time.perf_counter()`` when a command began) adds ``command``: the whole
    command's time up to the written run, its imports and checks included, the one number a command prints.

    Everything is written into a temporary sibling folder first and then renamed, so ``out`` is never left half
    written; an existing non-empty ``out`` is replaced only with ``overwrite=True`` and only when it is a run folder
    (see :func:`~deepclust._outputs.check_output_dir`); a folder that is, holds or lies inside the input folder is
    refused.

    Examples
    --------
    >>> from deepclust import cluster_images, load_dataset
    >>> X, _ = load_dataset("digits")
    >>> write_run(cluster_images(X[:100], n_clusters=10, verbose=False), "runs/demo", map=None)  # doctest: +SKIP
    """
    weights = run.params.get("input_settings", {}).get("weights")
    # the input folder is scanned again by a later run, so no run folder goes in it; embeddings' images never are
    folder = getattr(run.source, "root", None) if run.source_info.get("kind") != "embeddings" else None
    read = [folder, weights if weights and Path(weights).exists() else None]
    out = check_output_dir(out, overwrite, inputs=read, marker=RUN_FILE).resolve()
    if map is not None and map not in MAPS:
        raise ValueError(f"unknown map {map!r}: use {', '.join(MAPS)} or None")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, default_mode(folder=True))  # mkdtemp makes it 0700: give it the mode of any new folder
    try:
        _write_contents(run, tmp, command, montage_size, map, verbose, started)
        RunFolder.open(tmp).write_report()
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / "run")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_contents(run, folder: Path, command, montage_size: int, map_method: str | None, verbose: bool,
                    command_started: float | None) -> None:
    started = time.perf_counter()
    figures = folder / FIGURES
    figures.mkdir()
    has_labels = run.labels_true is not None
    names = run.cluster_names
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "cluster", "distance", "confidence"] + (["label"] if has_labels else [])
                    + (["cluster_name"] if names else []))
    for i, path in enumerate(run.paths):
        row = [path, int(run.labels[i]), f"{run.distances[i]:.6g}", f"{run.confidence[i]:.4f}"]
        writer.writerow(row + ([run.labels_true[i]] if has_labels else [])
                        + ([names[int(run.labels[i])][0]["name"]] if names else []))
    write_text(folder / ASSIGNMENTS_FILE, buf.getvalue())

    files = []
    sizes = run.cluster_sizes()
    montages = []  # (file name, caption, rows): every picture's images are decoded at once, by a few threads
    for c in sorted(sizes):
        caption = f"cluster {c} · {sizes[c]} images{_majority(run, c)}"
        if names:
            caption += f" · looks like: {cluster_label(names[c][:2])}"
        montages.append((f"{FIGURES}/cluster_{c:03d}.png", caption + " · most typical",
                         typical_members(run.labels, run.distances, c, montage_size)))
        if sizes[c] > montage_size:  # a small cluster is shown whole above
            montages.append((f"{FIGURES}/cluster_{c:03d}_atypical.png", caption + " · least typical",
                             atypical_members(run.labels, run.distances, c, 12)))
    if run.source is None:  # embeddings whose images were not found: no pictures to make (run.json says so)
        montages = []
    wanted = sorted({int(r) for *_, rows in montages for r in rows})
    images = dict(zip(wanted, read_images(run, wanted, MONTAGE_TILE, verbose=verbose, description="montages")))
    for name, caption, rows in montages:
        # a file gone since the run has no tile (read_images gives None): the picture shows the others
        save_png(folder / name, make_grid([images[int(r)] for r in rows if images[int(r)] is not None],
                                          caption=caption))
        files.append(name)
    tree = cluster_tree(run.embedding, run.labels) if run.embedding is not None else None
    if tree is not None and len(tree.clusters) <= MAX_TREE_LEAVES:
        leaves = [f"{c}{': ' + names[c][0]['name'] if names else ''} ({sizes[c]})" for c in tree.clusters]
        save_figure(plot_cluster_tree(tree.linkage, leaves, [tree.groups[c] for c in tree.clusters]),
                    folder / TREE_FIGURE)
        files.append(TREE_FIGURE)
    if map_method and verbose:
        say(f"map of {len(run.paths)} images ({map_method}) and its thumbnails")
    map_info = _write_map(run, folder, map_method, verbose) if map_method else None
    if map_info:
        files += [EMBEDDING_2D_FILE, map_info["figure"], HOVER_FILE]
        if map_info["thumbnails"]:
            files.append(map_info["thumbnails"])
    files += write_member_sheets(run, folder, verbose=verbose)
    if run.k_selection:
        sel = run.k_selection
        others = {name: list(c.values()) for name, c in sel.get("curves", {}).items()
                  if name not in (sel["criterion"], "eigengap")}  # the eigengaps are on another scale
        ax = plot_k_selection(list(sel["curve"]), list(sel["curve"].values()), sel["k"], criterion=sel["criterion"],
                              threshold=sel.get("threshold"), others=others)
        save_figure(ax, folder / f"{FIGURES}/k_selection.png")
        files.append(f"{FIGURES}/k_selection.png")
    if run.history:
        write_json(folder / TRAINING_FILE, run.history)
        axes = plot_training_curves(run.history["clustering"], run.history["pretraining"])
        save_figure(axes[0], folder / f"{FIGURES}/training.png")
        files += [TRAINING_FILE, f"{FIGURES}/training.png"]
    # a method's own pictures (DTC: attention overlays), from the hook it declares
    method_figures = write_method_figures(run.estimator, figures) if run.estimator is not None else []
    files += method_figures
    np.save(folder / EMBEDDING_FILE, np.asarray(run.embedding, dtype=np.float32))
    model_not_saved = save_model(run.estimator, folder) if run.estimator is not None else "no estimator"
    if model_not_saved is None:
        files.append(MODEL_FILE)

    if run.source_info.get("kind") == "embeddings":  # it says itself where they came from
        source = {}
    elif hasattr(run.source, "root"):
        source = {"kind": "folder", "root": str(run.source.root.resolve())}
    else:
        source = {"kind": "array", "shape": list(np.shape(run.source))}
    source.update(run.source_info)
    info = {
        "deepclust_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command if command is not None else sys.argv,
        "source": source,
        "parameters": run.params,
        "seed": run.params.get("random_state"),
        "device": run.params.get("device"),
        "versions": versions(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
        "n_images": len(run.paths) + len(run.skipped),
        "n_clustered": len(run.paths),
        "n_clusters": run.n_clusters,
        "n_clusters_requested": run.params.get("n_clusters"),
        "n_clusters_fitted": run.n_clusters_fitted,
        "cluster_sizes": run.cluster_sizes(),
        "timings_s": _timings(run.timings, time.perf_counter() - started, command_started),
        "extraction": run.extraction,
        "k_selection": run.k_selection,
        "k_options": list(k_options_of(run.params.get("method"))),
        "members": run.members,
        "metrics": run.metrics,
        "metrics_undefined": run.metrics_undefined,
        "notes": run.notes,
        "cluster_tree": tree.to_dict() if tree is not None else None,
        "cluster_names": ({"about": NAMES_ABOUT, "clusters": {str(c): v for c, v in run.cluster_names.items()}}
                          if run.cluster_names else None),
        "model_not_saved": model_not_saved,
        "map": map_info,
        "method_figures": method_figures,
        "skipped": [{"path": s.path, "reason": s.reason} for s in run.skipped],
        "files": [ASSIGNMENTS_FILE, EMBEDDING_FILE, REPORT_FILE] + files,
    }
    write_json(folder / RUN_FILE, info)


def _timings(timings: dict[str, float], write_s: float, command_started: float | None) -> dict[str, float]:
    """The run's stage times with writing the folder added, a ``total`` that includes it, and the ``command``'s."""
    out = dict(timings, write=write_s)
    out["total"] = timings.get("total", 0.0) + write_s
    if command_started is not None:
        out["command"] = time.perf_counter() - command_started
    return {k: round(v, 3) for k, v in out.items()}


def _majority(run, cluster: int) -> str:
    """`` · majority LABEL (share)`` when labels are known, for captions."""
    if run.labels_true is None:
        return ""
    values, counts = np.unique(np.asarray(run.labels_true)[run.labels == cluster], return_counts=True)
    best = int(counts.argmax())
    name = label_name(run.source_info.get("dataset"), values[best])
    return f" · majority {name} ({counts[best] / counts.sum():.0%})"


def _write_map(run, folder: Path, method: str, verbose: bool, n_thumbnails: int = 300) -> dict:
    """``embedding_2d.npy``, the map coloured by cluster, and thumbnails at their places (a random sample)."""
    xy, how = map_2d(run.embedding, method, random_state=run.params.get("random_state", 0))
    np.save(folder / EMBEDDING_2D_FILE, xy)
    rs = np.random.RandomState(run.params.get("random_state", 0))
    sample = rs.permutation(len(xy))[:N_HOVER]
    ax = plot_cluster_map(xy, run.labels, title=how)
    thumbs = write_hover(run, folder, xy, ax, sample, verbose=verbose)
    save_figure(ax, folder / f"{FIGURES}/map.png")
    kept = [k for k, t in enumerate(thumbs) if t is not None][:n_thumbnails]  # unreadable or past the time budget
    info = {"method": method, "how": how, "figure": f"{FIGURES}/map.png", "thumbnails": None,
            "n_thumbnails": len(kept), "sampled": len(kept) < len(xy), "n_hover": len(sample)}
    if kept:
        save_figure(plot_thumbnail_map(xy[sample[kept]], [thumbs[k] for k in kept], zoom=0.7),
                    folder / f"{FIGURES}/map_thumbnails.png")
        info["thumbnails"] = f"{FIGURES}/map_thumbnails.png"
    return info
