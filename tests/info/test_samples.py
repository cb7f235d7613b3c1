"""Plug-in information measures of discrete samples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from interplay.exceptions import InvalidInputError
from interplay.info import measures
from interplay.info.samples import (
    co_information,
    conditional_entropy,
    conditional_mutual_information,
    encode,
    entropy,
    joint_pmf,
    mutual_information,
)

X1 = np.array([0, 0, 1, 1] * 5)
X2 = np.array([0, 1, 0, 1] * 5)
XOR = X1 ^ X2


def test_encode_sorts_symbols_and_keeps_labels():
    e = encode(np.array(["b", "a", "c", "a"]))
    assert e.codes.tolist() == [1, 0, 2, 0]
    assert e.labels == ["a", "b", "c"]
    assert e.codes.dtype == np.int64


def test_encode_several_columns_jointly():
    e = encode([3, 3, 5, 3], ["x", "y", "x", "x"])
    assert e.labels == [(3, "x"), (3, "y"), (5, "x")]
    assert e.codes.tolist() == [0, 1, 2, 0]
    two_d = encode(np.column_stack([[3, 3, 5, 3], [1, 2, 1, 1]]))
    assert two_d.codes.tolist() == [0, 1, 2, 0]
    frame = encode(pd.DataFrame({"a": [3, 3, 5, 3], "b": ["x", "y", "x", "x"]}))
    assert frame.codes.tolist() == e.codes.tolist() and frame.labels == e.labels


def test_encode_categoricals_mixed_types_and_booleans():
    cat = pd.Series(pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"]))
    assert encode(cat).labels == ["lo", "hi"]
    mixed = encode([1, "a", 1])
    assert mixed.codes.tolist() == [0, 1, 0] and mixed.labels == [1, "a"]
    assert encode(np.array([True, False, True])).labels == [False, True]


@pytest.mark.parametrize(
    "bad, match",
    [
        (([],), "empty"),
        (([1, 2], [1]), "same number"),
        ((np.array([1.0, np.nan]),), "missing"),
        ((np.zeros((2, 2, 2)),), "1-D"),
        ((5,), "single value"),
    ],
)
def test_encode_rejects_bad_input(bad, match):
    with pytest.raises(InvalidInputError, match=match):
        encode(*bad)


def test_joint_pmf_counts_cells():
    j = joint_pmf(X1, X2, XOR)
    assert j.n_samples == 20
    assert j.pmf.shape == (2, 2, 2)
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0] = expected[0, 1, 1] = expected[1, 0, 1] = expected[1, 1, 0] = 0.25
    np.testing.assert_allclose(j.pmf, expected, atol=1e-15)
    assert j.labels == ([0, 1], [0, 1], [0, 1])


def test_joint_pmf_rejects_unequal_lengths():
    with pytest.raises(InvalidInputError, match="variables\\[1\\]"):
        joint_pmf([0, 1], [0, 1, 1])


def test_xor_sample_measures():
    assert mutual_information(X1, XOR) == pytest.approx(0.0, abs=1e-12)
    assert mutual_information(np.column_stack([X1, X2]), XOR) == pytest.approx(1.0, abs=1e-12)
    assert conditional_mutual_information(X1, XOR, X2) == pytest.approx(1.0, abs=1e-12)
    assert co_information(X1, X2, XOR) == pytest.approx(-1.0, abs=1e-12)
    assert entropy(X1, X2) == pytest.approx(2.0, abs=1e-12)
    assert conditional_entropy(XOR, np.column_stack([X1, X2])) == pytest.approx(0.0, abs=1e-12)
    assert conditional_entropy(XOR, X1) == pytest.approx(1.0, abs=1e-12)


def test_labels_do_not_matter():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, 200), rng.integers(0, 2, 200)
    names = np.array(["red", "green", "blue"])[a]
    assert mutual_information(names, b) == pytest.approx(mutual_information(a, b), abs=1e-12)


def test_matches_measures_on_the_histogram():
    rng = np.random.default_rng(1)
    x, y, z = rng.integers(0, 3, 500), rng.integers(0, 2, 500), rng.integers(0, 4, 500)
    p = joint_pmf(x, y, z).pmf
    assert conditional_mutual_information(x, y, z, base="e") == pytest.approx(
        measures.conditional_mutual_information(p, 0, 1, 2, base="e"), abs=1e-12
    )
    assert entropy(x, y, z) == pytest.approx(measures.entropy(p), abs=1e-12)


def test_matches_scikit_learn_mutual_info_score():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, 1000)
    y = (x + rng.integers(0, 3, 1000)) % 4
    assert mutual_information(x, y, base="e") == pytest.approx(
        metrics.mutual_info_score(x, y), abs=1e-12
    )


def test_plugin_converges_to_truth():
    rng = np.random.default_rng(3)
    n, eps = 200_000, 0.1
    x = rng.integers(0, 2, n)
    y = np.where(rng.random(n) < eps, 1 - x, x)
    h = -eps * math.log2(eps) - (1 - eps) * math.log2(1 - eps)
    assert mutual_information(x, y) == pytest.approx(1 - h, abs=5e-3)


def test_co_information_needs_two_variables():
    with pytest.raises(InvalidInputError, match="at least 2"):
        co_information(X1)


def test_float_results():
    assert type(mutual_information(X1, XOR)) is float
