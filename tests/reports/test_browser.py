"""Reports in a real headless Chromium: no console error, no network request, every figure drawn.

Screenshots go to pytest's temporary folder (``INTERPLAY_SCREENSHOTS`` names another folder to
keep them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interplay.reports import load_result, render_report

DATA = Path(__file__).parent / "data"
FIXTURES = sorted(p.name for p in DATA.glob("*.json"))


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("INTERPLAY_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("name", FIXTURES)
def test_each_kind_loads_cleanly_in_chromium(browser, assert_clean_page, tmp_path, name):
    page = tmp_path / f"{Path(name).stem}.html"
    page.write_text(render_report([load_result(DATA / name)]), encoding="utf-8")
    check = browser.check(page, _shots(tmp_path) / f"{Path(name).stem}.png")
    assert_clean_page(check, page)
    assert check.title == "interplay report"


@pytest.mark.slow
def test_all_kinds_on_one_page(browser, assert_clean_page, tmp_path):
    page = tmp_path / "all.html"
    page.write_text(render_report([load_result(DATA / n) for n in FIXTURES]), encoding="utf-8")
    check = browser.check(page, _shots(tmp_path) / "all.png")
    assert_clean_page(check, page, min_figures=len(FIXTURES))


def test_report_prints_to_pdf(browser, tmp_path):
    page = tmp_path / "print.html"
    page.write_text(render_report([load_result(DATA / n) for n in
                                   ("quantify_gates.json", "evaluation.json")]),
                    encoding="utf-8")
    pdf = browser.print_pdf(page)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
