"""`interplay quantify --estimator ...`: cluster, gaussian, copula, flow, batch, auto, bootstrap."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from interplay.cli.main import main
from interplay.data.tables import columns_of, dataset_frame
from interplay.estimators import bootstrap_pid
from interplay.exceptions import SmallSampleWarning
from interplay.info.estimate.cluster import cluster_pid


def flat(text: str) -> str:
    return " ".join(text.split())


def cli(*args: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return main(["quantify", *args, "--no-progress"])


@pytest.fixture(scope="module")
def gaussian_csv(tmp_path_factory) -> str:
    """y ~ N(0, 1), x1 = y + noise, x2 = y + noise (unit variances): I(Xi;Y) = 0.5 bit each."""
    rng = np.random.default_rng(0)
    n = 20000
    y = rng.standard_normal(n)
    frame = pd.DataFrame({"x1": y + rng.standard_normal(n), "x2": y + rng.standard_normal(n),
                          "y": y})
    frame["x1_exp"] = np.exp(frame.x1)  # monotone distortion: same copula
    path = tmp_path_factory.mktemp("gauss") / "g.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_cluster_on_a_bundled_dataset_matches_the_library(tmp_path, capsys):
    out = tmp_path / "pid.json"
    assert cli("mfeat", "--x1", "fou", "--x2", "kar", "--y", "digit", "--estimator", "cluster",
               "--clusters", "5", "--components", "3", "--seed", "0", "--json", str(out)) == 0
    printed = flat(capsys.readouterr().out)
    assert "cluster" in printed and "fou (76 columns)" in printed
    got = json.loads(out.read_text())
    assert got["estimator"] == "cluster" and got["n_samples"] == 2000
    assert (got["settings"]["n_clusters"], got["settings"]["n_components"]) == (5, 3)
    frame = dataset_frame("mfeat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        ref = cluster_pid(frame[columns_of(frame, "fou")], frame[columns_of(frame, "kar")],
                          frame["digit"], n_clusters=5, n_components=3, random_state=0)
    for atom in ("redundancy", "unique1", "unique2", "synergy"):
        assert got[atom] == pytest.approx(getattr(ref, atom), abs=1e-12)


def test_auto_picks_cluster_for_continuous_sources_and_a_discrete_target(tmp_path, capsys):
    out = tmp_path / "pid.json"
    assert cli("mfeat", "--x1", "fou", "--x2", "kar", "--y", "digit", "--estimator", "auto",
               "--clusters", "4", "--components", "0", "--seed", "1", "--json", str(out)) == 0
    assert "estimator auto: cluster" in flat(capsys.readouterr().out)
    got = json.loads(out.read_text())
    assert got["estimator"] == "cluster" and got["settings"]["n_components"] is None
    assert got["settings"]["components_used"] == {"x1": 76, "x2": 64}


def test_gaussian_estimator_on_a_csv_finds_half_a_bit_of_redundancy(tmp_path, gaussian_csv):
    out = tmp_path / "g.json"
    assert cli(gaussian_csv, "--x1", "x1", "--x2", "x2", "--y", "y", "--estimator", "gaussian",
               "--json", str(out)) == 0
    got = json.loads(out.read_text())
    # scalar target: R = min(I(X1;Y), I(X2;Y)) = 0.5 * log2(2) = 0.5 bit, U = 0
    assert got["estimator"] == "gaussian"
    assert got["redundancy"] == pytest.approx(0.5, abs=0.02)
    assert got["unique1"] < 0.02 and got["unique2"] < 0.02
    # I(X1,X2;Y) = 0.5 log2(3) (two unit-noise looks at y), the rest is synergy
    assert got["mi_joint"] == pytest.approx(0.5 * np.log2(3), abs=0.02)


def test_copula_is_blind_to_a_monotone_distortion_gaussian_is_not(tmp_path, gaussian_csv):
    outs = {}
    for est in ("copula", "gaussian"):
        outs[est] = tmp_path / f"{est}.json"
        assert cli(gaussian_csv, "--x1", "x1_exp", "--x2", "x2", "--y", "y", "--estimator",
                   est, "--json", str(outs[est])) == 0
    cop, gau = (json.loads(outs[e].read_text()) for e in ("copula", "gaussian"))
    assert cop["estimator"] == "copula"
    assert cop["mi_x1"] == pytest.approx(0.5, abs=0.02)
    assert gau["mi_x1"] < 0.45  # exp() hides part of the dependence from a linear fit


def test_auto_picks_copula_for_a_continuous_target(gaussian_csv, capsys):
    assert cli(gaussian_csv, "--x1", "x1", "--x2", "x2", "--y", "y", "--estimator", "auto") == 0
    printed = flat(capsys.readouterr().out)
    assert "estimator auto: copula" in printed and "copula" in printed


def test_auto_keeps_the_plugin_estimator_for_discrete_columns(capsys):
    assert cli("--example", "gates", "--estimator", "auto") == 0
    printed = flat(capsys.readouterr().out)
    assert "plug-in" in printed and "estimator auto" not in printed


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--estimator", "flows"], "--estimator must be one of"),
        (["--estimator", "discrete", "--clusters", "5"],
         "--clusters applies to --estimator cluster"),
        (["--estimator", "gaussian", "--max-epochs", "5"],
         "--max-epochs applies to --estimator flow"),
        (["--estimator", "copula", "--device", "cpu"], "applies to --estimator flow or batch"),
        (["--estimator", "flow", "--max-epochs", "0"], "--max-epochs must be at least 1"),
        (["--estimator", "gaussian", "--bootstrap", "10", "--n-jobs", "0"], "--n-jobs must be"),
        (["--estimator", "gaussian", "--bootstrap", "1"], "--bootstrap must be >= 2"),
        (["--estimator", "cluster", "--clusters", "1"], "--clusters must be at least 2"),
        (["--estimator", "cluster", "--components", "-1"], "--components must be 0"),
        (["--estimator", "gaussian", "--bias-correction", "--bootstrap", "10"],
         "for the plug-in estimator"),
        (["--estimator", "cluster", "--permutations", "10"], "for the plug-in estimator"),
        (["--estimator", "gaussian", "--method", "ccs"], "method"),
        (["--estimator", "batch", "--method", "mmi"],
         "--method 'mmi' is not available with the 'batch' estimator"),
    ],
)
def test_bad_estimator_options_exit_2_and_write_nothing(tmp_path, gaussian_csv, capsys, extra,
                                                        message):
    out = tmp_path / "r.json"
    code = cli(gaussian_csv, "--x1", "x1", "--x2", "x2", "--y", "y", "--json", str(out), *extra)
    assert code == 2
    assert message in flat(capsys.readouterr().err)
    assert not out.exists()


def test_non_numeric_column_with_a_continuous_estimator_exits_2(tmp_path, capsys):
    path = tmp_path / "s.csv"
    pd.DataFrame({"a": ["u", "v"] * 20, "b": np.arange(40.0), "y": [0, 1] * 20}).to_csv(
        path, index=False)
    assert cli(str(path), "--x1", "a", "--x2", "b", "--y", "y", "--estimator", "copula") == 2
    assert "--x1: this estimator needs numeric columns" in flat(capsys.readouterr().err)


def test_probability_table_rejects_sample_estimators(tmp_path, capsys):
    p = np.full((2, 2, 2), 0.125)
    np.save(tmp_path / "p.npy", p)
    assert cli(str(tmp_path / "p.npy"), "--estimator", "cluster") == 2
    assert "need samples" in flat(capsys.readouterr().err)


@pytest.mark.parametrize("estimator", ["gaussian", "copula"])
def test_bootstrap_intervals_for_continuous_estimators_match_the_library(
        tmp_path, gaussian_csv, estimator, capsys):
    out = tmp_path / "b.json"
    assert cli(gaussian_csv, "--x1", "x1", "--x2", "x2", "--y", "y", "--estimator", estimator,
               "--bootstrap", "20", "--seed", "3", "--json", str(out)) == 0
    assert "95% interval" in flat(capsys.readouterr().out)
    got = json.loads(out.read_text())
    frame = pd.read_csv(gaussian_csv)
    ref = bootstrap_pid(estimator, frame[["x1"]].to_numpy(), frame[["x2"]].to_numpy(),
                        frame[["y"]].to_numpy(), n_bootstrap=20, random_state=3, progress=False)
    assert got["settings"]["n_bootstrap"] == 20
    assert got["settings"]["bootstrap"]["interval"] == "percentile"
    assert got["settings"]["bootstrap"]["mode"] == "refit"
    for atom in ("redundancy", "unique1", "unique2", "synergy"):
        assert got["ci"][atom] == pytest.approx(list(ref.ci[atom]), abs=1e-12)
    lo, hi = got["ci"]["redundancy"]
    assert 0.45 < lo < hi < 0.55  # the truth: R = I(X1;Y) = 0.5 bit


def test_bootstrap_with_the_cluster_estimator_reclusters_each_resample(tmp_path):
    out = tmp_path / "c.json"
    assert cli("mfeat", "--x1", "fou", "--x2", "kar", "--y", "digit", "--estimator", "cluster",
               "--clusters", "3", "--components", "2", "--bootstrap", "4", "--seed", "0",
               "--json", str(out)) == 0
    got = json.loads(out.read_text())
    assert got["settings"]["n_bootstrap"] == 4 and got["settings"]["n_clusters"] == 3
    for atom in ("redundancy", "unique1", "unique2", "synergy"):
        lo, hi = got["ci"][atom]
        assert 0 <= lo <= hi


def test_neural_estimators_are_wired_with_their_options(tmp_path):
    pytest.importorskip("interplay.neural.flow")
    pytest.importorskip("interplay.neural.batch")
    rng = np.random.default_rng(0)
    n = 400
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    frame = pd.DataFrame({"x1": a + 0.1 * rng.standard_normal(n),
                          "x2": b + 0.1 * rng.standard_normal(n), "label": a,
                          "level": a + rng.standard_normal(n)})
    path = tmp_path / "n.csv"
    frame.to_csv(path, index=False)
    runs = {  # Flow-PID wants a continuous target, BATCH a class label
        "flow": ["--y", "level", "--max-epochs", "2", "--patience", "1", "--batch-size", "128",
                 "--device", "cpu"],
        "batch": ["--y", "label", "--batch-size", "64", "--classifier-epochs", "2",
                  "--align-epochs", "1", "--device", "cpu"],
    }
    for estimator, extra in runs.items():
        out = tmp_path / f"{estimator}.json"
        assert cli(str(path), "--x1", "x1", "--x2", "x2", "--estimator", estimator,
                   "--seed", "0", "--json", str(out), *extra) == 0
        got = json.loads(out.read_text())
        assert estimator in got["estimator"].lower()
        assert got["n_samples"] == n and got["settings"]["y"] == [extra[1]]
        settings = json.dumps(got["settings"])
        assert ('"max_epochs": 2' in settings) if estimator == "flow" \
            else ('"classifier_epochs": 2' in settings)
