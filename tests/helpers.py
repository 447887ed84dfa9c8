"""Helpers the test modules share (fixtures live in conftest.py): running the command line as a user would."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from deepclust.cli import app

_RUNNER = CliRunner()


def invoke(*args, **kwargs):
    """``deepclust ARGS`` in this process (each argument as text; exceptions that are bugs propagate), its result
    with ``text``: the output with the console's line breaks undone, to match a sentence that wrapped."""
    result = _RUNNER.invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)
    result.text = " ".join(result.output.split())
    return result


#: Headless Chromium and its driver, where installed (the set-up script installs them when run as root).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def chromium(window: str = "1200,2000", logs: str = "performance"):
    """A headless Chromium driven by Selenium, keeping the ``logs`` it is asked for (``performance``: every network
    request; ``browser``: the console); the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={window}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {logs: "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
