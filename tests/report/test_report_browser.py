"""report.html as a person sees it: opened in headless Chromium (driven by Selenium), every section rendered, every
picture loaded, and no request leaving the machine. Skipped where Chromium and its driver are not installed (the
set-up script installs them when run as root)."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import CHROMEDRIVER, CHROMIUM, chromium
from typer.testing import CliRunner

from deepclust.cli import app
from deepclust.run import RunFolder

pytest.importorskip("selenium")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Chromium and chromedriver are not installed")


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def test_report_renders_in_a_browser_without_network(shapes_folder, tmp_path, browser):
    """The summary numbers, one section per cluster and the map are on the page, every image has loaded, and every
    request the page made was for a file of the run folder."""
    from selenium.webdriver.common.by import By

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["cluster", str(shapes_folder), "-k", "3", "--labels-from-subfolders", "--out",
                                      str(out), "--quiet", "--workers", "0", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    browser.get((out / "report.html").as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    assert f"{info['n_clustered']} images in {info['n_clusters']} clusters" in text
    assert f"{info['metrics']['acc']:.4f}" in text
    for c in info["cluster_sizes"]:
        assert browser.find_element(By.ID, f"cluster-{c}").is_displayed()
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) >= 3 + 2  # a montage per cluster and the two maps
    broken = [img.get_attribute("src") for img in images
              if not browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)]
    assert not broken, broken
    requests = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"]
    assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls
    browser.save_screenshot(str(out / "figures" / "report_screenshot.png"))
    assert (out / "figures" / "report_screenshot.png").stat().st_size > 10_000

    # a folder run keeps a thumbnail of every member, TIFF files (which browsers do not show) included, in sheets
    # inside the run folder
    rows = (out / "assignments.csv").read_text().splitlines()[1:]
    c = max(info["cluster_sizes"], key=lambda k: info["cluster_sizes"][k])
    expected = {r.split(",")[0] for r in rows if r.split(",")[1] == str(c)}
    tiles = _open_members(browser, c)
    assert {t.get_attribute("title") for t in tiles} == expected
    for tile in tiles:
        sheet = browser.execute_script("return arguments[0].style.backgroundImage", tile).split('"')[1]
        assert tile.tag_name == "span" and (out / sheet).is_file()
    assert _pictures_load(browser, tiles)

    # moved elsewhere, the page still shows every member
    moved = tmp_path / "elsewhere" / "run"
    moved.parent.mkdir()
    shutil.move(out, moved)
    browser.get((moved / "report.html").as_uri())
    tiles = _open_members(browser, c)
    assert {t.get_attribute("title") for t in tiles} == expected and _pictures_load(browser, tiles)

    # a run folder without thumbnails (made before they were kept, or when making them ran out of time) shows the
    # original files; moved after its page was written, the page finds them where they are
    for sheet in (moved / "figures/members").glob("cluster_*_*.*"):
        sheet.unlink()
    (moved / "figures/members/sheets.json").unlink()
    RunFolder.open(moved).write_report()
    again = tmp_path / "again" / "deeper" / "run"  # one level deeper: the page's relative links now miss
    again.parent.mkdir(parents=True)
    shutil.move(moved, again)
    browser.get((again / "report.html").as_uri())
    tiles = _open_members(browser, c)
    assert "shown from the original files" in browser.find_element(By.ID, "members-note").text
    for tile in tiles:
        if tile.get_attribute("title").endswith(".tiff"):
            assert tile.tag_name == "span" and tile.text == tile.get_attribute("title")
        else:
            assert tile.tag_name == "img"
    assert _pictures_load(browser, [t for t in tiles if t.tag_name == "img"])
    assert all(t.get_attribute("src") == (shapes_folder / t.get_attribute("title")).as_uri()
               for t in tiles if t.tag_name == "img")


def _pictures_load(browser, tiles) -> bool:
    """Whether every tile's picture loads: an <img> (waited for: a failed relative link is retried at the absolute
    place) or a sheet shown as a background image (loaded again to measure it)."""
    from selenium.webdriver.support.ui import WebDriverWait

    for tile in tiles:
        if tile.tag_name == "img":
            try:
                WebDriverWait(browser, 10).until(lambda _, t=tile: browser.execute_script(
                    "return arguments[0].complete && arguments[0].naturalWidth > 0", t))
            except Exception:
                return False
        else:
            url = browser.execute_script("return arguments[0].style.backgroundImage", tile).split('"')[1]
            width = browser.execute_async_script(
                "const done = arguments[arguments.length - 1], img = new Image();"
                "img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); img.src = arguments[0];", url)
            if not width:
                return False
    return True


def _open_members(browser, cluster):
    """Open a cluster's "all members" box and return the tiles of its first page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = browser.find_element(By.CSS_SELECTOR, f'details.members[data-cluster="{cluster}"]')
    browser.execute_script("arguments[0].scrollIntoView()", box)
    box.find_element(By.TAG_NAME, "summary").click()
    WebDriverWait(browser, 10).until(lambda _: box.find_elements(By.CSS_SELECTOR, ".tiles .thumb"))
    for tile in box.find_elements(By.CSS_SELECTOR, "img.thumb"):
        WebDriverWait(browser, 10).until(lambda _, t=tile: browser.execute_script("return arguments[0].complete", t))
    return box.find_elements(By.CSS_SELECTOR, ".tiles .thumb")


def test_map_shows_the_image_under_the_pointer_and_clusters_page_through_all_members(tmp_path, browser):
    """On a data-set run: pointing at a sampled image on the map shows its thumbnail, cluster and name; a cluster
    opens to a first page of 100 thumbnails, "next" shows the following ones, and the last page holds the rest."""
    import numpy as np
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["cluster", "--dataset", "digits", "--limit", "300", "-k", "3", "--out", str(out),
                                      "--quiet", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    browser.get((out / "report.html").as_uri())

    hover = json.loads((out / "figures/map_hover.json").read_text())
    points = np.array([p[:2] for p in hover["points"]])
    gaps = np.sort(np.linalg.norm(points[:, None] - points[None], axis=2), axis=1)[:, 1]
    x, y, row, cluster = hover["points"][int(gaps.argmax())]  # the loneliest point: no neighbour can answer
    picture = browser.find_element(By.ID, "map-image")
    browser.execute_script("arguments[0].scrollIntoView()", picture)
    width, height = picture.size["width"], picture.size["height"]
    ActionChains(browser).move_to_element_with_offset(picture, round((x - 0.5) * width),
                                                      round((y - 0.5) * height)).perform()
    tip = browser.find_element(By.ID, "map-tip")
    rows = [r.split(",") for r in (out / "assignments.csv").read_text().splitlines()[1:]]
    assert tip.is_displayed() and tip.text == f"cluster {cluster} · image {rows[row][0]}"
    assert hover["sprite"] in tip.find_element(By.CLASS_NAME, "thumb").get_attribute("style")

    c, size = max(info["cluster_sizes"].items(), key=lambda kv: kv[1])
    assert size > 100
    tiles = _open_members(browser, c)
    box = browser.find_element(By.CSS_SELECTOR, f'details.members[data-cluster="{c}"]')
    pages = -(-size // 100)
    assert len(tiles) == 100 and f"page 1 of {pages}" in box.text
    seen = [t.get_attribute("title") for t in tiles]
    for _ in range(pages - 1):
        box.find_element(By.CSS_SELECTOR, "button.next").click()
        seen += [t.get_attribute("title") for t in box.find_elements(By.CSS_SELECTOR, ".tiles .thumb")]
    assert f"page {pages} of {pages}" in box.text and not box.find_element(By.CSS_SELECTOR, "button.next").is_enabled()
    assert sorted(seen) == sorted(f"image {r[0]}" for r in rows if r[1] == c)
    sheets = {t.split('"')[1] for t in [browser.execute_script("return arguments[0].style.backgroundImage", t)
                                         for t in box.find_elements(By.CSS_SELECTOR, ".tiles .thumb")]}
    assert sheets and all((out / s).is_file() for s in sheets)
