"""``report.html``: the page a person opens first, built from a run folder's own files (so ``deepclust report``
can rebuild it), from a Jinja2 template; every picture is a file of the run folder, nothing is fetched."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from pathlib import Path

REPORT_FILE = "report.html"


class NotARunFolderError(FileNotFoundError):
    """The folder has no run.json or assignments.csv of deepclust."""


def write_report(run_dir: str | os.PathLike) -> Path:
    """Render ``run_dir/report.html`` from ``run.json``, ``assignments.csv`` and ``figures/``; returns its path."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from .._atomic import write_text
    from ._browse import write_member_scripts

    run_dir = Path(run_dir)
    for name in ("run.json", "assignments.csv"):
        if not (run_dir / name).is_file():
            raise NotARunFolderError(f"{run_dir} is not a run folder of deepclust: {name} is missing")
    info = json.loads((run_dir / "run.json").read_text())
    with (run_dir / "assignments.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    env = Environment(loader=PackageLoader("deepclust.report", "templates"), autoescape=select_autoescape(["html"]))
    pages = write_member_scripts(run_dir, rows, info.get("source", {}))
    html = env.get_template("report.html.j2").render(**report_context(info, rows, run_dir, pages))
    write_text(run_dir / REPORT_FILE, html)
    return run_dir / REPORT_FILE


def report_context(info: dict, rows: list[dict], run_dir: Path, member_pages: dict[int, dict] | None = None) -> dict:
    """What the template shows, computed from the run folder's files; ``member_pages``: each cluster's member script
    (see :func:`~deepclust.report._browse.write_member_scripts`)."""
    from ._browse import hover_context

    source = info.get("source", {})
    title = source.get("dataset") or Path(source.get("root", "images")).name
    if source.get("kind") == "array":
        title = f"array {source.get('shape')}"
    params = info.get("parameters", {})
    sizes = Counter(r["cluster"] for r in rows)
    n = max(len(rows), 1)
    has_labels = bool(rows) and "label" in rows[0]
    clusters = []
    for cid, size in sorted(sizes.items(), key=lambda kv: (-kv[1], int(kv[0]))):
        members = [r for r in rows if r["cluster"] == cid]
        cohesion = sum(float(r["distance"]) for r in members) / len(members)
        majority = ""
        if has_labels:
            label, count = Counter(r["label"] for r in members).most_common(1)[0]
            majority = f"{label} ({count / len(members):.0%})"
        stem = f"figures/cluster_{int(cid):03d}"
        clusters.append({"id": int(cid), "size": size, "share": f"{size / n:.1%}", "cohesion": f"{cohesion:.3g}",
                         "majority": majority, "montage": f"{stem}.png", "members": (member_pages or {}).get(int(cid)),
                         "atypical": f"{stem}_atypical.png" if (run_dir / f"{stem}_atypical.png").exists() else None})
    confusion = None
    if has_labels:
        labels = sorted({r["label"] for r in rows}, key=_natural)
        counts = Counter((r["cluster"], r["label"]) for r in rows)
        confusion = {"labels": labels, "rows": [{"cluster": c["id"], "counts": [counts[(str(c["id"]), lab)]
                                                                                 for lab in labels]}
                                                for c in clusters]}
    sel = info.get("k_selection")
    k_selection = None
    if sel:
        k_selection = {**sel, "figure": "figures/k_selection.png", "votes": sel.get("votes", {})}
    shown_options = {k: v for k, v in params.items() if k not in ("input_settings", "view_details")}
    metrics = info.get("metrics", {})
    return {
        "title": title, "method": params.get("method", "?"), "seed": info.get("seed"),
        "created": info.get("created", ""), "version": info.get("deepclust_version", "?"),
        "n_images": info.get("n_images"), "n_clustered": info.get("n_clustered", len(rows)),
        "n_clusters": info.get("n_clusters", len(sizes)), "n_fitted": info.get("n_clusters_fitted"),
        "requested": info.get("n_clusters_requested"), "notes": info.get("notes", []),
        "scores": [(k, "—" if v is None else f"{v:.4f}" if isinstance(v, float) else v) for k, v in metrics.items()],
        "undefined": info.get("metrics_undefined", {}),
        "source": source.get("root") or source.get("dataset") or f"array {source.get('shape')}",
        "timings": [(k, f"{v:.1f}") for k, v in info.get("timings_s", {}).items()],
        "parameters": sorted((k, _short(v)) for k, v in shown_options.items()),
        "skipped": info.get("skipped", []), "k_selection": k_selection, "confusion": confusion,
        "clusters": clusters, "map": info.get("map"), "members": _members(info), "hover": hover_context(run_dir, rows),
        "members_from_files": source.get("kind") == "folder" and source.get("root"),
        "training": "figures/training.png" if (run_dir / "figures/training.png").exists() else None,
        "attention": "figures/attention.png" if (run_dir / "figures/attention.png").exists() else None,
        "outliers": _read_csv(run_dir / "outliers.csv"),
        "outliers_figure": "figures/outliers.png" if (run_dir / "figures/outliers.png").exists() else None,
        "duplicates": _duplicate_groups(run_dir / "duplicates.csv"),
    }


def _members(info: dict) -> list[dict] | None:
    """An ensemble's members with their view's name (run.json keeps the view's index), then the ensemble itself."""
    members = info.get("members")
    if not members:
        return None
    views = info.get("parameters", {}).get("views") or []
    rows = [{**m, "view": views[m["view"]] if isinstance(m.get("view"), int) and m["view"] < len(views)
             else m.get("view")} for m in members]
    metrics = info.get("metrics", {})
    rows.append({"view": "consensus", "algorithm": info.get("parameters", {}).get("final", ""),
                 **{k: metrics[k] for k in ("acc", "nmi", "ari") if k in metrics}})
    return rows


def _read_csv(path: Path) -> list[dict] | None:
    """The rows of a CSV that ``deepclust outliers``/``duplicates`` wrote, or None before they ran."""
    if not path.is_file():
        return None
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _duplicate_groups(path: Path) -> list[dict] | None:
    rows = _read_csv(path)
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
