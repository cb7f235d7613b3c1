"""Gaussian PID against the oracles O1-O7 of the continuous-PID research note."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interplay.data.gaussian import (
    doubling_system,
    markov_chain,
    noisy_copies,
    sample_gaussian,
    scalar_target_system,
    unique_with_correlated_noise,
    wishart_system,
)
from interplay.exceptions import ConvergenceError, ConvergenceWarning, InvalidInputError
from interplay.info.pid.gaussian import gaussian_mi_bias, gaussian_pid, gaussian_pid_from_samples

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


def check_identities(r, atol=1e-9):
    a = r.atoms
    assert all(v >= 0 for v in a.values())
    assert a["redundancy"] + a["unique1"] == pytest.approx(r.mi_x1, abs=atol)
    assert a["redundancy"] + a["unique2"] == pytest.approx(r.mi_x2, abs=atol)
    assert sum(a.values()) == pytest.approx(r.mi_joint, abs=atol)
    assert all(math.isfinite(v) for v in (*a.values(), r.mi_joint, r.mi_x1, r.mi_x2))


def check_truth(r, truth, atol=1e-6):
    check_identities(r)
    for k in (*ATOMS, "mi_joint", "mi_x1", "mi_x2"):
        assert getattr(r, k) == pytest.approx(truth[k], abs=atol), k
    assert r.estimator == "gaussian"


@pytest.mark.parametrize("rho, synergy", [(0.0, 0.29248), (0.5, 0.11120), (0.9, 0.01874)])
def test_o1_noisy_copies(rho, synergy):
    s = noisy_copies(rho)
    r = gaussian_pid(s.cov, s.sizes)
    check_truth(r, s.truth)
    assert r.synergy == pytest.approx(synergy, abs=1e-5)
    assert r.redundancy == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("rho, mi_joint", [(0.0, 0.5), (0.5, 0.61120), (0.9, 1.32345)])
def test_o2_unique_with_correlated_noise(rho, mi_joint):
    s = unique_with_correlated_noise(rho)
    r = gaussian_pid(s.cov, s.sizes)
    check_truth(r, s.truth)
    assert r.mi_joint == pytest.approx(mi_joint, abs=1e-5)
    assert r.unique1 == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("v, red", [(0.0, 0.5), (1.0, 0.29248), (10.0, 0.06277)])
def test_o3_markov_chain(v, red):
    s = markov_chain(v)
    r = gaussian_pid(s.cov, s.sizes)
    check_truth(r, s.truth)
    assert r.redundancy == pytest.approx(red, abs=1e-5)


def test_o4_base_system_values_and_mmi_failure():
    s = doubling_system(1)
    expected = (2.29248, 0.66096, 0.29248, 1.0, 0.33904)
    r = gaussian_pid(s.cov, s.sizes)
    got = (r.mi_joint, r.unique1, r.unique2, r.redundancy, r.synergy)
    assert got == pytest.approx(expected, abs=1e-5)
    check_truth(r, s.truth)
    m = gaussian_pid(s.cov, s.sizes, method="mmi")
    assert (m.unique1, m.unique2, m.redundancy) == pytest.approx((0.36848, 0.0, 1.29248), abs=1e-5)
    assert r.diagnostics.converged and r.diagnostics.message.startswith("converged")


@pytest.mark.parametrize("k", [5, 25])
def test_o4_doubling_additivity(k):
    s = doubling_system(k, random_state=k)
    r = gaussian_pid(s.cov, s.sizes, tol=1e-6)
    check_truth(r, s.truth)
    assert r.redundancy == pytest.approx(k, abs=1e-6)


def test_o4_doubling_d100_matches_note():
    s = doubling_system(50)
    r = gaussian_pid(s.cov, s.sizes)
    check_truth(r, s.truth, atol=1e-6)
    assert (r.redundancy, r.unique1, r.unique2, r.synergy) == pytest.approx(
        (50.0, 33.048, 14.624, 16.952), abs=1e-3)


def test_o4_gain_below_one_mmi_exact():
    s = doubling_system(1, gain=0.5)
    r = gaussian_pid(s.cov, s.sizes)
    check_truth(r, s.truth)
    assert (r.mi_joint, r.unique1, r.unique2, r.redundancy) == pytest.approx(
        (1.58496, 0.0, 0.63152, 0.66096), abs=1e-5)


@pytest.mark.parametrize("d1, d2, seed", [(3, 3, 0), (10, 6, 1), (1, 4, 2)])
def test_o5_scalar_target_equals_mmi(d1, d2, seed):
    s = scalar_target_system(d1, d2, random_state=seed)
    r = gaussian_pid(s.cov, s.sizes)
    check_truth(r, s.truth, atol=1e-9)
    assert r.diagnostics.message.startswith("scalar target")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_o5_solver_agrees_with_mmi_on_padded_scalar_target(seed):
    # A second target component independent of everything forces the iterative solver; the
    # answer must still be the scalar-target MMI.
    s = scalar_target_system(3, 2, random_state=seed)
    n = s.cov.shape[0]
    cov = np.zeros((n + 1, n + 1))
    cov[:n, :n] = s.cov
    cov[n, n] = 1.0
    r = gaussian_pid(cov, (3, 2, 2), tol=1e-6)
    assert "Newton" in r.diagnostics.message  # the general solver, not the dy = 1 closed form
    check_truth(r, s.truth, atol=1e-6)


def test_fully_redundant_vector_target_has_no_nan():
    # X2 is an exact copy of X1 (singular covariance) with a 3-D target: R = I, U = S = 0.
    s = doubling_system(1)
    d = 2
    idx = np.r_[np.arange(d), np.arange(d), np.arange(2 * d, 3 * d)]
    cov = s.cov[np.ix_(idx, idx)]
    r = gaussian_pid(cov, (d, d, d))
    check_identities(r)
    assert r.redundancy == pytest.approx(r.mi_x1, abs=1e-6)
    assert r.unique1 == pytest.approx(0.0, abs=1e-6)
    assert r.synergy == pytest.approx(0.0, abs=1e-6)


def test_exact_copy_at_d20_is_settled_by_the_bounds():
    # X2 = X1 with a 20-D target: max(I1, I2) = I12, so the union information needs no solver.
    d = 20
    s = wishart_system(d, d, d, random_state=1)
    idx = np.r_[np.arange(d), np.arange(d), np.arange(2 * d, 3 * d)]
    r = gaussian_pid(s.cov[np.ix_(idx, idx)], (d, d, d))
    check_identities(r)
    assert r.diagnostics.message.startswith("closed form") and r.diagnostics.iterations == 0
    assert r.redundancy == pytest.approx(r.mi_x1, abs=1e-9)
    assert r.unique1 == pytest.approx(0.0, abs=1e-9) and r.synergy == pytest.approx(0.0, abs=1e-9)


def _random_cov(seed, d1, d2, dy):
    return wishart_system(d1, d2, dy, random_state=seed).cov


dims = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), sizes=dims)
def test_identities_and_bounds_on_random_covariances(seed, sizes):
    cov = _random_cov(seed, *sizes)
    r = gaussian_pid(cov, sizes)
    check_identities(r)
    m = gaussian_pid(cov, sizes, method="mmi")
    assert r.redundancy <= m.redundancy + 1e-6  # R_BROJA <= R_MMI
    assert r.synergy <= r.mi_joint - max(r.mi_x1, r.mi_x2) + 1e-9


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), sizes=dims)
def test_swap_and_linear_invariance(seed, sizes):
    d1, d2, dy = sizes
    cov = _random_cov(seed, *sizes)
    r = gaussian_pid(cov, sizes, tol=1e-6)
    perm = np.r_[np.arange(d1, d1 + d2), np.arange(d1), np.arange(d1 + d2, d1 + d2 + dy)]
    sw = gaussian_pid(cov[np.ix_(perm, perm)], (d2, d1, dy), tol=1e-6)
    assert (sw.unique1, sw.unique2, sw.redundancy) == pytest.approx(
        (r.unique2, r.unique1, r.redundancy), abs=1e-6)
    rng = np.random.default_rng(seed)
    a = np.eye(sum(sizes))
    for lo, hi in ((0, d1), (d1, d1 + d2), (d1 + d2, d1 + d2 + dy)):
        a[lo:hi, lo:hi] = rng.standard_normal((hi - lo, hi - lo)) + 3 * np.eye(hi - lo)
    tr = gaussian_pid(a @ cov @ a.T, sizes, tol=1e-6)
    # log-determinants of near-singular covariances (I(X1,X2;Y) reaches ~15 bits here) lose
    # digits in proportion to the information, hence a relative term in the tolerance
    assert [tr.atoms[k] for k in ATOMS] == pytest.approx(
        [r.atoms[k] for k in ATOMS], rel=5e-6, abs=1e-5)


def test_base_e_is_bits_times_ln2():
    s = doubling_system(2)
    bits = gaussian_pid(s.cov, s.sizes, tol=1e-6)
    nats = gaussian_pid(s.cov, s.sizes, base="e", tol=1e-6)
    assert nats.units == "nats"
    assert nats.redundancy == pytest.approx(bits.redundancy * math.log(2), abs=1e-6)


def test_nonconvergence_warns_or_raises():
    s = wishart_system(4, 4, 4, random_state=3)
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        r = gaussian_pid(s.cov, s.sizes, max_iter=1, tol=1e-12)
    assert not r.diagnostics.converged
    with pytest.raises(ConvergenceError):
        gaussian_pid(s.cov, s.sizes, max_iter=1, tol=1e-12, on_failure="raise")


@pytest.mark.parametrize(
    "cov, sizes, match",
    [
        (np.diag([1.0, 1.0, -1.0]), (1, 1, 1), "positive semidefinite"),
        (np.eye(3), (1, 1, 2), "add up"),
        (np.eye(3), (1, 1), "three positive integers"),
        (np.eye(3), (0, 2, 1), ">= 1"),
        (np.array([[1.0, np.nan, 0], [np.nan, 1, 0], [0, 0, 1]]), (1, 1, 1), "NaN"),
        (np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]), (1, 1, 1), "symmetric"),
        (np.ones((3, 2)), (1, 1, 1), "square"),
        (np.array([[1.0, 1, 1], [1, 1, 1], [1, 1, 1]]), (1, 1, 1), "infinite"),
    ],
)
def test_bad_inputs(cov, sizes, match):
    with pytest.raises(InvalidInputError, match=match):
        gaussian_pid(cov, sizes)


def test_bad_options():
    s = noisy_copies(0.0)
    with pytest.raises(InvalidInputError, match="method"):
        gaussian_pid(s.cov, s.sizes, method="ccs")
    with pytest.raises(InvalidInputError, match="on_failure"):
        gaussian_pid(s.cov, s.sizes, on_failure="ignore")
    with pytest.raises(InvalidInputError, match="tol"):
        gaussian_pid(s.cov, s.sizes, tol=0)


def test_o7_bias_formula_matches_monte_carlo():
    # Mean plug-in MI over many draws exceeds the truth by gaussian_mi_bias.
    s = doubling_system(1)
    n, reps = 40, 400
    d1, _, dy = s.sizes
    raw = []
    for rep in range(reps):
        x1, x2, y = sample_gaussian(s, n, random_state=rep)
        r = gaussian_pid_from_samples(x1, x2, y, method="mmi", bias_correction=False)
        raw.append(r.mi_x1)
    excess = np.mean(raw) - s.truth["mi_x1"]
    se = np.std(raw) / math.sqrt(reps)
    assert excess == pytest.approx(gaussian_mi_bias(d1, dy, n), abs=4 * se)
    assert excess > 4 * se  # the bias is real at this size


def test_bias_corrected_sample_pid_near_truth():
    s = doubling_system(2)
    x1, x2, y = sample_gaussian(s, 4000, random_state=0)
    raw = gaussian_pid_from_samples(x1, x2, y, bias_correction=False)
    cor = gaussian_pid_from_samples(x1, x2, y)
    assert cor.n_samples == 4000 and cor.estimator == "gaussian"
    check_identities(cor)
    assert cor.mi_joint < raw.mi_joint
    for k in ATOMS:
        assert cor.atoms[k] == pytest.approx(s.truth[k], abs=0.1)


def test_from_samples_bad_inputs():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 2))
    with pytest.raises(InvalidInputError, match="same number of rows"):
        gaussian_pid_from_samples(a, a[:40], a)
    with pytest.raises(InvalidInputError, match="NaN"):
        gaussian_pid_from_samples(np.full((50, 1), np.nan), a, a)
    with pytest.raises(InvalidInputError, match="more samples"):
        gaussian_pid_from_samples(a[:5], a[:5], a[:5])
    with pytest.raises(InvalidInputError, match="n_samples"):
        gaussian_mi_bias(3, 3, 6)


def _union_by_cvxpy(cov, d1, d2, dy):
    """Reference: max log det Cov(Y | X1, X2) over the free block Cov(X1, X2), as an SDP."""
    cp = pytest.importorskip("cvxpy")
    d = d1 + d2
    cross = cp.Variable((d1, d2))
    cond = cp.Variable((dy, dy), symmetric=True)
    kxx = cp.bmat([[cov[:d1, :d1], cross], [cross.T, cov[d1:d, d1:d]]])
    lmi = cp.bmat([[kxx, cov[:d, d:]], [cov[d:, :d], cov[d:, d:] - cond]])
    prob = cp.Problem(cp.Maximize(cp.log_det(cond)), [(lmi + lmi.T) / 2 >> 0])
    prob.solve(solver=cp.CLARABEL)
    return 0.5 * (np.linalg.slogdet(cov[d:, d:])[1] - prob.value) / math.log(2)


@pytest.mark.parametrize("seed, sizes", [(0, (2, 2, 2)), (1, (3, 2, 2)), (2, (2, 3, 3)),
                                         (3, (1, 3, 2))])
def test_union_information_agrees_with_generic_sdp_solver(seed, sizes):
    s = wishart_system(*sizes, random_state=seed)
    r = gaussian_pid(s.cov, sizes, tol=1e-8)
    assert r.mi_joint - r.synergy == pytest.approx(_union_by_cvxpy(s.cov, *sizes), abs=1e-6)


def _solver_setup(system):
    from interplay.info.pid import gaussian as g
    from interplay.info.pid import gaussian_broja as gb

    ch = g._Channels(system.cov, *system.sizes)
    return ch, gb.BrojaObjective(ch.h1, ch.h2)


def _union_bits(ch, f_nats):
    return (ch.i1 + ch.i2 + f_nats) / math.log(2)


def test_projected_gradient_fallback_reaches_the_newton_answer():
    # The fallback used when Newton stops early must reach the same optimum on its own.
    from interplay.info.pid import gaussian_broja as gb

    s = doubling_system(2, random_state=4)
    ch, obj = _solver_setup(s)
    _, f_pg, _, gap, iters = gb._fista(obj, np.zeros(obj.shape), 1e-7, 5000)
    assert iters > 0 and gap < 1e-5
    assert _union_bits(ch, f_pg) == pytest.approx(s.truth["mi_joint"] - s.truth["synergy"],
                                                  abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_interior_point_path_agrees_with_damped_newton(seed):
    # The barrier path (used when the optimum is on the sphere) from a zero start must land on
    # the damped-Newton optimum.
    from interplay.info.pid import gaussian_broja as gb

    s = wishart_system(6, 5, 4, random_state=seed)
    _, obj = _solver_setup(s)
    start = gb.start_point(obj)
    plain, gap_plain, _ = gb._newton(obj, start, 1e-10, 100, mu_start=0.0)
    barrier, gap_barrier, it = gb._newton(obj, np.zeros(obj.shape), 1e-10, 500, mu_start=1e-2)
    assert gap_plain <= 1e-10 and gap_barrier <= 1e-10 and it > 1
    assert barrier.f == pytest.approx(plain.f, abs=1e-9)


def _coupled_union_nats(ch, sigma):
    """I_Q(Y; X1, X2) straight from the joint covariance of the coupling (no reduction)."""
    h = np.vstack([ch.h1, ch.h2])
    k1, k2 = ch.h1.shape[0], ch.h2.shape[0]
    noise = np.block([[np.eye(k1), sigma], [sigma.T, np.eye(k2)]])
    return 0.5 * (np.linalg.slogdet(h @ h.T + noise)[1] - np.linalg.slogdet(noise)[1])


@pytest.mark.parametrize("seed, sizes", [(0, (3, 3, 3)), (1, (5, 2, 4)), (2, (2, 4, 6))])
def test_reduced_objective_and_gradient_match_direct_formula(seed, sizes):
    # f = phi(Sigma) - phi(T) must equal I_Q(Y; X1, X2) - I(X1;Y) - I(X2;Y), computed from the
    # full coupled covariance, and its gradient must match central differences.
    s = wishart_system(*sizes, random_state=seed)
    ch, obj = _solver_setup(s)
    rng = np.random.default_rng(seed)
    sigma = rng.standard_normal(obj.shape)
    sigma *= 0.9 / np.linalg.norm(sigma, 2)
    f, grad = obj.value_grad(sigma)
    assert f == pytest.approx(_coupled_union_nats(ch, sigma) - ch.i1 - ch.i2, abs=1e-10)
    eps = 1e-6
    fd = np.zeros(obj.shape)
    for idx in np.ndindex(*obj.shape):
        e = np.zeros(obj.shape)
        e[idx] = eps
        fd[idx] = (obj.value(sigma + e) - obj.value(sigma - e)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, atol=1e-6)
    assert obj.value(sigma / np.linalg.norm(sigma, 2) * 1.01) == math.inf


@pytest.mark.parametrize("kind", ["_EigenSystem", "_SingularSystem"])
@pytest.mark.parametrize("mu", [0.0, 0.05])
def test_newton_systems_are_the_hessian_in_their_frames(kind, mu):
    # Each frame's operator must equal the Hessian of f + 2 mu phi(Sigma) (central differences
    # of the gradient) carried into that frame, and its right-hand side minus the gradient.
    from interplay.info.pid import gaussian_broja as gb

    s = wishart_system(4, 3, 3, random_state=5)
    _, obj = _solver_setup(s)
    rng = np.random.default_rng(0)
    sigma = rng.standard_normal(obj.shape)
    sigma *= 0.7 / np.linalg.norm(sigma, 2)
    system = getattr(gb, kind)(obj, gb._state(obj, sigma), mu)

    def grad(x):
        st = gb._state(obj, x)
        return st.grad + 2 * mu * st.cs.gradient()

    e = rng.standard_normal(obj.shape)
    d = system.to_sigma(e)
    eps = 1e-6
    hd = (grad(sigma + eps * d) - grad(sigma - eps * d)) / (2 * eps)
    np.testing.assert_allclose(system.hess(e), system.to_frame(hd), atol=1e-6)
    np.testing.assert_allclose(system.to_frame(grad(sigma)), -system.rhs, atol=1e-12)
    # the preconditioner is symmetric positive definite
    r1, r2 = rng.standard_normal((2, *obj.shape))
    assert np.sum(r1 * system.precond(r2)) == pytest.approx(np.sum(r2 * system.precond(r1)))
    assert np.sum(r1 * system.precond(r1)) > 0


def test_start_point_is_the_optimum_when_the_system_splits_into_scalar_pairs():
    from interplay.info.pid import gaussian_broja as gb

    s = doubling_system(3, random_state=2)
    _, obj = _solver_setup(s)
    x0 = gb.start_point(obj)
    st = gb._state(obj, x0)
    assert gb.duality_gap(x0, st.grad) <= gb.gap_bound(x0, st.grad) < 1e-9
    r = gaussian_pid(s.cov, s.sizes)
    assert r.diagnostics.converged and r.diagnostics.iterations == 0  # certified at the start


def test_range_basis_whitens_and_drops_null_directions():
    from interplay.info.pid import gaussian as g

    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 4))
    block = a @ a.T  # rank 4
    t = g._range_basis(block)
    assert t.shape == (6, 4)
    np.testing.assert_allclose(t.T @ block @ t, np.eye(4), atol=1e-10)
    assert g._range_basis(np.zeros((3, 3))).shape == (3, 0)


def test_d100_wishart_is_certified():
    s = wishart_system(100, 100, 100)
    r = gaussian_pid(s.cov, s.sizes, tol=1e-6)
    check_identities(r, atol=1e-8)
    assert r.diagnostics.converged and r.diagnostics.duality_gap <= 1e-6
