"""Plug-in PID from samples: oracles, resampling, bias correction and bad input."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from interplay import pid
from interplay._validation import MAX_JOINT_CELLS
from interplay.exceptions import InvalidInputError, SmallSampleWarning
from interplay.info.estimate import plugin_pid
from interplay.info.estimate.resampling import (
    basic_intervals,
    percentile_intervals,
    permutation_p_values,
)

N_LARGE = 20_000


def bits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, n), rng.integers(0, 2, n)


def run(x1, x2, y, **kw):
    kw.setdefault("progress", False)
    return plugin_pid(x1, x2, y, **kw)


# ---------------------------------------------------------------- oracles (BROJA truth, §5)

@pytest.mark.parametrize(
    ("gate", "truth"),
    [
        ("xor", {"redundancy": 0, "unique1": 0, "unique2": 0, "synergy": 1}),
        ("and", {"redundancy": 0.311278, "unique1": 0, "unique2": 0, "synergy": 0.5}),
        ("copy", {"redundancy": 0, "unique1": 1, "unique2": 1, "synergy": 0}),
        ("unique", {"redundancy": 0, "unique1": 1, "unique2": 0, "synergy": 0}),
    ],
)
def test_large_samples_recover_broja_truth(gate, truth):
    a, b = bits(N_LARGE, seed=1)
    y = {"xor": a ^ b, "and": a & b, "copy": 2 * a + b, "unique": a}[gate]
    r = run(a, b, y, method="broja")
    for atom, value in truth.items():
        # sampling error of a plug-in MI at n = 20000 on <= 16 cells is ~1e-2 bits at most
        assert getattr(r, atom) == pytest.approx(value, abs=0.015), atom
    assert r.estimator == "plug-in"
    assert r.n_samples == N_LARGE
    assert r.units == "bits"


def test_plugin_equals_pid_of_the_empirical_joint():
    rng = np.random.default_rng(7)
    x1, x2, y = rng.integers(0, 3, 500), rng.integers(0, 4, 500), rng.integers(0, 2, 500)
    y = np.where(rng.random(500) < 0.6, (x1 + x2) % 2, y)
    counts = np.zeros((3, 4, 2))
    np.add.at(counts, (x1, x2, y), 1)
    exact = pid(counts / counts.sum(), method="broja")
    r = run(x1, x2, y, method="broja")
    for atom in ("redundancy", "unique1", "unique2", "synergy", "mi_joint", "mi_x1", "mi_x2"):
        assert getattr(r, atom) == pytest.approx(getattr(exact, atom), abs=1e-8)


def test_identities_and_source_swap():
    rng = np.random.default_rng(3)
    x1, x2 = rng.integers(0, 3, 3000), rng.integers(0, 3, 3000)
    y = (x1 + (x2 > 0)) % 3
    r = run(x1, x2, y)
    assert r.redundancy + r.unique1 + r.unique2 + r.synergy == pytest.approx(r.mi_joint, abs=1e-7)
    assert r.redundancy + r.unique1 == pytest.approx(r.mi_x1, abs=1e-7)
    swapped = run(x2, x1, y)
    assert swapped.unique1 == pytest.approx(r.unique2, abs=1e-7)
    assert swapped.unique2 == pytest.approx(r.unique1, abs=1e-7)


def test_base_e_gives_nats():
    a, b = bits(4000, seed=2)
    r2, re = run(a, b, a ^ b, method="mmi"), run(a, b, a ^ b, method="mmi", base="e")
    assert re.units == "nats"
    assert re.synergy == pytest.approx(r2.synergy * math.log(2), rel=1e-12)


def test_labels_of_any_type_and_multi_column_modalities():
    a, b = bits(2000, seed=4)
    c = np.random.default_rng(5).integers(0, 2, 2000)
    codes = run(2 * a + c, b, a ^ b ^ c, method="mmi")
    # the same modality as two columns (2-D), as strings, and as a DataFrame
    two_cols = run(np.column_stack([a, c]), b, a ^ b ^ c, method="mmi")
    names = np.array(["no", "yes"])
    strings = run(
        pd.DataFrame({"a": names[a], "c": pd.Categorical(names[c])}),
        pd.Series(names[b]),
        [str(v) for v in a ^ b ^ c],
        method="mmi",
    )
    for r in (two_cols, strings):
        assert r.settings["alphabet_sizes"] == {"x1": 4, "x2": 2, "y": 2}
        for atom in ("redundancy", "unique1", "unique2", "synergy"):
            assert getattr(r, atom) == pytest.approx(getattr(codes, atom), abs=1e-12)


# ---------------------------------------------------------------- bootstrap and permutations

@pytest.mark.parametrize("n_bootstrap", [
    30,  # the default run: the same data and checks with fewer replicates
    pytest.param(100, marks=pytest.mark.slow),
])
def test_bootstrap_interval_covers_the_truth(n_bootstrap):
    rng = np.random.default_rng(11)
    n = 3000
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y = np.where(rng.random(n) < 0.5, a & b, a ^ b) ^ (rng.random(n) < 0.05)
    # the exact joint of this generator
    p = np.zeros((2, 2, 2))
    for i in (0, 1):
        for j in (0, 1):
            for gate in (i & j, i ^ j):
                p[i, j, gate] += 0.25 * 0.5 * 0.95
                p[i, j, 1 - gate] += 0.25 * 0.5 * 0.05
    truth = pid(p)
    r = run(a, b, y, n_bootstrap=n_bootstrap, random_state=0)
    assert set(r.ci) == {"redundancy", "unique1", "unique2", "synergy"}
    for atom in ("redundancy", "synergy"):
        lo, hi = r.ci[atom]
        assert lo <= getattr(truth, atom) <= hi, (atom, lo, hi, getattr(truth, atom))
        assert lo <= getattr(r, atom) <= hi
        assert hi - lo < 0.1
    assert r.settings["n_bootstrap"] == n_bootstrap


def test_permutation_p_values_small_for_interaction_and_large_for_independence():
    a, b = bits(1000, seed=21)
    real = run(a, b, a ^ b, method="mmi", n_permutations=99, random_state=0)
    assert real.p_values["synergy"] == pytest.approx(0.01)  # the smallest possible, 1/(1+99)
    y = np.random.default_rng(22).integers(0, 2, 1000)
    null = run(a, b, y, method="mmi", n_permutations=99, random_state=0)
    assert null.p_values["synergy"] > 0.1
    assert all(0 < v <= 1 for v in null.p_values.values())


def test_resampling_is_reproducible_with_a_seed():
    a, b = bits(500, seed=8)
    kw = {"method": "mmi", "n_bootstrap": 20, "n_permutations": 20, "random_state": 5}
    assert run(a, b, a | b, **kw).to_dict() == run(a, b, a | b, **kw).to_dict()


def test_bias_correction_reduces_bias_on_small_samples():
    # independent sources and target: every atom and MI is 0; the plug-in I(X1,X2;Y) is biased
    # by about (16-1)(2-1)/(2 n ln 2) = 0.11 bit at n = 100
    plain, corrected = [], []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        x1, x2, y = rng.integers(0, 4, 100), rng.integers(0, 4, 100), rng.integers(0, 2, 100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            plain.append(run(x1, x2, y, method="mmi").mi_joint)
            r = run(x1, x2, y, method="mmi", n_bootstrap=60, bias_correction="bootstrap",
                    random_state=seed)
        corrected.append(r.mi_joint)
        assert r.estimator == "plug-in, bootstrap bias-corrected"
        assert min(r.atoms.values()) >= 0
    assert np.mean(plain) > 0.07
    assert np.mean(corrected) < 0.6 * np.mean(plain)


def test_bias_corrected_broja_gives_basic_intervals_containing_zero_uniques():
    a, b = bits(1500, seed=31)
    r = run(a, b, a & b, n_bootstrap=60, bias_correction="bootstrap", random_state=1)
    assert r.ci["unique1"][0] == 0.0 and r.ci["unique2"][0] == 0.0
    assert r.ci["synergy"][0] <= 0.5 <= r.ci["synergy"][1]


def test_interval_and_p_value_helpers():
    reps = np.arange(101, dtype=float)[:, None]
    assert np.allclose(percentile_intervals(reps, 0.9), [(5.0, 95.0)])
    assert np.allclose(basic_intervals(reps, [50.0], 0.9), [(5.0, 95.0)])
    assert np.allclose(basic_intervals(reps, [10.0], 0.9), [(0.0, 15.0)])  # 20-95 < 0 clipped
    null = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert permutation_p_values(null, [2.0]) == [(1 + 2) / 5]
    assert permutation_p_values(null, [9.0]) == [1 / 5]


def test_progress_bar_can_be_on():
    a, b = bits(200, seed=9)
    r = plugin_pid(a, b, a ^ b, method="mmi", n_bootstrap=3, progress=True)
    assert len(r.ci) == 4


# ---------------------------------------------------------------- warnings

def test_small_sample_warning_is_issued_and_recorded():
    rng = np.random.default_rng(12)
    x1, x2, y = rng.integers(0, 4, 60), rng.integers(0, 4, 60), rng.integers(0, 4, 60)
    with pytest.warns(SmallSampleWarning) as caught:
        r = run(x1, x2, y, method="mmi")
    assert len(caught) == 2
    assert any("samples per joint cell" in w for w in r.warnings)
    assert any("plug-in bias" in w for w in r.warnings)


def test_no_small_sample_warning_with_plenty_of_samples():
    a, b = bits(5000, seed=13)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        r = run(a, b, a & b, method="mmi")
    assert r.warnings == ()


def test_result_round_trips_through_json():
    a, b = bits(800, seed=14)
    r = run(a, b, a ^ b, n_bootstrap=10, n_permutations=10, random_state=3)
    back = json.loads(r.to_json())
    assert back == r.to_dict()
    assert back["ci"]["synergy"] == list(r.ci["synergy"])
    assert back["settings"]["random_state"] == 3
    assert back["n_samples"] == 800


# ---------------------------------------------------------------- bad input

def check_bad(match, *args, **kw):
    with pytest.raises(InvalidInputError, match=match):
        run(*args, **kw)


def test_bad_inputs_name_the_argument():
    a, b = bits(50, seed=15)
    y = a ^ b
    check_bad(r"same number of samples.*x1: 50, x2: 49", a, b[:-1], y)
    check_bad(r"`x2`.*missing", a, np.where(b == 1, np.nan, 0.0), y)
    check_bad(r"`x1`.*missing.*row 1", np.array([0, None, 1] * 5, dtype=object),
         np.zeros(15), np.arange(15) % 2)
    check_bad(r"`x1` is empty", [], [], [])
    check_bad(r"`y` must take at least two distinct values", a, b, np.zeros(50))
    check_bad(r"`x1` must be 1-D .* or 2-D", np.zeros((50, 2, 2)), b, y)
    check_bad(r"`method`", a, b, y, method="nope")
    check_bad(r"`n_bootstrap` must be >= 0", a, b, y, n_bootstrap=-1)
    check_bad(r"`confidence`", a, b, y, confidence=1.0)
    check_bad(r"`bias_correction`", a, b, y, bias_correction="jackknife")
    check_bad(r"needs bootstrap resamples.*n_bootstrap", a, b, y, bias_correction="bootstrap")
    check_bad(r"`random_state`", a, b, y, random_state=-3)


def test_alphabet_too_large_is_refused_before_allocating():
    n = 600  # 600**3 = 2.16e8 cells > MAX_JOINT_CELLS
    assert n**3 > MAX_JOINT_CELLS
    idx = np.arange(n)
    check_bad(r"more than the limit", idx, idx[::-1], (idx * 7) % n)
