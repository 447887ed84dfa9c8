"""Thumbnails of a folder run's members, kept inside the run folder: every member within a time budget, first pages
first, the map's pointer thumbnails reused, and the rest linked to their files in a way that survives a move."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from deepclust.datasets import load_image, scan_folder
from deepclust.report._browse import FILE_TILE, PAGE_SIZE, SHEETS_FILE, write_member_scripts, write_member_sheets
from deepclust.run import RunFolder


@pytest.fixture
def folder_run(tmp_path):
    """A run on a folder of 130 + 40 small images (two clusters; a few TIFFs, which browsers do not show), as the
    report sees it: paths, labels, distances and ``image(row, size)``."""
    root = tmp_path / "photos"
    rng = np.random.RandomState(0)
    for i in range(170):
        sub = root / ("a" if i < 130 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        ext = "tiff" if i % 50 == 7 else "png"
        Image.fromarray(rng.randint(0, 256, (24, 30, 3), dtype=np.uint8)).save(sub / f"{i:03d}.{ext}")
    folder = scan_folder(root)
    labels = np.array([0 if p.startswith("a/") else 1 for p in folder.paths])
    distances = rng.rand(len(labels))
    run = SimpleNamespace(source=folder, paths=folder.paths, labels=labels, distances=distances,
                          image=lambda row, size=96: load_image(folder.root / folder.paths[row], size))
    return run


def _write_run_files(run, out: Path) -> list[dict]:
    """run.json and assignments.csv of ``run`` in ``out`` (what write_report reads); returns the rows."""
    rows = [{"path": p, "cluster": str(c), "distance": f"{d:.6g}", "confidence": "0.9"}
            for p, c, d in zip(run.paths, run.labels, run.distances)]
    (out / "assignments.csv").write_text("path,cluster,distance,confidence\n" + "".join(
        f"{r['path']},{r['cluster']},{r['distance']},{r['confidence']}\n" for r in rows))
    (out / "run.json").write_text(json.dumps({
        "deepclust_version": "test", "source": {"kind": "folder", "root": str(run.source.root)},
        "parameters": {"method": "kmeans", "n_clusters": 2}, "n_clustered": len(rows), "n_clusters": 2,
        "n_clusters_requested": 2, "metrics": {}, "skipped": []}))
    return rows


def _page_order(run) -> list[int]:
    """Rows in the order thumbnails are made: every cluster's first page, then every second page, …"""
    pages = []
    for c in np.unique(run.labels):
        members = np.flatnonzero(run.labels == c)
        members = members[np.argsort(run.distances[members], kind="stable")]
        pages += [(page, int(c), members[s:s + PAGE_SIZE].tolist())
                  for page, s in enumerate(range(0, len(members), PAGE_SIZE))]
    return [r for _, _, rows in sorted(pages, key=lambda p: (p[0], p[1])) for r in rows]


def test_every_member_of_a_folder_run_gets_a_thumbnail_in_the_run_folder(folder_run, tmp_path):
    """Each member, TIFF or PNG, has its own place in a 64-pixel sheet inside the run folder that shows its own
    image; the member scripts point only at those sheets, and the page says nothing is shown from files."""
    out = tmp_path / "run"
    (out / "figures").mkdir(parents=True)
    files = write_member_sheets(folder_run, out)
    sheets = json.loads((out / SHEETS_FILE).read_text())
    assert sheets["tile"] == FILE_TILE and sheets["without_thumbnail"] == 0
    assert len(sheets["rows"]) == len(folder_run.paths) and all((out / f).is_file() for f in files)
    for row in (0, 7, 150):  # a PNG, a TIFF, one of the second cluster
        sheet, pos = sheets["rows"][str(row)]
        y, x = divmod(pos, sheets["columns"])
        with Image.open(out / sheet) as im:
            tile = np.asarray(im.convert("RGB"), np.float64)[y * FILE_TILE:(y + 1) * FILE_TILE,
                                                             x * FILE_TILE:(x + 1) * FILE_TILE]
        assert np.abs(tile - folder_run.image(row, size=FILE_TILE)).mean() < 12  # JPEG of noise, 64 px
    rows = _write_run_files(folder_run, out)
    scripts = write_member_scripts(out, rows, folder_run.source.root)
    for info in scripts.values():
        text = (out / info["script"]).read_text()
        data = json.loads(text[text.index(",") + 1:text.rindex(")")])
        assert all(isinstance(p, list) and (out / p[0]).is_file() for _, p in data["items"])
    assert 'id="members-note"' not in RunFolder.open(out).write_report().read_text()


def test_thumbnails_stop_at_the_budget_and_the_rest_link_their_files(folder_run, tmp_path):
    """With slow images, making thumbnails stops near the budget (not after all 170 images), the members done are
    every cluster's first page first, the others are linked to their files (TIFFs, which a browser cannot show,
    get none) with the absolute location to fall back on, and the page says how many and why."""
    slow = folder_run.image
    folder_run.image = lambda row, size=96: (time.sleep(0.1), slow(row, size))[1]
    out = tmp_path / "run"
    (out / "figures").mkdir(parents=True)
    started = time.perf_counter()
    write_member_sheets(folder_run, out, budget_s=0.3)
    took = time.perf_counter() - started
    assert took < 5.0, f"took {took:.1f} s for a budget of 0.3 s"  # 17 s without the budget
    sheets = json.loads((out / SHEETS_FILE).read_text())
    done = {int(r) for r in sheets["rows"]}
    order = _page_order(folder_run)
    assert 0 < len(done) < 60 and done == set(order[:len(done)])
    assert sheets["without_thumbnail"] == len(folder_run.paths) - len(done) and sheets["budget_s"] == 0.3
    rows = _write_run_files(folder_run, out)
    root = folder_run.source.root
    scripts = write_member_scripts(out, rows, root)
    text = (out / scripts[1]["script"]).read_text()
    data = json.loads(text[text.index(",") + 1:text.rindex(")")])
    assert data["files"] == {"relative": "../photos/", "absolute": root.as_uri() + "/"}
    linked = {name: p for name, p in data["items"] if not isinstance(p, list)}
    assert linked and all(p == "../photos/" + name for name, p in linked.items() if name.endswith(".png"))
    assert all(p is None for name, p in linked.items() if name.endswith(".tiff"))
    note = RunFolder.open(out).write_report().read_text()
    assert f"{sheets['without_thumbnail']} of 170 members have no thumbnail" in note and "the 0.3 s allowed" in note


def test_member_sheets_reuse_the_maps_pointer_thumbnails(folder_run, tmp_path):
    """The map's pointer thumbnails of a folder run are 64 pixels, and the member sheets take them over instead of
    decoding those images again (with no time left, exactly the sampled members get thumbnails)."""
    from deepclust.report import plot_cluster_map, write_hover

    out = tmp_path / "run"
    (out / "figures").mkdir(parents=True)
    xy = np.random.RandomState(1).rand(len(folder_run.paths), 2)
    sample = np.random.RandomState(2).permutation(len(xy))[:50]
    thumbs = write_hover(folder_run, out, xy, plot_cluster_map(xy, folder_run.labels), sample)
    hover = json.loads((out / "figures/map_hover.json").read_text())
    assert hover["tile"] == FILE_TILE and len(hover["points"]) == 50 and len(thumbs) == 50
    write_member_sheets(folder_run, out, budget_s=0)
    sheets = json.loads((out / SHEETS_FILE).read_text())
    assert {int(r) for r in sheets["rows"]} == set(sample.tolist())
