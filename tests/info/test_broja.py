"""BROJA solver: canonical oracles, agreement with reference solvers, identities, edge cases."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from interplay import ConvergenceError, InvalidInputError, pid
from interplay.info.pid.broja import optimal_coupling


def _pmf(outcomes: dict[str, float], shape: tuple[int, int, int] | None = None) -> np.ndarray:
    """Build p[x1, x2, y] from dit-style outcome strings 'x1x2y' with probabilities."""
    idx = [tuple(int(c) for c in o) for o in outcomes]
    shape = shape or tuple(max(i[a] for i in idx) + 1 for a in range(3))
    p = np.zeros(shape)
    for i, w in zip(idx, outcomes.values(), strict=True):
        p[i] += w
    return p / p.sum()


def _uniform(*outcomes: str) -> dict[str, float]:
    return {o: 1.0 for o in outcomes}


# Oracle values (bits) from the research note pid-discrete.md §5: R, U1, U2, S.
CASES = {
    "rdn": (_uniform("000", "111"), (1, 0, 0, 0)),
    "unq": (_uniform("000", "011", "100", "111"), (0, 0, 1, 0)),
    "copy": (_uniform("000", "011", "102", "113"), (0, 1, 1, 0)),
    "xor": (_uniform("000", "011", "101", "110"), (0, 0, 0, 1)),
    "and": (_uniform("000", "010", "100", "111"), (0.311278, 0, 0, 0.5)),
    "simple": ({"000": 0.5, "110": 0.25, "111": 0.25}, (0.311278, 0, 0, 0)),
    "reduced or": ({"000": 0.5, "011": 0.25, "101": 0.25}, (0.311278, 0, 0, 0.688722)),
    "sum": (_uniform("000", "011", "101", "112"), (0.5, 0, 0, 1.0)),
    "w": (_uniform("001", "010", "100"), (0.251629, 0, 0, 0.666667)),
    "diff": (_uniform("000", "001", "010", "101"), (0.122556, 0.188722, 0.188722, 0)),
    "rand": (
        {"000": 2, "010": 1, "011": 1, "100": 1, "101": 1, "111": 2},
        (0.188722, 0, 0, 0.311278),
    ),
    "f1": (_uniform("002", "010", "102", "111"), (0, 0.5, 1.0, 0)),
    "wb 1": (_uniform("000", "011", "102"), (0.251629, 0.666667, 0.666667, 0)),
    "wb 3": (_uniform("000", "110", "011", "111", "012", "102"), (0, 0, 0.251629, 0.666667)),
    "imp. rdn": ({"000": 0.499, "010": 0.001, "111": 0.5}, (0.989590, 0.010410, 0, 0)),
    "prob. 1": (_uniform("000", "001", "010", "011", "100"), (0.019973, 0.150977, 0, 0)),
    "prob. 2": (_uniform("000", "010", "021", "101"), (0.311278, 0, 0.188722, 0.5)),
    "boom": (_uniform("001", "002", "020", "121", "202", "212"), (1 / 3, 1 / 3, 1 / 3, 0.125815)),
    "not two": (_uniform("000", "001", "010", "100", "111"), (0.019973, 0, 0, 0.550977)),
    "pnt. unq.": (_uniform("011", "101", "022", "202"), (0.5, 0, 0, 0.5)),
    "uniform": (_uniform(*[f"{a}{b}{c}" for a in "01" for b in "01" for c in "01"]), (0, 0, 0, 0)),
    "null": (_uniform("000", "001", "110", "111"), (0, 0, 0, 0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_canonical_oracles(name: str) -> None:
    outcomes, truth = CASES[name]
    r = pid(_pmf(outcomes))
    got = (r.redundancy, r.unique1, r.unique2, r.synergy)
    np.testing.assert_allclose(got, truth, atol=2e-6)  # oracles are given to 6 decimals
    assert r.diagnostics is not None and r.diagnostics.converged
    assert r.diagnostics.duality_gap <= 1e-7


def test_closed_forms_exactly() -> None:
    and_ = pid(_pmf(CASES["and"][0]))
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert abs(and_.redundancy - (h - 0.5)) < 1e-7
    assert abs(and_.synergy - 0.5) < 1e-7
    assert abs(pid(_pmf(CASES["xor"][0])).synergy - 1.0) < 1e-7


@pytest.mark.parametrize("a,b", [(3, 5), (7, 2), (6, 5)])
def test_copy_of_independent_uniform_sources(a: int, b: int) -> None:
    p = np.zeros((a, b, a * b))
    for i in range(a):
        for j in range(b):
            p[i, j, i * b + j] = 1 / (a * b)
    r = pid(p)
    np.testing.assert_allclose(
        [r.redundancy, r.unique1, r.unique2, r.synergy],
        [0, math.log2(a), math.log2(b), 0],
        atol=1e-7,
    )


def test_copy_with_correlated_sources_gives_identity_property() -> None:
    rng = np.random.default_rng(0)
    pxx = rng.dirichlet(np.ones(9)).reshape(3, 3)
    p = np.zeros((3, 3, 9))
    for i in range(3):
        for j in range(3):
            p[i, j, 3 * i + j] = pxx[i, j]
    r = pid(p)
    h = lambda v: float(-(v[v > 0] * np.log2(v[v > 0])).sum())  # noqa: E731
    mi = h(pxx.sum(1)) + h(pxx.sum(0)) - h(pxx.ravel())
    assert abs(r.redundancy - mi) < 1e-7
    assert abs(r.unique1 - (h(pxx.ravel()) - h(pxx.sum(0)))) < 1e-7
    assert abs(r.synergy) < 1e-7


def _random_joint(shape: tuple[int, int, int], seed: int, zeros: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
    if zeros:
        p[rng.random(shape) < zeros] = 0.0
        if p.sum() == 0:
            p.flat[0] = 1.0
    return p / p.sum()


def _clarabel_min_conditional_entropy(p: np.ndarray) -> float:
    """Reference: min_q sum q log q(y|x1,x2) over Delta_p with cvxpy + Clarabel (nats)."""
    cp = pytest.importorskip("cvxpy")
    k1, k2, ky = p.shape
    qs = [cp.Variable((k1, k2), nonneg=True) for _ in range(ky)]
    cons = []
    for y in range(ky):
        cons += [
            cp.sum(qs[y], axis=1) == p[:, :, y].sum(1),
            cp.sum(qs[y], axis=0) == p[:, :, y].sum(0),
        ]
    total = sum(qs)
    obj = sum(cp.sum(cp.rel_entr(qs[y], total)) for y in range(ky))
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return float(prob.value)


@pytest.mark.parametrize(
    "shape,seed",
    [
        ((2, 2, 2), 1),
        ((3, 4, 2), 2),
        ((4, 3, 5), 3),
        ((5, 5, 5), 4),
        ((2, 6, 3), 5),
        ((6, 6, 6), 6),
    ],
)
def test_agrees_with_clarabel_on_random_joints(shape: tuple[int, int, int], seed: int) -> None:
    p = _random_joint(shape, seed)
    q = optimal_coupling(p)
    m = q.sum(axis=2, keepdims=True)
    ours = float(
        np.where(q > 0, q * np.log(np.where(q > 0, q, 1) / np.where(m > 0, m, 1)), 0).sum()
    )
    ref = _clarabel_min_conditional_entropy(p)
    # our value is certified to within 1e-7 bits of the optimum; Clarabel's to its tolerance
    assert ours <= ref + 1e-7  # Clarabel's point may be slightly infeasible, hence below
    assert abs(ours - ref) / math.log(2) < 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_dit_cone(seed: int) -> None:
    dit = pytest.importorskip("dit")
    pytest.importorskip("ecos")
    from dit.pid import PID_BROJA

    p = _random_joint((3, 3, 3), 100 + seed)
    d = dit.Distribution.from_ndarray(p)
    ref = PID_BROJA(d, ((0,), (1,)), (2,), method="cone")
    r = pid(p)
    want = [
        ref.get_pi(((0,), (1,))),
        ref.get_pi(((0,),)),
        ref.get_pi(((1,),)),
        ref.get_pi(((0, 1),)),
    ]
    np.testing.assert_allclose([r.redundancy, r.unique1, r.unique2, r.synergy], want, atol=1e-6)


def _plug_in_joint(k: int, alpha: float, n: int, seed: int) -> np.ndarray:
    """A plug-in pmf of n samples from a Dirichlet(alpha) joint: sparse, wide dynamic range."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, rng.dirichlet(np.full(k**3, alpha))).reshape(k, k, k) / n


def _spike(k: int, seed: int) -> np.ndarray:
    """One cell with almost all the mass, the rest about 1e-12 each."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k**3)).reshape(k, k, k) * 1e-9
    p[tuple(rng.integers(0, k, 3))] = 1.0
    return p / p.sum()


def _spike_in(shape: tuple[int, int, int], seed: int) -> np.ndarray:
    """:func:`_spike` for any shape."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape) * 1e-9
    p[tuple(rng.integers(0, k) for k in shape)] = 1.0
    return p / p.sum()


HARD = {
    # each of these stalled or crashed an earlier version of the solver
    "plug-in k=3 n=1e3": _plug_in_joint(3, 0.05, 1000, 1),
    "plug-in k=2 n=1e7": _plug_in_joint(2, 0.05, 10**7, 3),
    "plug-in k=4 n=1e7": _plug_in_joint(4, 0.05, 10**7, 0),
    "spike k=8": _spike(8, 3),
    "spike k=16": _spike(16, 0),
    "dirichlet(0.05) k=4": np.random.default_rng(0).dirichlet(np.full(64, 0.05)).reshape(4, 4, 4),
}


@pytest.mark.parametrize("name", sorted(HARD))
def test_hard_inputs_reach_a_certified_gap(name: str) -> None:
    r = pid(HARD[name], on_failure="raise")
    assert r.diagnostics is not None and r.diagnostics.converged
    assert r.diagnostics.duality_gap <= 1e-7  # bits


def test_model_pid_regression_case() -> None:
    """A 5x5x10 model-PID joint on which an interim solver stopped early; Clarabel: 0.2444577."""
    p = np.load(Path(__file__).parent / "data" / "model_pid_5x5x10.npy")
    r = pid(p, on_failure="raise")
    assert abs(r.redundancy - 0.2444577) < 1e-6


def test_coupling_is_feasible() -> None:
    p = _random_joint((4, 5, 3), 7, zeros=0.3)
    q = optimal_coupling(p)
    assert q.min() >= 0
    np.testing.assert_allclose(q.sum(axis=1), p.sum(axis=1), atol=1e-14)
    np.testing.assert_allclose(q.sum(axis=0), p.sum(axis=0), atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    k1=st.integers(1, 4),
    k2=st.integers(1, 4),
    ky=st.integers(1, 4),
    seed=st.integers(0, 10_000),
    zeros=st.sampled_from([0.0, 0.3, 0.6]),
)
def test_identities_hold(k1: int, k2: int, ky: int, seed: int, zeros: float) -> None:
    p = _random_joint((k1, k2, ky), seed, zeros)
    r = pid(p)
    for atom in r.atoms.values():
        assert atom >= 0.0
    assert abs(r.redundancy + r.unique1 - r.mi_x1) < 1e-9
    assert abs(r.redundancy + r.unique2 - r.mi_x2) < 1e-9
    assert abs(sum(r.atoms.values()) - r.mi_joint) < 1e-9
    assert r.diagnostics is not None and r.diagnostics.converged
    # swapping the sources swaps the unique atoms, to within the two certified gaps
    s = pid(p.transpose(1, 0, 2))
    assert s.diagnostics is not None
    slack = r.diagnostics.duality_gap + s.diagnostics.duality_gap + 1e-12
    assert abs(s.unique1 - r.unique2) <= slack and abs(s.redundancy - r.redundancy) <= slack


def test_degenerate_inputs() -> None:
    one = np.ones((1, 1, 1))
    r = pid(one)
    assert r.atoms == {"redundancy": 0.0, "unique1": 0.0, "unique2": 0.0, "synergy": 0.0}
    constant_target = np.full((3, 2, 1), 1 / 6)
    assert pid(constant_target).mi_joint == 0.0
    # a single-valued source leaves only the other source's information, all unique
    p = _random_joint((1, 3, 3), 3)
    r = pid(p)
    assert abs(r.unique2 - r.mi_x2) < 1e-12 and r.redundancy == 0.0
    # zero rows and columns are ignored
    q = np.zeros((4, 4, 3))
    q[:2, :2, :2] = _random_joint((2, 2, 2), 9)
    np.testing.assert_allclose(
        list(pid(q).atoms.values()), list(pid(q[:2, :2, :2]).atoms.values()), atol=1e-12
    )


def test_base_changes_units() -> None:
    p = _pmf(CASES["xor"][0])
    r = pid(p, base="e")
    assert r.units == "nats" and abs(r.synergy - math.log(2)) < 1e-9


def test_non_convergence_is_reported_or_raised() -> None:
    p = _random_joint((5, 5, 5), 11)
    with pytest.warns(Warning, match="duality gap"):
        r = pid(p, max_iter=2)
    assert r.diagnostics is not None and not r.diagnostics.converged
    with pytest.raises(ConvergenceError, match="duality gap"):
        pid(p, max_iter=2, on_failure="raise")


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.ones((2, 2)) / 4, "3 dimensions"),
        (np.full((2, 2, 2), 0.2), "sum to 1"),
        (-np.ones((2, 2, 2)) / 8, "non-negative"),
        (np.full((2, 2, 2), np.nan), "NaN"),
        ("abc", "array of probabilities"),
        # each fault alone among valid entries (the checks first look at the sum and minimum)
        (np.r_[np.nan, np.full(7, 1 / 7)].reshape(2, 2, 2), "NaN or infinite"),
        (np.r_[np.inf, np.zeros(7)].reshape(2, 2, 2), "NaN or infinite"),
        (np.r_[-np.inf, np.inf, np.zeros(6)].reshape(2, 2, 2), "NaN or infinite"),
        (np.r_[-0.25, 0.5, np.full(6, 0.125)].reshape(2, 2, 2), "smallest entry of -0.25"),
        pytest.param(  # finite entries whose sum overflows (numpy warns of it, as it did)
            np.full((2, 2, 2), 1e308), "sum to 1",
            marks=pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
        ),
    ],
)
def test_bad_inputs(bad: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        pid(bad)


def test_bad_options() -> None:
    p = _pmf(CASES["xor"][0])
    with pytest.raises(InvalidInputError, match="method"):
        pid(p, method="nope")
    with pytest.raises(InvalidInputError, match="method"):
        pid(p, method=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="tol"):
        pid(p, tol=-1)
    with pytest.raises(InvalidInputError, match="on_failure"):
        pid(p, on_failure="ignore")


@pytest.mark.parametrize("dense_up_to", [256, 0])
def test_newton_system_solves_its_own_hessian(
    monkeypatch: pytest.MonkeyPatch, dense_up_to: int
) -> None:
    """The solve (one dense factor, or the Schur complement) inverts the Hessian that apply()
    multiplies by."""
    from interplay.info.pid import broja
    from interplay.info.pid.broja import _NewtonSystem, _Problem

    monkeypatch.setattr(broja, "_DENSE_UP_TO", dense_up_to)

    rng = np.random.default_rng(5)
    p = _random_joint((4, 3, 5), 9, zeros=0.3)
    prob = _Problem(p.sum(axis=1), p.sum(axis=0))
    lam, mu = prob.initial_point()
    pi = prob._g(lam, mu)[1]
    m = np.where(prob.cells, rng.uniform(0.01, 1.0, prob.cells.shape), 0.0)
    a = np.where(prob.cells, rng.uniform(0.0, 1e4, prob.cells.shape), 0.0)
    system = _NewtonSystem(prob, pi, m[..., None] * pi, a)
    assert (system.dense is not None) == (dense_up_to > 0)
    g_lam = np.where(prob.m1, rng.normal(size=prob.p1.shape), 0.0)
    g_mu = np.where(prob.fixed_mu, 0.0, rng.normal(size=prob.p2.shape))
    d_lam, d_mu = system.solve(g_lam, g_mu)
    h_lam, h_mu = system.apply(d_lam, d_mu)
    assert np.allclose(h_lam, -g_lam, atol=1e-9)
    assert np.allclose(np.where(prob.fixed_mu, 0.0, h_mu), -g_mu, atol=1e-9)
    assert np.all(d_mu[prob.fixed_mu] == 0.0)


def _newton_system_midway(p: np.ndarray, steps: int, **kwargs: Any) -> Any:
    """The Newton system of the interior point after a few steps on p (weights spread out)."""
    from interplay.info.pid.broja import _NewtonSystem, _PrimalDual, _Problem

    prob = _Problem(p.sum(axis=1), p.sum(axis=0))
    state = _PrimalDual(prob)
    for _ in range(steps):
        assert state.step()
    pi = prob._g(state.lam, state.mu)[1]
    m, s = state.m, state.s
    gap = float((m * s)[prob.cells].mean())
    a = np.where(prob.cells, m / s - m, 0.0)
    return _NewtonSystem(prob, pi, m[..., None] * pi, a, 0.1 * gap, **kwargs)


@pytest.mark.parametrize("steps", [1, 4, 7])
def test_preconditioned_solve_matches_the_exact_solve(
    monkeypatch: pytest.MonkeyPatch, steps: int
) -> None:
    """CG preconditioned by the O(k^5) float32 Schur complement reproduces the exact direction."""
    from interplay.info.pid import broja

    monkeypatch.setattr(broja, "_STRUCTURED_FROM", 1)
    monkeypatch.setattr(broja, "_DENSE_UP_TO", 0)  # small: it would be factorised whole
    p = _random_joint((6, 5, 7), 3, zeros=0.3)
    fast = _newton_system_midway(p, steps)
    exact = _newton_system_midway(p, steps, exact=True)
    assert fast.precond is not None and fast.precond[1].dtype == np.float32
    assert exact.precond is None
    rng = np.random.default_rng(1)
    g_lam = np.where(fast.prob.m1, rng.normal(size=fast.prob.p1.shape), 0.0)
    g_mu = rng.normal(size=fast.prob.p2.shape)
    got, want = fast.solve(g_lam, g_mu), exact.solve(g_lam, g_mu)
    assert fast.factor is None  # CG converged: the O(k^6) factorisation was never formed
    assert np.all(got[1][fast.prob.fixed_mu] == 0.0)
    free = ~fast.prob.fixed_mu
    for system, x in ((fast, got), (exact, want)):
        # normwise backward error of (H + reg) x = -g on the free entries
        h = [hx + system.reg * xx for hx, xx in zip(system.apply(*x), x, strict=True)]
        h_abs = [
            hx + system.reg * np.abs(xx)
            for hx, xx in zip(system.apply(*x, absolute=True), x, strict=True)
        ]
        resid = np.concatenate([(h[0] + g_lam).ravel(), (h[1] + g_mu)[free]])
        scale = np.linalg.norm(np.concatenate([h_abs[0].ravel(), h_abs[1][free]]))
        assert np.linalg.norm(resid) <= 1e-13 * (
            scale + np.linalg.norm(np.concatenate([g_lam.ravel(), g_mu[free]]))
        )
    if steps < 7:  # before the weights spread far, the directions agree entry by entry too
        for x, y in zip(got, want, strict=True):
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-8 * np.abs(y).max())


def test_cg_failure_falls_back_to_the_exact_factorisation(monkeypatch: pytest.MonkeyPatch) -> None:
    from interplay.info.pid import broja

    joint = _random_joint((6, 6, 6), 4)
    ref = pid(joint, on_failure="raise")  # 6 * 6 < _STRUCTURED_FROM: the exact path
    monkeypatch.setattr(broja, "_STRUCTURED_FROM", 1)
    monkeypatch.setattr(broja, "_DENSE_UP_TO", 0)  # small: it would be factorised whole
    monkeypatch.setattr(broja, "_CG_STEPS", 0)
    p = _random_joint((5, 4, 6), 8)
    system = _newton_system_midway(p, 5)
    assert system.precond is not None and system.factor is None
    rng = np.random.default_rng(2)
    g_lam, g_mu = (
        rng.normal(size=(5, 6)),
        np.where(system.prob.fixed_mu, 0.0, rng.normal(size=(4, 6))),
    )
    d_lam, d_mu = system.solve(g_lam, g_mu)
    assert system.factor is not None
    h_lam, h_mu = system.apply(d_lam, d_mu)
    np.testing.assert_allclose(h_lam + system.reg * d_lam, -g_lam, atol=1e-9)
    free = ~system.prob.fixed_mu
    np.testing.assert_allclose((h_mu + system.reg * d_mu)[free], -g_mu[free], atol=1e-9)
    # and a whole solve, every CG attempt giving up, retraces the exact path
    r = pid(joint, on_failure="raise")
    assert r.diagnostics is not None and r.diagnostics.converged
    assert abs(r.redundancy - ref.redundancy) < 1e-12


LARGE = {
    "dirichlet(1) k=32": np.random.default_rng(32_000)
    .dirichlet(np.ones(32**3))
    .reshape(32, 32, 32),
    "plug-in k=32 n=2000": _plug_in_joint(32, 1.0, 2000, 7),
    "spike k=32": _spike(32, 3),
    # the same three kinds with k1 = 4: k2 * ky = 512 still takes the preconditioned path, at
    # a tenth of the cost (the default run; the k = 32 cases run in the slow suite)
    "dirichlet(1) 4x32x16": np.random.default_rng(32_001)
    .dirichlet(np.ones(4 * 32 * 16))
    .reshape(4, 32, 16),
    "plug-in 4x32x16 n=2000": np.random.default_rng(7)
    .multinomial(2000, np.random.default_rng(8).dirichlet(np.ones(4 * 32 * 16)))
    .reshape(4, 32, 16) / 2000,
    "spike 4x32x16": _spike_in((4, 32, 16), 3),
}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if "k=32" in n else n for n in sorted(LARGE)])
def test_large_alphabets_agree_with_the_exact_newton_solver(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """From k2 * ky >= _STRUCTURED_FROM on the preconditioned path runs; it must give the
    exact path's atoms."""
    from interplay.info.pid import broja

    p = LARGE[name]
    assert p.shape[1] * p.shape[2] >= broja._STRUCTURED_FROM
    fast = pid(p, on_failure="raise")
    monkeypatch.setattr(broja, "_STRUCTURED_FROM", 10**9)
    exact = pid(p, on_failure="raise")
    for r in (fast, exact):
        assert r.diagnostics is not None and r.diagnostics.duality_gap <= 1e-7
    np.testing.assert_allclose(list(fast.atoms.values()), list(exact.atoms.values()), atol=1e-7)


@pytest.mark.slow
def test_k64_reaches_a_certified_gap() -> None:
    p = np.random.default_rng(64_000).dirichlet(np.ones(64**3)).reshape(64, 64, 64)
    r = pid(p, on_failure="raise")
    assert r.diagnostics is not None and r.diagnostics.duality_gap <= 1e-7
    assert abs(sum(r.atoms.values()) - r.mi_joint) < 1e-9
    assert min(r.atoms.values()) >= 0.0


def test_a_boundary_optimum_is_certified() -> None:
    """Found by test_identities_hold (seed 1099): the minimiser empties two allowed cells, and
    the interior-point iterates stalled at a 0.074-bit gap. The small-block path certifies it:
    its fitted dual meets the binding constraints, with slack on the emptied cells."""
    p = np.zeros((2, 2, 2))
    p[0, 1, 0], p[0, 1, 1] = 0.17069068503595555, 0.7710815262912367
    p[1, 0, 1] = 0.05822778867280777
    p /= p.sum()
    # the feasible couplings are q(a) with a = q(0,0,1) = q(1,1,1) in [0, p(1,0,1)]; the
    # minimum of I_q(Y; X1X2) over that segment is at a = 0, i.e. at p itself
    assert pid(p).redundancy == pytest.approx(0.016248571560626, abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = pid(p)
    assert r.diagnostics is not None and r.diagnostics.converged


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    k1=st.integers(2, 4),
    k2=st.integers(2, 4),
    ky=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    zeros=st.sampled_from([0.0, 0.3, 0.6]),
    alpha=st.sampled_from([0.1, 1.0]),
)
def test_small_block_path_agrees_with_the_interior_point_method(
    k1: int, k2: int, ky: int, seed: int, zeros: float, alpha: float
) -> None:
    """The small-block solver (Newton in the feasible set's coordinates, then a barrier path)
    certifies every small table by itself, and its value agrees with the general solver's to
    within the two certified gaps."""
    from interplay.info.pid.broja import _interior_point
    from interplay.info.pid.broja_small import solve_small

    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(k1 * k2 * ky, alpha)).reshape(k1, k2, ky)
    p[rng.random(p.shape) < zeros] = 0.0
    assume(p.sum() > 0)
    p /= p.sum()
    p1, p2 = p.sum(axis=1), p.sum(axis=0)
    tol = 1e-7 * math.log(2)
    q, small = solve_small(p1, p2, tol, 200)
    assert small["gap"] <= tol, small["message"]
    np.testing.assert_allclose(q.sum(axis=1), p1, atol=1e-15)
    np.testing.assert_allclose(q.sum(axis=0), p2, atol=1e-15)
    assert q.min() >= 0.0
    m = q.sum(axis=2, keepdims=True)
    value = float(np.where(q > 0, q * np.log(np.where(q > 0, q, 1) / np.where(m > 0, m, 1)),
                           0).sum())
    assert value == pytest.approx(small["primal"], abs=1e-14)
    _, general = _interior_point(p1, p2, tol, 200, True)
    if general["gap"] <= tol:
        assert abs(small["primal"] - general["primal"]) <= small["gap"] + general["gap"] + 1e-13


@pytest.mark.parametrize("name", ["and", "xor", "rand", "boom", "not two"])
def test_small_tables_need_no_interior_point_step(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from interplay.info.pid import broja

    def no_interior_point(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a small block should be certified without the general solver")

    monkeypatch.setattr(broja, "_PrimalDual", no_interior_point)
    outcomes, truth = CASES[name]
    r = pid(_pmf(outcomes), on_failure="raise")
    np.testing.assert_allclose([r.redundancy, r.unique1, r.unique2, r.synergy], truth,
                               atol=2e-6)


def test_the_general_solver_takes_over_when_the_small_path_falls_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from interplay.info.pid import broja

    p = _random_joint((3, 3, 3), 21)
    reference = pid(p, on_failure="raise")
    real = broja.solve_small

    def uncertified(*args: Any, **kwargs: Any) -> Any:
        q, info = real(*args, **kwargs)
        return q, {**info, "gap": 1.0}

    monkeypatch.setattr(broja, "solve_small", uncertified)
    r = pid(p, on_failure="raise")
    assert r.diagnostics is not None and r.diagnostics.converged
    assert "converged" in r.diagnostics.message
    assert abs(r.redundancy - reference.redundancy) < 2e-7
