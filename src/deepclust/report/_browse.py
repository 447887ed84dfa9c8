"""What makes report.html browsable at any size: thumbnails that show when the pointer is over the map, and every
member of a cluster paged through on demand.

Pictures go into sprite sheets (one PNG/JPEG holding many thumbnails) so that a page of 100 images is one file, and
they are files of the run folder, so the page still shows them after the folder is moved or copied. A run on a folder
of photos spends at most :data:`THUMBNAIL_BUDGET_S` seconds making its members' thumbnails (each photo decoded
reduced, a few at a time); members left without one are shown from their original files. The members of a cluster
are listed in a small script per cluster that the page loads only when the cluster is opened, so report.html stays
small at 70,000 images.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from contextlib import ExitStack
from pathlib import Path

import numpy as np

#: Thumbnail side in the sprite sheets of a run on arrays (28×28 digits and the like), in pixels.
TILE = 32
#: Thumbnail side of a run on a folder: the page shows members 64 CSS pixels wide, and photos need the pixels.
FILE_TILE = 64
#: Thumbnails per row of a sheet, and per sheet (= per page of a cluster's members).
SHEET_COLUMNS = 10
PAGE_SIZE = 100
#: Images of the map that show a thumbnail under the pointer (a random sample of the run).
N_HOVER = 1000
HOVER_FILE = "figures/map_hover.json"
SHEETS_FILE = "figures/members/sheets.json"
#: Image files a browser shows as they are (others get a thumbnail in a sheet).
BROWSER_FORMATS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".avif", ".ico"}
#: Seconds that a run on a folder may spend decoding images for the map's pointer thumbnails, and for its
#: members' thumbnails: large PNGs cost a fraction of a second each, whatever the thumbnail's size.
HOVER_BUDGET_S = 30.0
THUMBNAIL_BUDGET_S = 60.0


def save_sheet(folder: Path, stem: str, images: list[np.ndarray], columns: int, tile: int = TILE) -> str:
    """A sprite sheet of ``images`` (``tile`` pixels a side, no padding), PNG for grey images and JPEG for colour
    (a tenth of the size); returns its file name relative to ``folder``."""
    from PIL import Image

    from .._atomic import atomic_path
    from ._montage import make_grid

    grid = make_grid(images, columns=columns, tile=tile, pad=0)
    grey = bool((grid[..., 0] == grid[..., 1]).all() and (grid[..., 1] == grid[..., 2]).all())
    name = f"{stem}.{'png' if grey else 'jpg'}"
    picture = Image.fromarray(grid[..., 0] if grey else grid)
    with atomic_path(folder / name) as tmp:
        picture.save(tmp, format="PNG" if grey else "JPEG", quality=90)
    return name


def tile_side(run) -> int:
    """The thumbnail side for ``run``'s pages: :data:`FILE_TILE` for a folder of files, else :data:`TILE`."""
    return FILE_TILE if _from_files(run) else TILE


def read_images(run, rows, size: int, *, budget_s: float | None = None, verbose: bool = False,
                description: str = "thumbnails") -> list[np.ndarray | None]:
    """The images of result rows ``rows``, ``size`` pixels square, as ``run.image(row, size)`` gives them; for a run
    on a folder decoded reduced (see :func:`~deepclust.datasets.load_image`) by a few threads at once. With
    ``budget_s``, an image not started within that many seconds is None (so is a file that can no longer be read),
    which bounds the time a folder of huge photos takes; the images come in the order of ``rows``."""
    from .._progress import progress_bar

    rows = [int(r) for r in rows]
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    with ExitStack() as stack:
        advance = stack.enter_context(progress_bar(total=len(rows), description=description,
                                                   verbose=verbose and len(rows) > 0))
        pool = stack.enter_context(_decoders()) if _from_files(run) else None
        return _read(run, rows, size, pool, deadline, advance)


def _read(run, rows: list[int], size: int, pool, deadline: float | None, advance=None) -> list[np.ndarray | None]:
    from PIL import Image

    def one(row: int) -> np.ndarray | None:
        if deadline is not None and time.perf_counter() > deadline:
            return None
        try:
            return run.image(row, size=size)
        except (OSError, ValueError, Image.DecompressionBombError):  # the file changed or went away since the run
            return None  # read it: no thumbnail, not a failed run

    out = []
    for image in (pool.map(one, rows) if pool is not None else map(one, rows)):
        out.append(image)
        if advance is not None:
            advance(1)
    return out


def _decoders():
    """Threads that decode files (Pillow lets go of the GIL while it decodes)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="deepclust-thumbnails")


def _from_files(run) -> bool:
    return run.source is not None and run.source.root is not None


def _shrink(image: np.ndarray, side: int) -> np.ndarray:
    from PIL import Image

    if image.shape[0] == side:
        return image
    return np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR))


def write_hover(run, folder: Path, xy: np.ndarray, ax, sample: np.ndarray, *, budget_s: float | None = HOVER_BUDGET_S,
                verbose: bool = False) -> list[np.ndarray | None]:
    """``figures/map_hover.json`` + its sprite: where each sampled image sits on the saved map (as a fraction of
    the picture's width and height, so the page needs no axis arithmetic) and its thumbnail. A run on a folder
    decodes for at most ``budget_s`` seconds; the images it did not reach get no pointer thumbnail. Returns one
    thumbnail (:data:`TILE` pixels) per image of ``sample``, None where there is none, which the thumbnail map
    reuses."""
    from .._atomic import write_json

    ax.figure.canvas.draw()  # settles the axis limits that place the points
    width, height = ax.figure.bbox.width, ax.figure.bbox.height
    px = ax.transData.transform(xy[sample])
    side = tile_side(run)
    thumbs = read_images(run, sample, side, budget_s=budget_s if _from_files(run) else None, verbose=verbose,
                         description="map thumbnails")
    kept = [k for k, t in enumerate(thumbs) if t is not None]
    columns = 40
    sprite = save_sheet(folder, "figures/map_hover", [t for t in thumbs if t is not None], columns, tile=side)
    points = [[round(float(px[k][0]) / width, 4), round(1 - float(px[k][1]) / height, 4), int(sample[k]),
               int(run.labels[sample[k]])] for k in kept]
    write_json(folder / HOVER_FILE, {"sprite": sprite, "tile": side, "columns": columns, "points": points,
                                     "n_sampled": len(sample)})
    return [None if t is None else _shrink(t, TILE) for t in thumbs]


def write_member_sheets(run, folder: Path, *, budget_s: float | None = THUMBNAIL_BUDGET_S,
                        verbose: bool = False) -> list[str]:
    """Thumbnails of every member, in sheets of :data:`PAGE_SIZE` (a cluster's page), so that report.html shows
    them from files of the run folder: moved or copied, the page still works. A run on a folder decodes for at most
    ``budget_s`` seconds (None: no limit), every cluster's first page before any second page, and reuses the map's
    pointer thumbnails; members it did not reach are shown from their original files. ``verbose``: a progress bar.
    ``figures/members/sheets.json`` says which row is where, and how many have no thumbnail. Returns the files
    written."""
    from .._atomic import write_json
    from .._progress import progress_bar

    from_files = _from_files(run)
    side = tile_side(run)
    reused = _hover_thumbnails(folder, side) if from_files else {}
    pages = []
    for c in np.unique(run.labels):
        members = np.flatnonzero(run.labels == c)
        members = members[np.argsort(run.distances[members], kind="stable")]
        pages += [(int(c), page, members[start:start + PAGE_SIZE].tolist())
                  for page, start in enumerate(range(0, len(members), PAGE_SIZE))]
    pages.sort(key=lambda p: p[1])  # stable: clusters in order, first pages first; a budget cuts only the last
    deadline = time.perf_counter() + budget_s if from_files and budget_s is not None else None
    files, where = [], {}
    (folder / "figures/members").mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        advance = stack.enter_context(progress_bar(total=len(run.labels), description="member thumbnails",
                                                   verbose=verbose))
        pool = stack.enter_context(_decoders()) if from_files else None
        for c, page, rows in pages:
            todo = [r for r in rows if r not in reused]
            decoded = dict(zip(todo, _read(run, todo, side, pool, deadline)))
            kept = [(r, reused[r] if r in reused else decoded[r]) for r in rows]
            kept = [(r, t) for r, t in kept if t is not None]
            advance(len(rows))
            if kept:
                files.append(save_sheet(folder, f"figures/members/cluster_{c:03d}_{page:03d}",
                                        [t for _, t in kept], SHEET_COLUMNS, tile=side))
                where.update({r: [files[-1], pos] for pos, (r, _) in enumerate(kept)})
    write_json(folder / SHEETS_FILE, {"tile": side, "columns": SHEET_COLUMNS, "rows": where,
                                      "without_thumbnail": len(run.labels) - len(where),
                                      "budget_s": budget_s if from_files else None})
    return files + [SHEETS_FILE]


def _hover_thumbnails(folder: Path, side: int) -> dict[int, np.ndarray]:
    """The map's pointer thumbnails already in ``folder`` (row → image), when they have the side wanted."""
    from PIL import Image

    path = folder / HOVER_FILE
    if not path.is_file():
        return {}
    hover = json.loads(path.read_text())
    if hover.get("tile") != side:
        return {}
    try:
        with Image.open(folder / hover["sprite"]) as im:
            sprite = np.asarray(im.convert("RGB"))
    except Exception:  # reuse only saves time: a sprite that cannot be read back is decoded again, image by image
        return {}
    columns, out = hover["columns"], {}
    for k, point in enumerate(hover["points"]):
        y, x = divmod(k, columns)
        out[int(point[2])] = sprite[y * side:(y + 1) * side, x * side:(x + 1) * side]
    return out


def hover_context(run_dir: Path, rows: list[dict]) -> dict | None:
    """The map's hover data for the page (None for runs without it), each point with its image's name."""
    path = run_dir / HOVER_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    data["points"] = [p + [display_name(rows[p[2]]["path"])] for p in data["points"] if p[2] < len(rows)]
    return data


def write_member_scripts(run_dir: Path, rows: list[dict], root: Path | None) -> dict[int, dict]:
    """``figures/members/cluster_NNN.js`` for every cluster: its members, closest to the centre first, each with
    the picture to show: a sheet and place in it, else (a run on a folder) the original file by its path relative to
    the run folder, which the page swaps for the absolute path when the relative one fails (the run folder moved),
    else none (a file browsers cannot show). ``root``: the folder the run's images are in (None: no files to
    show). Returns, per cluster, the script and its number of pages."""
    from .._atomic import write_text

    sheets = members_sheets(run_dir)
    in_sheets = sheets.get("rows", {})
    files = {"relative": _file_url(root, run_dir) + "/", "absolute": root.absolute().as_uri() + "/"} if root else None
    by_cluster: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_cluster.setdefault(r["cluster"], []).append(i)
    (run_dir / "figures/members").mkdir(parents=True, exist_ok=True)
    out = {}
    for c, members in by_cluster.items():
        items = []
        for i in sorted(members, key=lambda i: float(rows[i]["distance"])):
            path = rows[i]["path"]
            picture = in_sheets.get(str(i))
            if picture is None and files and Path(path).suffix.lower() in BROWSER_FORMATS:
                picture = files["relative"] + urllib.parse.quote(path)
            items.append([display_name(path), picture])
        data = {"page_size": PAGE_SIZE, "tile": sheets.get("tile", TILE), "columns": SHEET_COLUMNS, "items": items}
        if files:
            data["files"] = files
        name = f"figures/members/cluster_{int(c):03d}.js"
        write_text(run_dir / name, f"deepclustMembers({int(c)}, {json.dumps(data, separators=(',', ':'))});\n")
        out[int(c)] = {"script": name, "pages": -(-len(items) // PAGE_SIZE)}
    return out


def members_sheets(run_dir: Path) -> dict:
    """``figures/members/sheets.json`` of a run folder (empty when the run made no thumbnails of its members)."""
    path = run_dir / SHEETS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def display_name(path: str) -> str:
    """How a page names a run's image: its path, or ``image 12`` for a row of an array or data set."""
    return f"image {path}" if path.isdigit() else path


def _file_url(path: Path, run_dir: Path) -> str:
    """A URL of ``path`` relative to the run folder (absolute where no relative path exists, e.g. another drive)."""
    try:
        rel = os.path.relpath(path, run_dir)
    except ValueError:
        return path.resolve().as_uri()
    return urllib.parse.quote(rel.replace(os.sep, "/"))
