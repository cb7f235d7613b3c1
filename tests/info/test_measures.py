"""Entropy, MI, CMI and co-information on pmf arrays: closed forms, dit, identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from interplay.exceptions import InvalidInputError
from interplay.info.measures import (
    co_information,
    conditional_entropy,
    conditional_mutual_information,
    entropy,
    mutual_information,
)


def _xor() -> np.ndarray:
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[0, 1, 1] = p[1, 0, 1] = p[1, 1, 0] = 0.25
    return p


def _h2(q: float) -> float:
    return -q * math.log2(q) - (1 - q) * math.log2(1 - q)


# --- closed forms ---------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 3, 7, 16])
def test_entropy_of_uniform_is_log_k(k):
    assert entropy(np.full(k, 1 / k)) == pytest.approx(math.log2(k), abs=1e-12)


@pytest.mark.parametrize("q", [0.1, 0.25, 0.5, 0.9])
def test_binary_entropy(q):
    assert entropy([q, 1 - q]) == pytest.approx(_h2(q), abs=1e-12)


def test_zero_cells_contribute_nothing():
    assert entropy([0.5, 0.0, 0.5, 0.0]) == pytest.approx(1.0, abs=1e-15)


def test_binary_symmetric_channel_mutual_information():
    eps = 0.11
    p = 0.5 * np.array([[1 - eps, eps], [eps, 1 - eps]])
    assert mutual_information(p) == pytest.approx(1 - _h2(eps), abs=1e-12)


def test_xor_closed_forms():
    p = _xor()
    assert mutual_information(p, 0, 2) == pytest.approx(0.0, abs=1e-12)
    assert mutual_information(p, (0, 1), 2) == pytest.approx(1.0, abs=1e-12)
    assert conditional_mutual_information(p, 0, 2, 1) == pytest.approx(1.0, abs=1e-12)
    assert co_information(p, 0, 1, 2) == pytest.approx(-1.0, abs=1e-12)
    assert conditional_entropy(p, 2, (0, 1)) == pytest.approx(0.0, abs=1e-12)


def test_redundant_copy_has_positive_coinformation():
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[1, 1, 1] = 0.5
    assert co_information(p, 0, 1, 2) == pytest.approx(1.0, abs=1e-12)


def test_base_e_and_10():
    p = np.full(4, 0.25)
    assert entropy(p, base="e") == pytest.approx(math.log(4), abs=1e-12)
    assert entropy(p, base=10) == pytest.approx(math.log10(4), abs=1e-12)


def test_bad_input_names_the_argument():
    with pytest.raises(InvalidInputError, match="`p`"):
        entropy([0.5, 0.6])
    with pytest.raises(InvalidInputError, match="`p`"):
        entropy([-0.5, 1.5])
    with pytest.raises(InvalidInputError, match="`base`"):
        entropy([0.5, 0.5], base=1)
    with pytest.raises(InvalidInputError, match="`x`"):
        mutual_information(np.full((2, 2), 0.25), 5, 1)
    with pytest.raises(InvalidInputError, match="at least 2"):
        co_information(np.full((2, 2), 0.25), 0)


# --- agreement with dit ---------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_dit_on_random_pmfs(seed, dit_helpers):
    from dit.multivariate import coinformation
    from dit.multivariate import entropy as dit_entropy

    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 4, size=3))
    p = rng.dirichlet(np.full(int(np.prod(shape)), 0.5)).reshape(shape)
    d = dit_helpers.to_dit(p)
    assert entropy(p) == pytest.approx(dit_entropy(d), abs=1e-10)
    assert entropy(p, (0, 2)) == pytest.approx(dit_entropy(d, [0, 2]), abs=1e-10)
    assert conditional_entropy(p, 2, 0) == pytest.approx(dit_entropy(d, [2], [0]), abs=1e-10)
    assert mutual_information(p, 0, 2) == pytest.approx(coinformation(d, [[0], [2]]), abs=1e-10)
    assert mutual_information(p, (0, 1), 2) == pytest.approx(
        coinformation(d, [[0, 1], [2]]), abs=1e-10
    )
    assert conditional_mutual_information(p, 0, 1, 2) == pytest.approx(
        coinformation(d, [[0], [1]], [2]), abs=1e-10
    )
    assert co_information(p, 0, 1, 2) == pytest.approx(coinformation(d), abs=1e-10)


# --- properties -----------------------------------------------------------------------------

def _pmfs(ndim: int):
    shapes = st.tuples(*[st.integers(1, 4)] * ndim)
    return shapes.flatmap(
        lambda s: arrays(np.float64, s, elements=st.floats(0, 1, allow_subnormal=False))
    ).filter(lambda a: a.sum() > 1e-3).map(lambda a: a / a.sum())


@settings(max_examples=60, deadline=None)
@given(_pmfs(3))
def test_chain_rule_of_mutual_information(p):
    joint = mutual_information(p, (0, 1), 2)
    chained = mutual_information(p, 0, 2) + conditional_mutual_information(p, 1, 2, 0)
    assert joint == pytest.approx(chained, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(_pmfs(3))
def test_chain_rule_of_entropy(p):
    assert entropy(p) == pytest.approx(
        entropy(p, 0) + conditional_entropy(p, 1, 0) + conditional_entropy(p, 2, (0, 1)),
        abs=1e-9,
    )


@settings(max_examples=60, deadline=None)
@given(_pmfs(2))
def test_mutual_information_is_symmetric_nonnegative_and_bounded(p):
    i = mutual_information(p, 0, 1)
    assert i == pytest.approx(mutual_information(p, 1, 0), abs=1e-12)
    assert i >= 0
    assert i <= min(entropy(p, 0), entropy(p, 1)) + 1e-9


@settings(max_examples=60, deadline=None)
@given(_pmfs(3))
def test_cmi_nonnegative_and_coinformation_identity(p):
    assert conditional_mutual_information(p, 0, 1, 2) >= 0
    assert co_information(p, 0, 1, 2) == pytest.approx(
        mutual_information(p, 0, 1) - conditional_mutual_information(p, 0, 1, 2), abs=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(_pmfs(2), st.sampled_from([3.0, 10.0, "e"]))
def test_base_change_rescales(p, base):
    b = math.e if base == "e" else base
    assert mutual_information(p, base=base) == pytest.approx(
        mutual_information(p) / math.log2(b), abs=1e-12
    )
    assert entropy(p, base=base) == pytest.approx(entropy(p) / math.log2(b), abs=1e-12)
