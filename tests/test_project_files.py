"""Files a user of the checkout relies on: the licence pyproject names, the changelog, ignores."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent


def test_license_file_matches_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_changelog_has_the_current_version():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text and f"## [{version}]" in text


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_default_run_directories_are_ignored():
    out = subprocess.run(["git", "check-ignore", "-q", "runs/mfeat_late/result.json"], cwd=ROOT)
    assert out.returncode == 0
