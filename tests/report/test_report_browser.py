"""report.html as a person sees it: opened in headless Chromium (driven by Selenium), every section rendered, every
picture loaded, and no request leaving the machine. Skipped where Chromium and its driver are not installed (the
set-up script installs them when run as root)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from deepclust.cli import app

pytest.importorskip("selenium")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Chromium and chromedriver are not installed")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
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
