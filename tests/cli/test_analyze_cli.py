"""`interplay analyze`: refuses what it cannot analyse before any work; the quick run end to end."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from interplay.cli.analyze import n_clusters
from interplay.cli.main import main
from interplay.data import MultimodalDataset, save_dataset


def _browser_helpers():
    """``tests/reports/browser.py``, loaded once by path (test folders are not packages)."""
    name = "interplay_test_browser"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).parents[1] / "reports" / "browser.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


browser_helpers = _browser_helpers()


@pytest.fixture
def browser():
    """Headless Chromium (skipped locally, failed in CI, without one)."""
    with browser_helpers.open_browser() as session:
        yield session


def _error(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


@pytest.fixture
def arrays(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    path = tmp_path / "plain.npz"
    np.savez(path, a=y[:, None] + rng.standard_normal((300, 3)),
             b=rng.standard_normal((300, 2)), label=y, level=rng.standard_normal(300))
    return path


def test_one_modality_says_it_needs_two(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["analyze", "mfeat", "--modalities", "fou", "--out", str(out)]) == 2
    _error(capsys, "at least two modalities", "--modalities")
    assert not out.exists()


def test_a_file_without_a_target_says_what_it_needs(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = tmp_path / "no_target.npz"
    save_dataset(MultimodalDataset({"a": rng.standard_normal((50, 2)),
                                    "b": rng.standard_normal((50, 2))}), path)
    assert main(["analyze", str(path), "--out", str(tmp_path / "run")]) == 2
    _error(capsys, "needs a target", "--target")
    assert not (tmp_path / "run").exists()


def test_a_plain_file_needs_modalities_and_target(arrays, tmp_path, capsys):
    assert main(["analyze", str(arrays), "--out", str(tmp_path / "run")]) == 2
    _error(capsys, "--modalities", "--target")


def test_a_continuous_target_is_refused(arrays, tmp_path, capsys):
    assert main(["analyze", str(arrays), "--modalities", "a,b", "--target", "level",
                 "--out", str(tmp_path / "run")]) == 2
    _error(capsys, "--target level", "classes")


@pytest.mark.parametrize("args, fragment", [
    (["--modalities", "fou,nope"], "nope not in mfeat"),
    (["--modalities", "fou,fou"], "names a modality twice"),
    (["--estimator", "flow"], "--estimator must be one of"),
    (["--seed", "-1"], "--seed must be 0 or more"),
])
def test_bad_options_exit_2(tmp_path, capsys, args, fragment):
    assert main(["analyze", "mfeat", *args, "--out", str(tmp_path / "run")]) == 2
    _error(capsys, fragment)
    assert not (tmp_path / "run").exists()


def test_unknown_data_names_the_bundled_datasets(tmp_path, capsys):
    assert main(["analyze", "no-such-data", "--out", str(tmp_path / "run")]) == 2
    _error(capsys, "neither a file nor a bundled dataset", "mfeat")


def test_output_folder_that_holds_files_is_refused(tmp_path, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    assert main(["analyze", "mfeat", "--out", str(busy)]) == 2
    _error(capsys, "not an empty folder")
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]


def test_cluster_count_keeps_five_samples_per_cell():
    for n, classes in ((2000, 10), (1797, 10), (300, 3), (10**6, 2), (40, 10)):
        k = n_clusters(n, classes)
        assert 2 <= k <= 10
        assert k == 2 or n / (k * k * classes) >= 5
        assert k == 10 or n / ((k + 1) ** 2 * classes) < 5


@pytest.mark.slow
def test_quick_run_on_a_plain_file_end_to_end(arrays, tmp_path, capsys, browser):
    out = tmp_path / "run"
    assert main(["analyze", str(arrays), "--modalities", "a,b", "--target", "label", "--quick",
                 "--out", str(out), "--no-progress"]) == 0
    files = {"analysis.json": "analysis", "summary.json": "dataset_summary",
             "pairwise_pid.json": "pairwise_pid", "recommendation.json": "recommendation",
             "evaluation.json": "evaluation", "cluster_sensitivity.json": "cluster_sensitivity"}
    for name, kind in files.items():
        data = json.loads((out / name).read_text())
        assert data["kind"] == kind and data["interplay_version"]
        assert data["provenance"]["data_sha256"] and data["provenance"]["seed"] == 0
    analysis = json.loads((out / "analysis.json").read_text())
    recommendation = json.loads((out / "recommendation.json").read_text())
    assert analysis["headline"]["recommended"] == recommendation["best"]
    assert (out / "train" / "result.json").is_file()
    # the sensitivity curve at the cluster count used reproduces that pair's pairwise PID
    pairwise = json.loads((out / "pairwise_pid.json").read_text())
    sensitivity = json.loads((out / "cluster_sensitivity.json").read_text())
    at = sensitivity["n_clusters"].index(pairwise["discretization"]["n_clusters"])
    [pair] = pairwise["pairs"]
    for atom in ("redundancy", "unique1", "unique2", "synergy"):
        assert sensitivity[atom][at] == pytest.approx(pair["pid"][atom], abs=1e-9)
    page = out / "report.html"
    assert page.read_text().count("<section ") == 7
    check = browser.check(page, tmp_path / "analyze.png")
    browser_helpers.assert_clean_page(check, page, min_figures=6)
    assert "test accuracy" in " ".join(capsys.readouterr().out.split())


@pytest.mark.slow
def test_quick_av_digits_as_in_the_readme(tmp_path, capsys, browser):
    if shutil.which("espeak-ng") is None:
        pytest.skip("av-digits needs espeak-ng (apt-get install espeak-ng)")
    out = tmp_path / "av"
    assert main(["analyze", "--quick", "av-digits", "--out", str(out), "--no-progress"]) == 0
    headline = json.loads((out / "analysis.json").read_text())["headline"]
    assert headline["pair"] == ["image", "audio"]
    assert headline["accuracy"]["fusion"]["mean"] > 2 * headline["chance"]
    check = browser.check(out / "report.html", tmp_path / "av.png")
    browser_helpers.assert_clean_page(check, out / "report.html", min_figures=8)
