"""``report.html``: the page a person opens first, built from a run folder's own files (so ``deepclust report``
can rebuild it), from a Jinja2 template; every picture is a file of the run folder, nothing is fetched. The run folder
is read through the :class:`~deepclust.run.RunFolder` handed in: this package never opens a run's files itself."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

REPORT_FILE = "report.html"

#: How evaluation.json names the labels a data-set run stored in assignments.csv (shown with the data set's names).
RUN_OWN_LABELS = "assignments.csv label column"


def write_report(run) -> Path:
    """Render ``report.html`` into the folder of ``run`` (a :class:`~deepclust.run.RunFolder`: its run.json,
    assignments.csv, figures/ and the files later commands added); returns the page's path. From a path:
    ``RunFolder.open(path).write_report()``."""
    from jinja2 import Environment, PackageLoader

    from .._atomic import write_text
    from ._browse import write_member_scripts

    if isinstance(run, (str, os.PathLike)):
        raise TypeError(f"write_report takes a RunFolder, not a path: RunFolder.open({str(run)!r}).write_report()")
    # the template is report.html.j2, which select_autoescape(["html"]) would leave unescaped: paths are text
    env = Environment(loader=PackageLoader("deepclust.report", "templates"), autoescape=True)
    pages = write_member_scripts(run.path, run.rows, run.root)
    html = env.get_template("report.html.j2").render(**report_context(run, pages))
    write_text(run.path / REPORT_FILE, html)
    return run.path / REPORT_FILE


#: How the report names the times that add stages up (the others are stages: scan, extract, cluster, write …).
TIMING_NAMES = {"total": "total (the stages, scan to written run)",
                "command": "the whole command (its start, imports and checks too)"}


def report_context(run, member_pages: dict[int, dict] | None = None) -> dict:
    """What the template shows, computed from the files of ``run`` (a :class:`~deepclust.run.RunFolder`);
    ``member_pages``: each cluster's member script (see :func:`~deepclust.report._browse.write_member_scripts`)."""
    from ..features import cluster_label
    from ..methods import NO_CLUSTER
    from ._browse import hover_context

    record, rows, run_dir = run.record, run.rows, run.path
    source = record.source
    sizes = Counter(r["cluster"] for r in rows)
    n = max(len(rows), 1)
    evaluation = _evaluation(run, source.dataset)
    against = (evaluation or {}).get("against") or _against_label_column(rows, source.dataset)
    named = record.names or {}
    given = run.review.names if run.review is not None else {}  # the names a person gave (deepclust review)
    clusters = []
    # largest first; images in no cluster (set aside, a density method's noise) last
    for cid, size in sorted(sizes.items(), key=lambda kv: (int(kv[0]) == NO_CLUSTER, -kv[1], int(kv[0]))):
        members = [r for r in rows if r["cluster"] == cid]
        cohesion = sum(float(r["distance"]) for r in members) / len(members)
        montage, atypical = run.montage_file(int(cid)), run.montage_file(int(cid), atypical=True)
        shown = run.shows_original(int(cid))  # a montage shows the cluster the run made, not one a person changed
        clusters.append({"id": int(cid), "size": size, "share": f"{size / n:.1%}",
                         "cohesion": "—" if int(cid) == NO_CLUSTER else f"{cohesion:.3g}",
                         "label": "in no cluster / set aside" if int(cid) == NO_CLUSTER else f"cluster {cid}",
                         "given": given.get(int(cid), ""),
                         "majority": _majority(against, cid) if against else "",
                         "names": cluster_label(named.get(int(cid))) if shown else "",
                         "montage": montage if shown and run.has(montage) else None,
                         "members": (member_pages or {}).get(int(cid)),
                         "atypical": atypical if shown and run.has(atypical) else None})
    confusion = None
    if against:
        confusion = {"labels": against["labels"], "source": against["source"],
                     "rows": [{"cluster": c["id"], "counts": against["counts"].get(str(c["id"]),
                                                                             [0] * len(against["labels"]))}
                              for c in clusters]}
    outliers_figure = run.outliers_figure
    return {
        "title": source.title, "method": record.method or "?", "seed": record.seed,
        "created": record.created, "version": record.deepclust_version or "?",
        "n_images": record.n_images, "n_clustered": record.n_clustered or len(rows),
        "images": _images_line(record, len(rows)),
        "n_clusters": record.n_clusters or len(sizes), "n_fitted": record.n_clusters_fitted,
        "requested": record.n_clusters_requested, "k_chosen": record.k_chosen, "notes": list(record.notes),
        "k_caveat": (record.k_selection or {}).get("caveat"),
        "scores": _formatted(record.metrics), "evaluation": evaluation, "undefined": record.metrics_undefined,
        "source": source.line(),
        "timings": [(TIMING_NAMES.get(k, k), f"{v:.1f}") for k, v in record.timings.items()],
        "parameters": _parameters(record),
        "skipped": list(record.skipped), "confusion": confusion,
        "figures": [f for f in record.figures if run.has(f.file)],
        "clusters": clusters, "names_about": record.names_about, "map": record.map, "reviewed": bool(given),
        "members": _members(record), "hover": hover_context(run_dir, rows),
        "members_note": _members_note(run_dir, run.root, len(rows)),
        "outliers": run.outliers(),
        "outliers_figure": outliers_figure if run.has(outliers_figure) else None,
        "duplicates": _duplicate_groups(run.duplicates()),
    }


def _formatted(scores: dict) -> list[tuple[str, str]]:
    return [(k, f"{v:.1%} of the images, in no cluster: left out of the scores above" if k == "unclustered"
             else "—" if v is None else f"{v:.4f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int)
             else v) for k, v in scores.items()]


def _images_line(record, n_rows: int) -> str:
    """How many images were clustered out of how many, and how they were chosen: ``600 of 1,216 images (a random
    600: --limit)``; the files set aside are counted after it."""
    n_clustered = record.n_clustered or n_rows
    limit, n_found = record.source.limit, record.source.n_found
    if limit is None:
        text = f"{n_clustered:,} images"
    else:
        how = ", stratified by label" if "stratified by label" in (record.source.subset or "") else ""
        if n_found is None:  # a run folder from before n_found was recorded
            text = f"{n_clustered:,} images (a random {limit:,} of those found: --limit{how})"
        elif limit >= n_found:
            text = f"{n_clustered:,} of {n_found:,} images (all of them: --limit {limit:,} is not below their number)"
        else:
            text = f"{n_clustered:,} of {n_found:,} images (a random {limit:,}: --limit{how})"
    skipped = len(record.skipped)
    if skipped:
        text += f"; {skipped:,} file{'s' if skipped != 1 else ''} skipped (listed below)"
    return text


def _parameters(record) -> list[tuple[str, str]]:
    """The parameters that applied: the k-selection ones only when k was chosen, and then n_clusters as chosen."""
    chosen = record.k_chosen
    shown = {}
    for k, v in record.parameters.items():
        if k in ("input_settings", "view_details") or (chosen is None and k in record.k_options):
            continue
        shown[k] = chosen if k == "n_clusters" and chosen is not None else _short(v)
    return sorted(shown.items())


def _against_label_column(rows: list[dict], dataset: str | None) -> dict | None:
    """Counts of each cluster's images per label of assignments.csv's label column (None without one)."""
    from ..datasets import label_name

    if not rows or "label" not in rows[0]:
        return None
    labels = sorted({r["label"] for r in rows}, key=_natural)
    counts = Counter((r["cluster"], r["label"]) for r in rows)
    clusters = {r["cluster"] for r in rows}
    return {"labels": [label_name(dataset, lab) for lab in labels],
            "source": f"the labels of {dataset}" if dataset else "the run's labels",
            "counts": {c: [counts[(c, lab)] for lab in labels] for c in clusters}}


def _evaluation(run, dataset: str | None) -> dict | None:
    """What ``deepclust evaluate`` wrote (evaluation.json, and its confusion.csv: one row of counts per cluster,
    one column per class), or None before it ran."""
    from ..datasets import label_name

    data = run.evaluation()
    if data is None:
        return None
    scores = dict(data.get("scores", {}))
    n_scored = scores.pop("n_scored", None)
    table = run.confusion()
    against = None
    if table and len(table[0]) > 1:
        if data.get("labels") != RUN_OWN_LABELS:
            dataset = None  # the user's own labels (a CSV, subfolders): shown as given, not as the data set's names
        against = {"labels": [label_name(dataset, c) for c in table[0][1:]],
                   "source": f"labels from {data.get('labels', '?')}",
                   "counts": {r[0]: [int(v) for v in r[1:]] for r in table[1:] if len(r) == len(table[0])}}
    n_run = data.get("n_run_images")
    scored = (f"{n_scored:,} of {n_run:,} images scored" if n_scored is not None and n_run is not None
              and n_scored < n_run else f"{n_scored:,} images scored" if n_scored is not None else "")
    unmatched = data.get("unmatched_label_rows") or 0
    return {"labels": data.get("labels", "?"), "scores": _formatted(scores), "scored": scored,
            "unmatched": unmatched, "against": against}


def _majority(against: dict, cluster: str) -> str:
    """``NAME (share)`` of the label most of the cluster's labelled images have ("" when none is labelled)."""
    counts = against["counts"].get(str(cluster))
    if not counts or not sum(counts):
        return ""
    best = max(range(len(counts)), key=lambda j: counts[j])
    return f"{against['labels'][best]} ({counts[best] / sum(counts):.0%})"


def _members_note(run_dir: Path, root: Path | None, n_rows: int) -> str | None:
    """What the page says of members shown from the original files (a run on a folder), if any are."""
    from ._browse import members_sheets

    if not root:
        return None
    sheets = members_sheets(run_dir)
    if not sheets:
        return (f"Members are shown from the original files in {root} (this run folder holds no thumbnails of "
                f"them): the page shows them only while those files stay where they are.")
    missing = n_rows - len(sheets.get("rows", {}))  # older run folders kept thumbnails of TIFFs and the like only
    if missing <= 0:
        return None
    budget = f" (making them would have taken longer than the {sheets['budget_s']:g} s allowed)" \
        if sheets.get("budget_s") is not None else ""
    return (f"{missing:,} of {n_rows:,} members have no thumbnail in this run folder{budget}: they are shown from "
            f"the original files in {root}, which the page finds only while those files stay where they are.")


def _members(record) -> list[dict] | None:
    """An ensemble's members with their view's name (run.json keeps the view's index), then the ensemble itself."""
    if not record.members:
        return None
    views = record.parameters.get("views") or []
    rows = [{**m, "view": views[m["view"]] if isinstance(m.get("view"), int) and m["view"] < len(views)
             else m.get("view")} for m in record.members]
    rows.append({"view": "consensus", "algorithm": record.parameters.get("final", ""),
                 **{k: record.metrics[k] for k in ("acc", "nmi", "ari") if k in record.metrics}})
    return rows


def _duplicate_groups(rows: list[dict] | None) -> list[dict] | None:
    if rows is None:
        return None
    groups: dict[str, dict] = {}
    for r in rows:
        g = groups.setdefault(r["group"], {"kind": r["kind"], "similarity": r["similarity"], "paths": []})
        g["paths"].append(r["path"])
    return list(groups.values())


def _short(value) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _natural(label: str):
    return (0, int(label), "") if label.lstrip("-").isdigit() else (1, 0, label)
