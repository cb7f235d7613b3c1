"""A real headless Chromium for report tests (Debian's chromium + chromium-driver, via selenium).

Used through the fixtures of ``tests/reports/conftest.py`` and ``tests/cli/test_analyze_cli.py``.

Without a browser the tests are skipped locally and FAIL in CI (``CI`` set), so a CI image that
lost Chromium cannot pass silently.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver", "chromium-driver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--window-size=1200,900")


def _which(names: tuple[str, ...]) -> str | None:
    return next((p for p in map(shutil.which, names) if p), None)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs a browser for the report tests: {reason}")
    pytest.skip(reason)


@dataclass
class PageCheck:
    """What the browser saw while loading a page."""

    console: list[dict[str, Any]]
    requests: list[str]
    resources: list[str]
    figures: list[dict[str, Any]]
    title: str
    screenshot: Path


class Browser:
    """A headless Chromium session that loads a local page and reports what happened."""

    def __init__(self, driver: Any, profile: str) -> None:
        self.driver = driver
        self.profile = profile

    def check(self, page: Path, screenshot: Path) -> PageCheck:
        """Load ``page``, then collect console messages, network requests, figure sizes and a
        full-page screenshot."""
        driver = self.driver
        driver.get("about:blank")
        driver.get_log("browser")  # drop what the start page logged
        driver.get_log("performance")
        driver.get(page.resolve().as_uri())
        console = driver.get_log("browser")
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
        resources = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        figures = driver.execute_script(
            "return Array.from(document.querySelectorAll('img, svg')).map(e => {"
            " const r = e.getBoundingClientRect();"
            " return {tag: e.tagName, width: r.width, height: r.height,"
            " complete: e.tagName !== 'IMG' || (e.complete && e.naturalWidth > 0),"
            " alt: e.getAttribute('alt')}; })")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1200, min(int(height) + 40, 16000))
        driver.save_screenshot(str(screenshot))
        driver.set_window_size(1200, 900)
        return PageCheck(console=console, requests=requests, resources=resources,
                         figures=figures, title=driver.title, screenshot=screenshot)

    def print_pdf(self, page: Path) -> bytes:
        """The page printed to PDF by the browser (its print stylesheet applied)."""
        import base64

        from selenium.webdriver.common.print_page_options import PrintOptions

        self.driver.get(page.resolve().as_uri())
        return base64.b64decode(self.driver.print_page(PrintOptions()))


@contextmanager
def open_browser() -> Iterator[Browser]:
    """A :class:`Browser` on headless Chromium with an empty profile; skipped locally and failed
    in CI when there is none."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (`pip install selenium`)")
    binary, driver_path = _which(CHROMIUM), _which(DRIVER)
    if binary is None or driver_path is None:
        _unavailable("Chromium and chromedriver are not installed "
                     "(`apt-get install chromium chromium-driver`)")
    profile = tempfile.mkdtemp(prefix="interplay-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except Exception as exc:  # a broken install must be visible, not skipped, in CI
        _unavailable(f"Chromium did not start: {exc}")
    try:
        yield Browser(driver, profile)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def assert_clean_page(check: PageCheck, page: Path, min_figures: int = 1) -> None:
    """No console errors, no request but the page itself and inline data, every figure drawn."""
    errors = [m for m in check.console if m.get("level") in ("SEVERE", "ERROR", "WARNING")]
    assert errors == [], errors
    page_url = page.resolve().as_uri()
    foreign = [u for u in check.requests if u != page_url and not u.startswith("data:")]
    assert foreign == [], foreign
    assert [u for u in check.resources if not u.startswith("data:")] == []
    assert len(check.figures) >= min_figures, check.figures
    for figure in check.figures:
        assert figure["width"] > 0 and figure["height"] > 0, figure
        assert figure["complete"], figure
    assert check.screenshot.stat().st_size > 10_000
