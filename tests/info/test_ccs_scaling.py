"""I_ccs on moderate tables: no hang, a converged fit, a clear error at the time limit (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from interplay import ConvergenceError, pid
from interplay.info.pid import classic
from interplay.info.pid.classic import pairwise_maxent

W = np.zeros((2, 2, 2))
W[0, 0, 1] = W[0, 1, 0] = W[1, 0, 0] = 1 / 3  # its max-ent joint has zeros: the support LP runs


def _random(k: int, seed: int, zeros: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.random((k, k, k))
    p[rng.random((k, k, k)) < zeros] = 0.0
    return p / p.sum()


def test_a_40_cube_needs_no_linear_program(monkeypatch):
    """Half the cells empty but every candidate reachable: IPF alone converges (this took over
    400 s through the support LP)."""

    def no_lp(*args, **kwargs):
        raise AssertionError("the support LP ran although IPF had converged")

    monkeypatch.setattr(classic, "_maxent_support", no_lp)
    r = pid(_random(40, 0), "ccs")
    assert r.diagnostics.converged and r.diagnostics.primal_residual <= 1e-12


@pytest.mark.parametrize("k", [2, 4])
def test_zeros_of_the_maxent_joint_are_found_and_the_fit_converges(k):
    """W (x) a positive table: the max-ent joint keeps W's zeros; 8^3 stopped unconverged."""
    p = np.kron(W, _random(k, 1, zeros=0.0))
    q, _, residual = pairwise_maxent(p, tol=1e-12)
    assert residual <= 1e-12
    assert np.all(q[np.kron(W, np.ones((k, k, k))) == 0] == 0)
    for ax in (0, 1, 2):
        np.testing.assert_allclose(q.sum(axis=ax), p.sum(axis=ax), atol=1e-12)
    assert pid(p, "ccs").diagnostics.converged


def test_the_support_program_is_bounded_in_time():
    p = np.kron(W, _random(4, 2, zeros=0.0))
    with pytest.raises(ConvergenceError, match=r"8 x 8 x 8 table.*max_seconds"):
        pid(p, "ccs", max_seconds=1e-9)
