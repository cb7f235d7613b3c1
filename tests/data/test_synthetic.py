"""Synthetic gates and mixtures: samples follow the exact pmf, whose PID is the promised truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interplay.data.synthetic import GATES, make_gate, make_mixture
from interplay.exceptions import InvalidInputError
from interplay.info.pid import pid
from interplay.info.pid.canonical import CANONICAL_BROJA, canonical_distributions

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


def _empirical(d) -> np.ndarray:
    counts = np.zeros(d.pmf.shape)
    np.add.at(counts, (d.x1, d.x2, d.y), 1.0)
    return counts / counts.sum()


def _assert_truth(result, truth, atol=1e-6):
    for atom in ATOMS:
        assert getattr(result, atom) == pytest.approx(truth[atom], abs=atol), atom


@pytest.mark.parametrize("name", GATES)
@pytest.mark.parametrize("alphabet, noise", [(2, 0.0), (3, 0.25)])
def test_samples_follow_the_exact_pmf(name, alphabet, noise):
    d = make_gate(name, 40_000, alphabet=alphabet, noise=noise, random_state=0)
    assert d.x1.dtype == d.x2.dtype == d.y.dtype == np.int64
    assert d.pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(d.pmf[d.x1, d.x2, d.y] > 0)
    # each cell's frequency is within 5 standard errors of its probability
    se = np.sqrt(d.pmf * (1 - d.pmf) / d.x1.size)
    assert np.all(np.abs(_empirical(d) - d.pmf) <= 5 * se + 1e-12)


@pytest.mark.parametrize("name", GATES)
@pytest.mark.parametrize("alphabet, noise", [(2, 0.0), (2, 0.3), (3, 0.0), (3, 0.1)])
def test_exact_pmf_has_the_promised_broja_pid(name, alphabet, noise):
    d = make_gate(name, 10, alphabet=alphabet, noise=noise, random_state=1)
    result = pid(d.pmf, "broja")
    if d.truth is None:
        assert name == "copy" and noise > 0
        return
    _assert_truth(result, d.truth)


@pytest.mark.parametrize("name", GATES)
def test_truth_closed_forms_without_noise(name):
    k = 3
    d = make_gate(name, 10, alphabet=k)
    lk = math.log2(k)
    expected = {
        "xor": (0, 0, 0, lk), "rdn": (lk, 0, 0, 0), "unq": (0, lk, 0, 0), "copy": (0, lk, lk, 0),
    }
    if name in expected:
        assert tuple(d.truth[a] for a in ATOMS) == pytest.approx(expected[name], abs=1e-12)
    if name == "sum":
        hy = -sum(c / 9 * math.log2(c / 9) for c in (1, 2, 3, 2, 1))
        assert d.truth["redundancy"] == pytest.approx(hy - lk, abs=1e-12)
        assert d.truth["synergy"] == pytest.approx(lk, abs=1e-12)


@pytest.mark.parametrize("name, canonical", [("xor", "synergy"), ("and", "and"),
                                             ("rdn", "redundant"), ("copy", "cat"),
                                             ("sum", "sum")])
def test_binary_gates_match_canonical_distributions(name, canonical):
    d = make_gate(name, 10)
    np.testing.assert_allclose(d.pmf, canonical_distributions()[canonical], atol=1e-15)
    assert tuple(d.truth[a] for a in ATOMS) == pytest.approx(CANONICAL_BROJA[canonical],
                                                             abs=1e-12)


def test_or_is_and_mirrored():
    and_, or_ = make_gate("and", 10), make_gate("or", 10)
    np.testing.assert_allclose(or_.pmf, and_.pmf[::-1, ::-1, ::-1], atol=0)
    assert or_.truth == pytest.approx(and_.truth)


def test_unq_puts_information_in_x1_only():
    d = make_gate("UNQ", 10, alphabet=4)
    assert d.truth["unique1"] == pytest.approx(2.0)
    assert np.all(d.y == d.x1)


def test_noise_keeps_total_mi_consistent():
    d = make_gate("xor", 10, noise=0.2)
    h = -0.9 * math.log2(0.9) - 0.1 * math.log2(0.1)  # y flips with probability noise / 2
    assert sum(d.truth.values()) == pytest.approx(1 - h, abs=1e-12)


def test_full_noise_leaves_no_information():
    d = make_gate("and", 10, noise=1.0)
    assert sum(d.truth.values()) == pytest.approx(0.0, abs=1e-12)


def test_mmi_agrees_where_it_should():
    # MMI equals BROJA on symmetric gates (U = 0 there) and is known to fail on COPY.
    for name in ("xor", "and", "rdn", "sum"):
        d = make_gate(name, 10, noise=0.1)
        _assert_truth(pid(d.pmf, "mmi"), d.truth, atol=1e-12)
    copy = make_gate("copy", 10)
    assert pid(copy.pmf, "mmi").redundancy == pytest.approx(1.0)


@pytest.mark.parametrize("sizes", [(2, 2, 2, 2), (1, 3, 1, 2), (3, 1, 2, 1), (1, 1, 1, 3)])
def test_mixture_truth_and_pmf(sizes):
    kr, ku1, ku2, ks = sizes
    d = make_mixture(30_000, redundant=kr, unique1=ku1, unique2=ku2, synergistic=ks,
                     random_state=2)
    assert d.truth == pytest.approx(
        {a: math.log2(k) for a, k in zip(ATOMS, sizes, strict=True)}, abs=1e-12
    )
    assert d.pmf.shape == (kr * ku1 * ks, kr * ku2 * ks, kr * ku1 * ku2 * ks)
    se = np.sqrt(d.pmf * (1 - d.pmf) / d.x1.size)
    assert np.all(np.abs(_empirical(d) - d.pmf) <= 5 * se + 1e-12)
    result = pid(d.pmf, "broja")
    _assert_truth(result, d.truth)
    assert result.mi_joint == pytest.approx(sum(d.truth.values()), abs=1e-9)


def test_random_state_reproducible():
    a = make_gate("xor", 50, alphabet=3, noise=0.3, random_state=5)
    b = make_gate("xor", 50, alphabet=3, noise=0.3, random_state=np.random.default_rng(5))
    assert np.array_equal(a.y, b.y) and np.array_equal(a.x1, b.x1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "nand"}, "`name`"),
        ({"n_samples": 0}, "`n_samples`"),
        ({"alphabet": 1}, "`alphabet`"),
        ({"noise": 1.5}, "`noise`"),
        ({"random_state": "seed"}, "`random_state`"),
    ],
)
def test_make_gate_validates(kwargs, match):
    args = {"name": "xor", "n_samples": 10, **kwargs}
    with pytest.raises(InvalidInputError, match=match):
        make_gate(args.pop("name"), args.pop("n_samples"), **args)


def test_make_mixture_validates():
    with pytest.raises(InvalidInputError, match="`synergistic`"):
        make_mixture(10, synergistic=0)
    with pytest.raises(InvalidInputError, match="limit"):
        make_mixture(10, redundant=64, unique1=64, unique2=64, synergistic=1)
