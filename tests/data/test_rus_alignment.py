"""make_rus_alignment: the emergence paper's generator with exact information quantities."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.data import make_rus_alignment
from interplay.exceptions import InvalidInputError
from interplay.info.measures import mutual_information


def plug_in_mi(codes: np.ndarray, y: np.ndarray) -> float:
    joint = np.zeros((codes.max() + 1, y.max() + 1))
    np.add.at(joint, (codes, y), 1.0)
    return mutual_information(joint / joint.sum(), 0, 1)


def test_total_information_is_fixed_and_uniqueness_moves_it_between_modalities():
    infos = [make_rus_alignment(10, redundancy=r, random_state=3).info for r in range(9)]
    totals = [i["I(X1,X2;Y)"] for i in infos]
    assert np.ptp(totals) < 1e-9  # the label's information does not depend on r
    assert infos[8]["I(X1;Y)"] == pytest.approx(totals[0])
    assert infos[8]["I(X2;Y)"] == pytest.approx(totals[0])
    assert infos[0]["I(X1;Y)"] < 0.7 * totals[0]
    assert all(i["I(X1;X2)"] == 8.0 for i in infos)


def test_exact_information_matches_a_large_sample():
    d = make_rus_alignment(200_000, redundancy=3, random_state=1, data_seed=2)
    p = d.params
    bits = lambda z: z @ (1 << np.arange(z.shape[1])[::-1])  # noqa: E731
    z1 = np.concatenate([d.latents["shared"][:, p["label_shared"]],
                         d.latents["unique1"][:, p["label_unique1"]]], axis=1)
    z2 = np.concatenate([d.latents["shared"][:, p["label_shared"]],
                         d.latents["unique2"][:, p["label_unique2"]]], axis=1)
    # plug-in bias is about (cells - 1) / (2 n ln 2) bits: below 0.01 here
    assert plug_in_mi(bits(z1), d.y) == pytest.approx(d.info["I(X1;Y)"], abs=0.01)
    assert plug_in_mi(bits(z2), d.y) == pytest.approx(d.info["I(X2;Y)"], abs=0.01)
    assert np.bincount(d.y) / len(d.y) == pytest.approx(np.full(4, 0.25), abs=0.01)


def test_modalities_share_the_shared_bits_and_depth_transforms_x2():
    d0 = make_rus_alignment(500, redundancy=4, depth=0, random_state=0, data_seed=1)
    d5 = make_rus_alignment(500, redundancy=4, depth=5, random_state=0, data_seed=1)
    assert np.array_equal(d0.x1[:, :8], 2.0 * d0.latents["shared"] - 1)
    assert np.array_equal(d0.x1, d5.x1) and np.array_equal(d0.y, d5.y)
    raw = np.c_[2.0 * d0.latents["shared"] - 1, 2.0 * d0.latents["unique2"] - 1, np.ones(500)]
    linear_fit = lambda t: np.linalg.lstsq(raw, t, rcond=None)[1].sum()  # noqa: E731
    assert linear_fit(d0.x2) < 1e-12  # depth 0: one affine map
    assert linear_fit(d5.x2) > 1.0  # depth 5: not affine in the bits


def test_pid_atoms_are_consistent_and_broja_runs_on_small_tables():
    for method in ("mmi", "broja"):
        i = make_rus_alignment(10, redundancy=1, random_state=0, pid_method=method).info
        atoms = i["redundancy"] + i["unique1"] + i["unique2"] + i["synergy"]
        assert atoms == pytest.approx(i["I(X1,X2;Y)"], abs=1e-6)
        assert i["redundancy"] + i["unique1"] == pytest.approx(i["I(X1;Y)"], abs=1e-6)
    full = make_rus_alignment(10, redundancy=8, random_state=0).info
    assert full["redundancy"] == pytest.approx(full["I(X1,X2;Y)"])


@pytest.mark.parametrize(("kw", "match"), [
    ({"redundancy": 9}, "redundancy"),
    ({"redundancy": 0, "unique_bits": 3}, "unique_bits >= 4"),
    ({"depth": -1}, "depth"),
    ({"pid_method": "imin"}, "pid_method"),
])
def test_bad_arguments(kw, match):
    with pytest.raises(InvalidInputError, match=match):
        make_rus_alignment(10, **kw)
