"""``compare.html``: the page of ``deepclust compare``, from a Jinja2 template like the run's report. It is handed
the comparison (:class:`~deepclust.run.RunComparison`) and reads no run file itself."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from .._atomic import write_text
from ._html import REPORT_FILE

#: Moved images listed on the page; all of them are in moved.csv.
N_MOVED_SHOWN = 500


def write_compare_page(comparison, path: str | os.PathLike) -> Path:
    """Render ``compare.html`` for ``comparison`` (a :class:`~deepclust.run.RunComparison`) at ``path``; links to
    the runs' own pages are relative, so the folders can move together."""
    from jinja2 import Environment, PackageLoader

    path = Path(path)
    # autoescape for every template: select_autoescape(["html"]) would not match the name compare.html.j2
    env = Environment(loader=PackageLoader("deepclust.report", "templates"), autoescape=True)
    runs = [{"name": run.name, "path": str(run.resolve()),
             "report": _relative(run / REPORT_FILE, path.parent) if (run / REPORT_FILE).is_file() else None}
            for run in (comparison.run_a, comparison.run_b)]
    flows = comparison.cluster_flows()
    col = {c: j for j, c in enumerate(comparison.clusters_b)}
    unmatched = [{"cluster": c, "n_shared": int(comparison.flows[:, col[c]].sum())} for c in comparison.unmatched_b]
    moved = comparison.moved[:N_MOVED_SHOWN]
    thumbnails = _thumbnails(comparison.run_a, moved, path.parent)
    html = env.get_template("compare.html.j2").render(
        a=runs[0], b=runs[1], c=comparison, flows=flows, unmatched=unmatched, moved=moved, thumbnails=thumbnails,
        moved_share=f"{comparison.n_moved / comparison.n_shared:.1%}")
    write_text(path, html)
    return path


def _thumbnails(run_dir: Path, moved, page_dir: Path) -> dict[str, dict]:
    """Each moved image's thumbnail in run A's member sheets (the sheet's URL from the page, the tile's offset and
    side), by path; images without one are left out (the run made no sheet for them)."""
    from ._browse import members_sheets

    sheets = members_sheets(run_dir)
    where = sheets.get("rows", {})
    out = {}
    for m in moved:
        found = where.get(str(m.row_a))
        if found is not None:  # then sheets.json has them all
            tile, columns = sheets["tile"], sheets["columns"]
            y, x = divmod(int(found[1]), columns)
            url = _relative(run_dir / found[0], page_dir)
            url = url if url.startswith("file:") else urllib.parse.quote(url, safe="/")  # no quote ends the CSS
            out[m.path] = {"url": url, "x": x * tile, "y": y * tile, "tile": tile}
    return out


def _relative(target: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return target.resolve().as_uri()
