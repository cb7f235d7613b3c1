"""Fixtures of the report tests: a headless Chromium (see ``browser.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _browser_helpers():
    """``tests/reports/browser.py``, loaded once by path (test folders are not packages)."""
    name = "interplay_test_browser"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("browser.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


browser_helpers = _browser_helpers()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium session (skipped locally, failed in CI, without one)."""
    with browser_helpers.open_browser() as session:
        yield session


@pytest.fixture
def assert_clean_page():
    """``assert_clean_page(check, page, min_figures=1)``: what every loaded report must pass."""
    return browser_helpers.assert_clean_page
