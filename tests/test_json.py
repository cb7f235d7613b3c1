"""One JSON convention: every result type writes strict JSON, NaN as null."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interplay._json import dumps, jsonable


def test_jsonable_turns_numpy_and_non_finite_values_into_plain_json():
    obj = {1: np.float64("nan"), "t": (np.int64(2), float("inf")), "ok": [0.5]}
    assert jsonable(obj) == {"1": None, "t": [2, None], "ok": [0.5]}
    assert json.loads(dumps(obj)) == {"1": None, "t": [2, None], "ok": [0.5]}


def test_a_single_seed_summary_writes_valid_json():
    pytest.importorskip("torch")
    from interplay.training.seeds import SeedSummary

    summary = SeedSummary(mean={"accuracy": 0.9}, std={"accuracy": float("nan")}, n=1,
                          values={"accuracy": [0.9]})
    text = summary.to_json()
    assert "NaN" not in text and json.loads(text)["std"] == {"accuracy": None}


def test_estimator_results_write_strict_json():
    from interplay.estimators import pid_sweep
    from interplay.info.estimate import cluster_sensitivity

    rng = np.random.default_rng(0)
    s = rng.integers(0, 2, 400)
    x = np.outer(s, rng.standard_normal(3)) + 0.1 * rng.standard_normal((400, 3))
    sens = cluster_sensitivity(x, x + 0.1 * rng.standard_normal((400, 3)), s, n_clusters=(2, 3))
    sweep = pid_sweep({"a": (s, s, s)}, estimator="plugin", progress=False)
    for result in (sens, sweep, sweep["a"]):
        assert json.loads(result.to_json())  # strict: json.dumps(allow_nan=False) inside


def test_share_intervals_for_every_estimator_of_the_profile():
    from interplay.analysis.recommend import profile_interactions
    from interplay.data.gaussian import noisy_copies, sample_gaussian

    x1, x2, y = sample_gaussian(noisy_copies(0.0), 2000, random_state=0)
    p = profile_interactions(x1, x2, y, estimator="gaussian", n_bootstrap=20, progress=False)
    lo, hi = p.share_ci["redundancy"]
    assert lo <= p.shares["redundancy"] <= hi and hi - lo < 0.2
    assert json.loads(p.to_json())["share_ci"]["redundancy"] == [lo, hi]
