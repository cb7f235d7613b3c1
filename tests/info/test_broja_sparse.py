"""BROJA on sparse supports: independent blocks, trivial blocks, and the memory bound (issue 13)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interplay import InvalidInputError, pid
from interplay.info.pid import broja
from interplay.info.pid.broja import optimal_coupling, solve_broja


def _copy(a: int, b: int) -> np.ndarray:
    """COPY: y = (x1, x2) with independent uniform sources."""
    p = np.zeros((a, b, a * b))
    for i in range(a):
        for j in range(b):
            p[i, j, i * b + j] = 1.0 / (a * b)
    return p


def _xor() -> np.ndarray:
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[0, 1, 1] = p[1, 0, 1] = p[1, 1, 0] = 0.25
    return p


def _objective(q: np.ndarray) -> float:
    """``sum q log q(y | x1, x2)`` in nats."""
    m = q.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.where(q > 0, q * np.log(q / m), 0.0).sum())


@pytest.mark.parametrize(("a", "b"), [(20, 20), (30, 25)])
def test_copy_needs_no_newton_system(a, b, monkeypatch):
    """Every block of COPY holds one entry: the answer is exact without any Newton step."""

    def no_solve(*args, **kwargs):
        raise AssertionError("COPY's blocks are single points; nothing should be solved")

    monkeypatch.setattr(broja, "_PrimalDual", no_solve)
    r = pid(_copy(a, b))
    assert abs(r.redundancy) < 1e-12 and abs(r.synergy) < 1e-12
    assert abs(r.unique1 - math.log2(a)) < 1e-12 and abs(r.unique2 - math.log2(b)) < 1e-12
    assert r.diagnostics.converged and r.diagnostics.duality_gap == 0.0
    assert f"{a * b} independent blocks, 0 solved" in r.diagnostics.message


def test_blocks_are_solved_separately_and_weighted_by_mass():
    """Two problems on disjoint values of every variable, mixed 0.3 / 0.7: the optimum is the
    mass-weighted sum of their optima, and the coupling is an optimal one of each, scaled (the
    minimiser need not be unique: XOR's optima are all q(x1, x2) / 2 with uniform margins)."""
    rng = np.random.default_rng(3)
    other = rng.dirichlet(np.ones(27)).reshape(3, 3, 3)
    p = np.zeros((5, 5, 5))
    p[:2, :2, :2] = 0.3 * _xor()
    p[2:, 2:, 2:] = 0.7 * other
    sol = solve_broja(p, tol=1e-10, max_iter=200)
    assert "2 independent blocks, 2 solved" in sol["message"]
    q_other = optimal_coupling(other)
    for part, mass, block in ((np.s_[2:, 2:, 2:], 0.7, other), (np.s_[:2, :2, :2], 0.3, _xor())):
        q = sol["q"][part]
        np.testing.assert_allclose(q.sum(axis=1), mass * block.sum(axis=1), atol=1e-15)
        np.testing.assert_allclose(q.sum(axis=0), mass * block.sum(axis=0), atol=1e-15)
        assert q.min() >= 0.0
    assert abs(_objective(sol["q"][2:, 2:, 2:] / 0.7) - _objective(q_other)) < 1e-10
    assert abs(_objective(sol["q"][:2, :2, :2] / 0.3) + math.log(2)) < 1e-10  # I_q* = 0
    expected = 0.3 * -math.log(2) + 0.7 * _objective(q_other)
    assert abs(sol["primal"] - expected) < 1e-9
    assert sol["gap"] <= 1e-10


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")
@pytest.mark.parametrize(("shape", "seed"), [((4, 4, 6), 0), ((5, 3, 8), 1), ((6, 6, 4), 2)])
def test_sparse_joints_agree_with_clarabel(shape, seed):
    """Random joints with most entries zero (several blocks, some trivial) against an
    independent conic solver on the full, unreduced program."""
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
    p[rng.random(shape) < 0.8] = 0.0
    p /= p.sum()
    k1, k2, ky = shape
    qs = [cp.Variable((k1, k2), nonneg=True) for _ in range(ky)]
    cons = []
    for y in range(ky):
        cons += [cp.sum(qs[y], axis=1) == p[:, :, y].sum(1),
                 cp.sum(qs[y], axis=0) == p[:, :, y].sum(0)]
    total = sum(qs)
    problem = cp.Problem(cp.Minimize(sum(cp.sum(cp.rel_entr(qs[y], total)) for y in range(ky))),
                         cons)
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    sol = solve_broja(p, tol=1e-10, max_iter=200)
    assert sol["gap"] <= 1e-10
    assert abs(sol["primal"] - problem.value) / math.log(2) < 1e-6
    q = sol["q"]
    np.testing.assert_allclose(q.sum(axis=1), p.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(q.sum(axis=0), p.sum(axis=0), atol=1e-12)
    assert q.min() >= 0.0


def test_a_table_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(broja, "_available_bytes", lambda: 2**20)

    def no_solve(*args, **kwargs):
        raise AssertionError("nothing may be allocated once the memory check fails")

    monkeypatch.setattr(broja, "_PrimalDual", no_solve)
    p = np.random.default_rng(0).dirichlet(np.ones(16**3)).reshape(16, 16, 16)
    with pytest.raises(InvalidInputError, match=r"16 x 16 x 16 values.*GiB.*--estimator cluster"):
        pid(p)


def test_the_exact_path_is_used_when_only_it_fits(monkeypatch):
    """k2 * ky >= 512 normally takes the O(k^5) preconditioner; when only the exact factors fit
    in memory they are used, and the answer is the same."""
    p = np.random.default_rng(1).dirichlet(np.ones(16 * 16 * 32)).reshape(16, 16, 32)
    exact, preconditioned = broja._solver_bytes(16, 16, 32)
    assert exact < preconditioned
    reference = pid(p)
    monkeypatch.setattr(broja, "_available_bytes", lambda: (exact + preconditioned) // 2)
    built = []
    real = broja._NewtonSystem.__init__

    def record(self, *args, **kwargs):
        real(self, *args, **kwargs)
        built.append(self.precond is None)

    monkeypatch.setattr(broja._NewtonSystem, "__init__", record)
    r = pid(p)
    assert built and all(built)
    assert r.diagnostics.converged
    assert abs(r.redundancy - reference.redundancy) < 1e-6


def test_memory_estimates_grow_with_the_table():
    """The structured path's k1 * k2^2 term is what made 1500 x 1500 tables ask for 25 GiB."""
    exact, structured = broja._solver_bytes(1500, 1500, 2)
    assert structured > 25 * 2**30 > exact


def test_a_solve_that_would_take_hours_is_refused(monkeypatch):
    """The bound on work per Newton step (a 1182 x 1180 x 6 block of mfeat's raw floats would
    need minutes per step) refuses before any step; here the bound is lowered."""
    monkeypatch.setattr(broja, "_MAX_STEP_FLOPS", 1e3)
    # 6 x 6 x 6: too many free coordinates for the small-block path, which needs no check
    p = np.random.default_rng(0).dirichlet(np.ones(6**3)).reshape(6, 6, 6)
    with pytest.raises(InvalidInputError, match="per Newton step"):
        pid(p)
    assert broja._step_flops(1182, 1180, 6, True) > 2e11 > broja._step_flops(64, 64, 64, False)


def _and() -> np.ndarray:
    p = np.zeros((2, 2, 2))
    for a in (0, 1):
        for b in (0, 1):
            p[a, b, a & b] = 0.25
    return p


def test_a_support_seen_again_reuses_its_read_only_structure(monkeypatch):
    """The small path's setup depends on the support alone: built once, kept read-only (a
    solve that wrote into it would fail), and evicted oldest first."""
    built = []
    real = broja.Structure

    def counting(*args):
        built.append(args)
        return real(*args)

    monkeypatch.setattr(broja, "Structure", counting)
    monkeypatch.setattr(broja, "_STRUCTURES", {})
    monkeypatch.setattr(broja, "_STRUCTURES_KEPT", 2)
    first, second = pid(_and()), pid(_and())
    assert len(built) == 1
    assert first.atoms == second.atoms and second.diagnostics.converged
    assert abs(second.redundancy - 0.311278124459) < 1e-7  # AND: 3/4 log(4/3) bits
    (structure,) = broja._STRUCTURES.values()
    assert not structure.basis.flags.writeable and not structure.design.flags.writeable
    for p in (_xor(), _and()[::-1], _and()):  # three more supports (XOR, AND mirrored)
        pid(p)
    assert len(broja._STRUCTURES) == 2 and len(built) == 4


def test_marginal_entropies_agree_with_one_pmf_at_a_time():
    """The seven entropies taken together (one reduction on small tables, a pairwise sum per
    pmf on large ones) are each pmf's own, and the marginals come back as computed."""
    from interplay.info.pid.base import marginal_entropies

    def h(a: np.ndarray) -> float:
        nz = a[a > 0]
        return float(-(nz * np.log(nz)).sum())

    rng = np.random.default_rng(3)
    for shape in [(2, 2, 2), (3, 1, 4), (20, 20, 20)]:  # the last above the one-call size
        p = rng.dirichlet(np.full(math.prod(shape), 0.3)).reshape(shape)
        p[rng.random(shape) < 0.3] = 0.0
        p /= p.sum()
        got, p1y, p2y = marginal_entropies(p)
        want = [h(p.sum(axis=(0, 1))), h(p.sum(axis=(1, 2))), h(p.sum(axis=1)),
                h(p.sum(axis=(0, 2))), h(p.sum(axis=0)), h(p.sum(axis=2)), h(p)]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(p1y, p.sum(axis=1))
        np.testing.assert_array_equal(p2y, p.sum(axis=0))
