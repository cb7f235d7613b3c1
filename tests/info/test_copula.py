"""Gaussian copula transform and copula PID."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from interplay.data.gaussian import doubling_system, noisy_copies, sample_gaussian
from interplay.exceptions import InvalidInputError
from interplay.info.estimate.copula import copula_normalize, copula_pid
from interplay.info.pid.gaussian import gaussian_pid_from_samples


def test_normal_scores_are_ranks_through_probit():
    x = np.array([3.0, 10.0, 1.0, 7.0])
    z = copula_normalize(x).ravel()
    assert np.allclose(z, stats.norm.ppf(np.array([2, 4, 1, 3]) / 5))
    assert np.allclose(copula_normalize(np.exp(x)), copula_normalize(x))


def test_ties_get_mean_rank_and_columns_are_independent():
    x = np.array([[1.0, 5.0], [1.0, 4.0], [2.0, 3.0]])
    z = copula_normalize(x)
    assert z[0, 0] == z[1, 0]
    assert np.allclose(z[:, 1], stats.norm.ppf(np.array([3, 2, 1]) / 4))


def test_copula_pid_invariant_to_monotone_distortion():
    s = doubling_system(1)
    x1, x2, y = sample_gaussian(s, 5000, random_state=1)
    plain = copula_pid(x1, x2, y)
    bent = copula_pid(np.exp(x1), x2**3, np.arctan(y))
    assert bent.estimator == "copula"
    for k in ("redundancy", "unique1", "unique2", "synergy"):
        assert bent.atoms[k] == pytest.approx(plain.atoms[k], abs=1e-9)
        assert bent.atoms[k] == pytest.approx(s.truth[k], abs=0.1)


def test_copula_beats_plain_gaussian_on_distorted_marginals():
    s = noisy_copies(0.0)
    x1, x2, y = (v.ravel() for v in sample_gaussian(s, 20000, random_state=2))
    x1d, x2d = np.exp(2 * x1), np.sign(x2) * np.abs(x2) ** 3
    cop = copula_pid(x1d, x2d, y)
    gau = gaussian_pid_from_samples(x1d, x2d, y)
    err = lambda r: abs(r.redundancy - 0.5) + abs(r.synergy - s.truth["synergy"])  # noqa: E731
    assert err(cop) < 0.03
    assert err(gau) > 3 * err(cop)


@pytest.mark.parametrize("bad, match", [(np.array([[np.nan], [1.0]]), "NaN"),
                                        (np.ones((1, 2)), "at least 2 samples"),
                                        (np.ones((2, 0)), "n_features"),
                                        ("abc", "numeric")])
def test_bad_input(bad, match):
    with pytest.raises(InvalidInputError, match=match):
        copula_normalize(bad)
