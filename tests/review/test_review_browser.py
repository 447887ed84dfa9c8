"""The review page as a person uses it, in headless Chromium (Selenium): rename, merge, split, move by selection, set
aside, undo; a reload shows the same clusters; `deepclust export` gives the folders the page showed. Skipped where
Chromium and its driver are not installed (the set-up script installs them when run as root)."""

from __future__ import annotations

import threading

import pytest
from helpers import CHROMEDRIVER, CHROMIUM, chromium, invoke

from deepclust.review import ReviewServer

pytest.importorskip("selenium")
pytestmark = [pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Chromium and chromedriver are not "
                                                                          "installed"), pytest.mark.slow]


@pytest.fixture
def page(shapes_run_copy):
    server = ReviewServer(shapes_run_copy)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    driver = chromium("1300,1000", logs="browser")
    driver.get(server.url)
    yield driver, server
    driver.quit()
    server.server.should_exit = True
    thread.join(10)


def _wait(driver, check, what: str, timeout: float = 15):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: check(), message=what)  # the page redraws as the answer comes


def _cards(driver) -> dict[str, tuple[str, int]]:
    """The overview's clusters: id → (name, size), as the page shows them."""
    from selenium.webdriver.common.by import By

    out = {}
    for card in driver.find_elements(By.CSS_SELECTOR, "#clusters .card"):
        name = card.find_element(By.CSS_SELECTOR, ".name").text
        size = int(card.find_element(By.CSS_SELECTOR, ".facts").text.split(" images")[0].replace(",", ""))
        out[card.get_attribute("data-cluster")] = (name, size)
    return out


def _open(driver, cluster: str):
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f'.card[data-cluster="{cluster}"] .open').click()
    _wait(driver, lambda: driver.find_element(By.ID, "cluster").is_displayed() and driver.find_element(
        By.ID, "cluster-title").text.startswith(f"cluster {cluster} ") and driver.find_elements(
        By.CSS_SELECTOR, "#members .thumb"), f"cluster {cluster}'s members shown")
    return driver.find_elements(By.CSS_SELECTOR, "#members .thumb")


def test_a_person_fixes_the_clusters_and_exports_what_the_page_showed(page, shapes_run_copy, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, _ = page
    _wait(driver, lambda: len(_cards(driver)) == 3, "three clusters")
    first, second, third = list(_cards(driver))

    # rename: click the name, type, Enter
    driver.find_element(By.CSS_SELECTOR, f'.card[data-cluster="{first}"] .name').click()
    box = driver.find_element(By.CSS_SELECTOR, ".rename-input")
    box.send_keys("first kind", Keys.ENTER)
    _wait(driver, lambda: _cards(driver)[first][0] == f"{first} · first kind", "renamed")

    # merge: tick two clusters, press m
    for c in (second, third):
        driver.find_element(By.CSS_SELECTOR, f'.card[data-cluster="{c}"] .tick').click()
    ActionChains(driver).send_keys("m").perform()
    _wait(driver, lambda: len(_cards(driver)) == 2, "two clusters after the merge")
    assert _cards(driver)[second][1] == 20

    # split the merged cluster in two: shown, then applied
    _open(driver, second)
    driver.find_element(By.ID, "split").click()
    _wait(driver, lambda: driver.find_element(By.ID, "split-preview").is_displayed(), "the split shown")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#parts .part")) == 2
    driver.find_element(By.ID, "apply-split").click()
    driver.find_element(By.ID, "back").click()
    _wait(driver, lambda: sorted(s for _, s in _cards(driver).values()) == [10, 10, 10], "three clusters of 10")

    # move by selection: click one image, Shift-click the third, to a new cluster
    thumbs = _open(driver, first)
    thumbs[0].click()
    ActionChains(driver).key_down(Keys.SHIFT).click(thumbs[2]).key_up(Keys.SHIFT).perform()
    assert driver.find_element(By.ID, "selected").text == "3 selected"
    driver.find_element(By.ID, "move-new").click()
    _wait(driver, lambda: driver.find_element(By.ID, "cluster-title").text.endswith("7 images"), "three moved")

    # set one image aside with its key, then undo it
    driver.find_element(By.ID, "back").click()
    _open(driver, first)[0].click()
    ActionChains(driver).send_keys("a").perform()
    driver.find_element(By.ID, "back").click()
    _wait(driver, lambda: "-1" in _cards(driver), "an image set aside")
    driver.find_element(By.ID, "undo").click()
    _wait(driver, lambda: "-1" not in _cards(driver), "the set-aside undone")

    shown = _cards(driver)
    assert sorted(s for _, s in shown.values()) == [3, 7, 10, 10]
    driver.refresh()
    _wait(driver, lambda: _cards(driver) == shown, "the same clusters after a reload")
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]

    result = invoke("export", shapes_run_copy, "--to", tmp_path / "export")
    assert result.exit_code == 0
    folders = {p.name: len(list(p.iterdir())) for p in (tmp_path / "export").iterdir() if p.is_dir()}
    named = {c: name.split(" · ", 1)[1] for c, (name, _) in shown.items() if "(click to name)" not in name}
    expected = {f"cluster_{int(c):03d}" + (f"_{named[c].replace(' ', '_')}" if c in named else ""): size
                for c, (_, size) in shown.items()}  # the names the page showed (given, or the run's)
    assert named[first] == "first kind"
    assert folders == expected
