"""Latent-block generator: exact truth, the observations carry it, shapes, seeds, bad input."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from interplay import pid, quantify
from interplay.data.latent import latent_truth, make_latent_blocks
from interplay.exceptions import InvalidInputError, SmallSampleWarning

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


def joint_pmf(shared: int, unique1: int, unique2: int, synergy: int, flip: float) -> np.ndarray:
    """p[z1, z2, y] of the whole latent system by brute-force enumeration (independent oracle)."""
    m1, m2 = shared + unique1 + synergy, shared + unique2 + synergy
    my = shared + unique1 + unique2 + synergy
    p = np.zeros((2**m1, 2**m2, 2**my))
    n_bits = shared + unique1 + unique2 + 2 * synergy
    for bits in itertools.product((0, 1), repeat=n_bits):
        r = bits[:shared]
        u1 = bits[shared:shared + unique1]
        u2 = bits[shared + unique1:shared + unique1 + unique2]
        a = bits[shared + unique1 + unique2:shared + unique1 + unique2 + synergy]
        b = bits[shared + unique1 + unique2 + synergy:]
        clean1, clean2 = (*r, *u1, *a), (*r, *u2, *b)
        y = (*r, *u1, *u2, *(i ^ j for i, j in zip(a, b, strict=True)))
        for e1 in itertools.product((0, 1), repeat=m1):
            for e2 in itertools.product((0, 1), repeat=m2):
                flips = sum(e1) + sum(e2)
                w = flip**flips * (1 - flip) ** (m1 + m2 - flips) / 2**n_bits
                z1 = [c ^ e for c, e in zip(clean1, e1, strict=True)]
                z2 = [c ^ e for c, e in zip(clean2, e2, strict=True)]
                p[_index(z1), _index(z2), _index(y)] += w
    return p


def _index(bits) -> int:
    return int("".join(map(str, bits)) or "0", 2)


@pytest.mark.parametrize(("blocks", "expected"), [
    ((1, 0, 0, 0), (1, 0, 0, 0)),
    ((0, 1, 0, 0), (0, 1, 0, 0)),
    ((0, 0, 1, 0), (0, 0, 1, 0)),
    ((0, 0, 0, 1), (0, 0, 0, 1)),
    ((2, 1, 3, 2), (2, 1, 3, 2)),
])
def test_truth_without_flips_is_one_bit_per_block(blocks, expected):
    truth = latent_truth(*blocks)
    assert [truth[a] for a in ATOMS] == pytest.approx(expected, abs=1e-7)
    assert truth["mi_joint"] == pytest.approx(sum(expected), abs=1e-7)
    assert truth["mi_x1"] == pytest.approx(expected[0] + expected[1], abs=1e-7)


@pytest.mark.parametrize("flip", [0.0, 0.1, 0.3])
def test_truth_equals_the_pid_of_the_whole_latent_joint(flip):
    # the blockwise sum relies on additivity; check it against the full joint's exact PID
    full = pid(joint_pmf(1, 1, 0, 1, flip), "broja")
    truth = latent_truth(1, 1, 0, 1, flip=flip)
    for key in (*ATOMS, "mi_joint", "mi_x1", "mi_x2"):
        assert truth[key] == pytest.approx(getattr(full, key), abs=2e-6)


def test_flips_lower_the_information_by_the_binary_channel_capacity():
    p = 0.1
    h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    truth = latent_truth(0, 2, 0, 0, flip=p)
    assert truth["unique1"] == pytest.approx(2 * (1 - h), abs=1e-7)
    assert truth["synergy"] == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("flip", [0.0, 0.15])
def test_noise_free_observations_carry_exactly_the_latent_information(flip):
    # without nuisance and noise, each distinct row of x_i is one latent pattern (the map is
    # injective), so the plug-in PID of the rows converges to the truth
    ds, truth = make_latent_blocks(20000, shared=1, unique1=1, unique2=0, synergy=1,
                                   nuisance=0, noise=0.0, flip=flip, random_state=3)
    x1, x2 = ds.modalities["x1"], ds.modalities["x2"]
    assert np.unique(x1, axis=0).shape[0] == 8 and np.unique(x2, axis=0).shape[0] == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        est = quantify(x1, x2, ds.target, progress=False)
    for key in (*ATOMS, "mi_joint", "mi_x1", "mi_x2"):  # a 256-cell plug-in: +-0.04 bits
        assert getattr(est, key) == pytest.approx(truth[key], abs=0.04)


def test_the_target_is_the_tuple_of_relevant_bits():
    ds, truth = make_latent_blocks(3000, shared=1, unique1=2, unique2=1, synergy=1,
                                   random_state=0)
    y = ds.target
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(2**5))
    assert truth["mi_joint"] == pytest.approx(5.0, abs=1e-7)  # H(Y) = 5 bits, all of it known
    assert ds.metadata.extra["truth"] == truth
    assert ds.metadata.extra["params"]["synergy"] == 1


def test_shapes_kinds_and_linear_map():
    ds, _ = make_latent_blocks(50, dims=(7, 9), shared=1, unique1=1, unique2=1, synergy=0,
                               nuisance=5, nonlinearity="linear", random_state=1)
    assert ds.modalities["x1"].shape == (50, 7)
    assert ds.modalities["x2"].shape == (50, 9)
    assert ds.metadata.modality_kinds == {"x1": "embedding", "x2": "embedding"}


def test_same_seed_same_data_other_seed_other_data():
    a, _ = make_latent_blocks(200, random_state=5)
    b, _ = make_latent_blocks(200, random_state=5)
    c, _ = make_latent_blocks(200, random_state=6)
    for name in ("x1", "x2"):
        np.testing.assert_array_equal(a.modalities[name], b.modalities[name])
        assert not np.allclose(a.modalities[name], c.modalities[name])
    np.testing.assert_array_equal(a.target, b.target)


def test_noise_is_added_per_feature():
    clean, _ = make_latent_blocks(2000, noise=0.0, random_state=2)
    noisy, _ = make_latent_blocks(2000, noise=0.5, random_state=2)
    diff = noisy.modalities["x1"] - clean.modalities["x1"]
    assert diff.std() == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_samples": 0}, "`n_samples` must be >= 1"),
    ({"shared": -1}, "`shared` must be >= 0"),
    ({"shared": 0, "unique1": 0, "unique2": 0, "synergy": 0}, "between 1 and 30"),
    ({"shared": 31}, "between 1 and 30"),
    ({"dims": (16,)}, "`dims` must be a pair"),
    ({"dims": "ab"}, "`dims` must be a pair"),
    ({"dims": (3, 16)}, "`dims[0]` must be at least the latent size of x1 (5"),
    ({"noise": -0.1}, "`noise` must be >= 0"),
    ({"flip": 0.6}, "`flip` must be <= 0.5"),
    ({"nonlinearity": "relu"}, "`nonlinearity` must be one of"),
    ({"random_state": -1}, "`random_state` must be >= 0"),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    args = {"n_samples": 10, **kwargs}
    with pytest.raises(InvalidInputError) as err:
        make_latent_blocks(args.pop("n_samples"), **args)
    assert message in str(err.value)


def test_the_maps_do_not_depend_on_the_number_of_samples():
    # the same latent pattern must land at the same place before standardisation: compare
    # two sample sizes through the rows of one pattern, after undoing each column's scaling
    small, _ = make_latent_blocks(400, nuisance=0, noise=0.0, random_state=4)
    large, _ = make_latent_blocks(4000, nuisance=0, noise=0.0, random_state=4)
    for ds in (small, large):
        assert np.unique(ds.modalities["x1"], axis=0).shape[0] == 8
    corr_small = np.corrcoef(np.unique(small.modalities["x1"], axis=0))
    corr_large = np.corrcoef(np.unique(large.modalities["x1"], axis=0))
    np.testing.assert_allclose(np.sort(corr_small.ravel()), np.sort(corr_large.ravel()),
                               atol=0.1)  # another seed's map differs by about 0.2
