"""Writing a run folder: ``run.json``, ``assignments.csv``, the embedding, the model and the figures, built in a
temporary sibling folder and moved into place whole."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .._atomic import default_mode, write_json, write_text
from .._outputs import check_output_dir
from .._progress import say
from ..datasets import label_name
from ..features import cluster_label
from ..methods import NO_CLUSTER
from ..report import (
    HOVER_FILE,
    MAPS,
    N_HOVER,
    REPORT_FILE,
    atypical_members,
    make_grid,
    map_2d,
    plot_cluster_map,
    plot_thumbnail_map,
    read_images,
    save_figure,
    save_png,
    typical_members,
    write_hover,
    write_member_sheets,
)
from ._figures import make_figures
from ._folder import (
    ASSIGNMENTS_FILE,
    EMBEDDING_2D_FILE,
    EMBEDDING_FILE,
    FIGURES,
    RUN_FILE,
    TRAINING_FILE,
    RunFolder,
    montage_file,
)
from ._model import MODEL_FILE, save_model
from ._review import REVIEW_FILE, append_edit

#: The side of a montage's tiles (make_grid's default), at which the images are decoded.
MONTAGE_TILE = 96


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
    record = run.record
    folder = record.source.scanned_folder
    read = [folder, weights if weights and Path(weights).exists() else None]
    out = check_output_dir(out, overwrite, inputs=read, marker=RUN_FILE).resolve()
    if map is not None and map not in MAPS:
        raise ValueError(f"unknown map {map!r}: use {', '.join(MAPS)} or None")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, default_mode(folder=True))  # mkdtemp makes it 0700: give it the mode of any new folder
    try:
        _write_contents(run, record, tmp, command, montage_size, map, verbose, started)
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


def _write_contents(run, record, folder: Path, command, montage_size: int, map_method: str | None, verbose: bool,
                    command_started: float | None) -> None:
    started = time.perf_counter()
    (folder / FIGURES).mkdir()
    write_text(folder / ASSIGNMENTS_FILE, _assignments_csv(run))
    shown = _DecodedOnce(run)  # the montages' images, decoded again for the map's pointer thumbnails otherwise
    files = _write_montages(shown, folder, montage_size, verbose)
    if map_method and verbose:
        say(f"map of {len(run.paths)} images ({map_method}) and its thumbnails")
    map_info = _write_map(shown, folder, map_method, verbose) if map_method else None
    shown.decoded.clear()  # bounded: the montages' and the map's sample, never every member
    if map_info:
        files += [EMBEDDING_2D_FILE, map_info["figure"], HOVER_FILE]
        if map_info["thumbnails"]:
            files.append(map_info["thumbnails"])
    files += write_member_sheets(run, folder, verbose=verbose)
    if run.history:
        write_json(folder / TRAINING_FILE, run.history)
        files.append(TRAINING_FILE)
    figures = make_figures(run, record, folder)
    files += [f.file for f in figures]
    np.save(folder / EMBEDDING_FILE, np.asarray(run.embedding, dtype=np.float32))
    model_not_saved = save_model(run.estimator, folder) if run.estimator is not None else "no estimator"
    if model_not_saved is None:
        files.append(MODEL_FILE)
    record = dataclasses.replace(
        record, command=tuple(command if command is not None else sys.argv), figures=tuple(figures), map=map_info,
        model_not_saved=model_not_saved, files=(ASSIGNMENTS_FILE, EMBEDDING_FILE, REPORT_FILE, *files),
        timings=_timings(run.timings, time.perf_counter() - started, command_started))
    write_json(folder / RUN_FILE, record.to_json())
    _carry_given_names(record, folder)


def _carry_given_names(record, folder: Path) -> None:
    """The names a person gave the clusters of the run this one is numbered like (``--like``), as this run's first
    edits: a rename each, in its review log, which every command then reads (and the person can undo)."""
    given = (record.like or {}).get("given_names") or {}
    for n, (cluster, name) in enumerate(sorted(given.items(), key=lambda cn: int(cn[0]))):
        append_edit(folder / REVIEW_FILE, {"op": "rename", "cluster": int(cluster), "name": name,
                                           "from": record.like["run"]}, n)


def _assignments_csv(run) -> str:
    """assignments.csv: one row per clustered image (its label and cluster name when known)."""
    has_labels, names = run.labels_true is not None, run.cluster_names
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "cluster", "distance", "confidence"] + (["label"] if has_labels else [])
                    + (["cluster_name"] if names else []))
    for i, path in enumerate(run.paths):
        row = [path, int(run.labels[i]), f"{run.distances[i]:.6g}", f"{run.confidence[i]:.4f}"]
        named = names.get(int(run.labels[i])) if names else None  # the images in no cluster may have no name
        writer.writerow(row + ([run.labels_true[i]] if has_labels else [])
                        + ([named[0]["name"] if named else ""] if names else []))
    return buf.getvalue()


class _DecodedOnce:
    """``run`` whose images are decoded once for the pictures of a run folder: the montages, then the map's pointer
    thumbnails, ask for many of the same images (all of them in a folder of 300 photos, where decoding 6-MP JPEGs a
    second time cost 2.0 of the 6.1 s that writing took). Each is kept at the montages' tile size, which serves the
    smaller thumbnails too (they are resized to their tile)."""

    def __init__(self, run):
        self.run, self.decoded = run, {}

    def __getattr__(self, name):
        return getattr(self.run, name)

    def image(self, row: int, size: int = MONTAGE_TILE) -> np.ndarray:
        found = self.decoded.get(row)
        if found is None or found[0] < size:
            found = self.decoded[row] = (max(size, MONTAGE_TILE), self.run.image(row, size=max(size, MONTAGE_TILE)))
        return found[1]


def _write_montages(run, folder: Path, montage_size: int, verbose: bool) -> list[str]:
    """Each cluster's most typical images and, for a cluster larger than a montage, its least typical ones; every
    picture's images are decoded at once, by a few threads. The images in no cluster (-1) get the same pictures,
    captioned as such: those nearest a cluster's centre, and those farthest from every centre. Returns the files
    written."""
    if run.source is None:  # embeddings whose images were not found: no pictures to make (run.json says so)
        return []
    sizes, names = run.cluster_sizes(), run.cluster_names
    montages = []  # (file name, caption, rows)
    for c in sorted(sizes):
        unclustered = c == NO_CLUSTER
        caption = (f"in no cluster · {sizes[c]} images" if unclustered else f"cluster {c} · {sizes[c]} images") \
            + _majority(run, c)
        if names and names.get(c):
            caption += f" · looks like: {cluster_label(names[c][:2])}"
        montages.append((montage_file(c), caption + (" · nearest a cluster" if unclustered else " · most typical"),
                         typical_members(run.labels, run.distances, c, montage_size)))
        if sizes[c] > montage_size:  # a small cluster is shown whole above
            montages.append((montage_file(c, atypical=True),
                             caption + (" · farthest from every cluster" if unclustered else " · least typical"),
                             atypical_members(run.labels, run.distances, c, 12)))
    wanted = sorted({int(r) for *_, rows in montages for r in rows})
    images = dict(zip(wanted, read_images(run, wanted, MONTAGE_TILE, verbose=verbose, description="montages")))
    for name, caption, rows in montages:
        # a file gone since the run has no tile (read_images gives None): the picture shows the others
        save_png(folder / name, make_grid([im for im in (images[int(r)] for r in rows) if im is not None],
                                          caption=caption))
    return [name for name, *_ in montages]


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
