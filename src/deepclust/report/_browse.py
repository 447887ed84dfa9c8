"""What makes report.html browsable at any size: thumbnails that show when the pointer is over the map, and every
member of a cluster paged through on demand.

Pictures go into sprite sheets (one PNG/JPEG holding many thumbnails) so that a page of 100 images is one file; a
run on a folder shows its members from the original files instead (nothing is decoded again, however many images).
The members of a cluster are listed in a small script per cluster that the page loads only when the cluster is
opened, so report.html stays small at 70,000 images.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import numpy as np

#: Thumbnail side in the sprite sheets, in pixels.
TILE = 32
#: Thumbnails per row of a sheet, and per sheet (= per page of a cluster's members).
SHEET_COLUMNS = 10
PAGE_SIZE = 100
#: Images of the map that show a thumbnail under the pointer (a random sample of the run).
N_HOVER = 1000
HOVER_FILE = "figures/map_hover.json"
SHEETS_FILE = "figures/members/sheets.json"
#: Image files a browser shows as they are (others get a thumbnail in a sheet).
BROWSER_FORMATS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".avif", ".ico"}


def save_sheet(folder: Path, stem: str, images: list[np.ndarray], columns: int) -> str:
    """A sprite sheet of ``images`` (``TILE`` pixels a side, no padding), PNG for grey images and JPEG for colour
    (a tenth of the size); returns its file name relative to ``folder``."""
    from PIL import Image

    from .._atomic import atomic_path
    from ._montage import make_grid

    grid = make_grid(images, columns=columns, tile=TILE, pad=0)
    grey = bool((grid[..., 0] == grid[..., 1]).all() and (grid[..., 1] == grid[..., 2]).all())
    name = f"{stem}.{'png' if grey else 'jpg'}"
    picture = Image.fromarray(grid[..., 0] if grey else grid)
    with atomic_path(folder / name) as tmp:
        picture.save(tmp, format="PNG" if grey else "JPEG", quality=90)
    return name


def write_hover(run, folder: Path, xy: np.ndarray, ax, sample: np.ndarray) -> list[np.ndarray]:
    """``figures/map_hover.json`` + its sprite: where each sampled image sits on the saved map (as a fraction of
    the picture's width and height, so the page needs no axis arithmetic) and its thumbnail. Returns the
    thumbnails, which the thumbnail map reuses."""
    from .._atomic import write_json

    ax.figure.canvas.draw()  # settles the axis limits that place the points
    width, height = ax.figure.bbox.width, ax.figure.bbox.height
    px = ax.transData.transform(xy[sample])
    thumbs = [run.image(int(r), size=TILE) for r in sample]
    columns = 40
    sprite = save_sheet(folder, "figures/map_hover", thumbs, columns)
    points = [[round(float(x) / width, 4), round(1 - float(y) / height, 4), int(r), int(run.labels[r])]
              for (x, y), r in zip(px, sample)]
    write_json(folder / HOVER_FILE, {"sprite": sprite, "tile": TILE, "columns": columns, "points": points})
    return thumbs


def write_member_sheets(run, folder: Path) -> list[str]:
    """Thumbnails, in sheets of :data:`PAGE_SIZE`, of the members that a browser cannot show from a file: every
    image of a run on arrays, and the files in formats browsers do not display (TIFF, …) of a run on a folder.
    ``figures/members/sheets.json`` says which row is where. Returns the files written (none when none needed)."""
    from .._atomic import write_json

    from_files = isinstance(getattr(run.source, "root", None), Path)
    files, where = [], {}
    for c in np.unique(run.labels):
        members = np.flatnonzero(run.labels == c)
        members = members[np.argsort(run.distances[members], kind="stable")]
        if from_files:
            members = [r for r in members if Path(run.paths[r]).suffix.lower() not in BROWSER_FORMATS]
        for page, start in enumerate(range(0, len(members), PAGE_SIZE)):
            (folder / "figures/members").mkdir(parents=True, exist_ok=True)
            rows = members[start:start + PAGE_SIZE]
            files.append(save_sheet(folder, f"figures/members/cluster_{int(c):03d}_{page:03d}",
                                    [run.image(int(r), size=TILE) for r in rows], SHEET_COLUMNS))
            where.update({int(r): [files[-1], pos] for pos, r in enumerate(rows)})
    if not where:
        return []
    write_json(folder / SHEETS_FILE, {"tile": TILE, "columns": SHEET_COLUMNS, "rows": where})
    return files + [SHEETS_FILE]


def hover_context(run_dir: Path, rows: list[dict]) -> dict | None:
    """The map's hover data for the page (None for runs without it), each point with its image's name."""
    path = run_dir / HOVER_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    data["points"] = [p + [_display_name(rows[p[2]]["path"])] for p in data["points"] if p[2] < len(rows)]
    return data


def write_member_scripts(run_dir: Path, rows: list[dict], source: dict) -> dict[int, dict]:
    """``figures/members/cluster_NNN.js`` for every cluster: its members, closest to the centre first, each with
    the picture to show (a sheet and place in it, or the original file relative to the run folder). Returns, per
    cluster, the script and its number of pages."""
    from .._atomic import write_text

    sheets_path = run_dir / SHEETS_FILE
    in_sheets = json.loads(sheets_path.read_text())["rows"] if sheets_path.is_file() else {}
    root = Path(source["root"]) if source.get("kind") == "folder" and source.get("root") else None
    by_cluster: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_cluster.setdefault(r["cluster"], []).append(i)
    (run_dir / "figures/members").mkdir(parents=True, exist_ok=True)
    out = {}
    for c, members in by_cluster.items():
        items = []
        for i in sorted(members, key=lambda i: float(rows[i]["distance"])):
            picture = in_sheets.get(str(i)) or (_file_url(root / rows[i]["path"], run_dir) if root else None)
            items.append([_display_name(rows[i]["path"]), picture])
        data = {"page_size": PAGE_SIZE, "tile": TILE, "columns": SHEET_COLUMNS, "items": items}
        name = f"figures/members/cluster_{int(c):03d}.js"
        write_text(run_dir / name, f"deepclustMembers({int(c)}, {json.dumps(data, separators=(',', ':'))});\n")
        out[int(c)] = {"script": name, "pages": -(-len(items) // PAGE_SIZE)}
    return out


def _display_name(path: str) -> str:
    return f"image {path}" if path.isdigit() else path


def _file_url(path: Path, run_dir: Path) -> str:
    """A URL of ``path`` relative to the run folder (absolute where no relative path exists, e.g. another drive)."""
    try:
        rel = os.path.relpath(path, run_dir)
    except ValueError:
        return path.resolve().as_uri()
    return urllib.parse.quote(rel.replace(os.sep, "/"))
