"""Solver for the exact BROJA union information of a Gaussian broadcast channel.

Setting (prepared by :mod:`interplay.info.pid.gaussian`): Y is whitened and each source is
``Xi = Hi Y + Ni`` with ``Cov(Ni) = I`` and orthogonal rows in ``Hi`` (``Hi Hi^T`` diagonal).
The couplings with the (X1, Y) and (X2, Y) marginals differ only in ``Sigma = Cov(N1, N2)``,
any ``k1 x k2`` matrix with spectral norm <= 1. With ``phi(Z) = -1/2 log det(I - Z Z^T)``, the
Gaussian MI of a pair whose canonical cross-correlation is ``Z``,

    I_Q(Y; X1, X2) = I(X1;Y) + I(X2;Y) + phi(Sigma) - phi(T),
    T = A (Sigma + H1 H2^T) B,   A = (I + H1 H1^T)^-1/2,   B = (I + H2 H2^T)^-1/2,

because ``phi(Sigma) = I(X1;X2|Y)``, ``phi(T) = I(X1;X2)`` and ``I(Y;X1,X2) = I(X1;Y) + I(X2;Y)
+ I(X1;X2|Y) - I(X1;X2)``. The union information therefore minimises ``f = phi(Sigma) - phi(T)``,
a convex function of Sigma (Venkatesh et al. 2023; Zhao et al. 2025 write it as one log-det of
side k1 + k2), evaluated here with two Cholesky factorisations of side ``min(k1, k2)``.

``f`` grows without bound at the unit sphere unless the aligned noise directions carry identical
signal, so the optimum is interior except in degenerate cases (exact copies, directions without
signal). :func:`solve_union` runs damped Newton first; its Hessian is

    D -> Pc D Qc + Rc D^T Rc - (Ka D Kc + Kb D^T Kb),

with ``Pc, Qc`` the diagonal blocks of ``[[I, Sigma], [Sigma^T, I]]^-1``, ``Rc`` the gradient of
``phi(Sigma)``, and ``Ka, Kb, Kc`` the same blocks of ``T`` scaled by ``A`` and ``B``. In the
generalised eigenbases ``W1`` of ``(Ka, Pc)`` and ``W2`` of ``(Kc, Qc)`` the untransposed part
is diagonal, ``E -> E * (1 - l_i m_j)`` with ``D = W1 E W2^T``; conjugate gradients in those
coordinates with that diagonal as preconditioner need a handful of Hessian products per step.
The degenerate cases fall back to the interior-point path (``f + 2 mu phi(Sigma)`` for decreasing
``mu``) and then to accelerated projected gradient. The answer is certified by the Frank-Wolfe
duality gap ``<grad, Sigma> + ||grad||_*``, an upper bound on ``f(Sigma) - min f``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..._lazy import lazy_module
from .result import SolverDiagnostics

linalg = lazy_module("scipy.linalg")
lapack = lazy_module("scipy.linalg.lapack")

__all__ = ["BrojaObjective", "solve_union"]

#: Singular values of Sigma are kept at most this far below 1 by the projection.
_EDGE = 1e-9
#: Smallest diagonal of the preconditioner, relative to the C part (which is 1 in its frame).
_PRECOND_FLOOR = 1e-3
#: Singular values of the start are kept at most this far below 1.
_START_EDGE = 1e-3
#: Damped Newton steps before the degenerate-case fallbacks take over (interior optima of
#: random covariances need 2-12).
_NEWTON_STEPS = 15


class _Outside(Exception):
    """The matrix is not inside the open unit ball."""


def thin_svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Economy SVD ``U, s, V^T`` (divide and conquer, QR iteration where that fails)."""
    try:
        return linalg.svd(a, full_matrices=False, lapack_driver="gesdd", check_finite=False)
    except linalg.LinAlgError:
        return linalg.svd(a, full_matrices=False, lapack_driver="gesvd", check_finite=False)


class _Contraction:
    """``Z`` in the open unit ball with ``phi(Z) = -1/2 log det(I - Z Z^T)`` and its derivatives.

    Factorises ``I - Z Z^T`` or ``I - Z^T Z``, whichever is smaller; raises :class:`_Outside`
    when that fails.
    """

    def __init__(self, z: np.ndarray) -> None:
        self.z = z
        self._wide = z.shape[0] <= z.shape[1]
        m = -(z @ z.T) if self._wide else -(z.T @ z)
        m[np.diag_indices_from(m)] += 1.0
        chol, info = lapack.dpotrf(m, lower=1, clean=1, overwrite_a=1)
        diag = np.diag(chol)
        if info != 0 or not np.all(diag > 0):
            raise _Outside
        self._chol = chol
        self.phi = -float(np.sum(np.log(diag)))
        self._inv: np.ndarray | None = None
        self._grad: np.ndarray | None = None

    def _small_inverse(self) -> np.ndarray:
        if self._inv is None:
            inv, _ = lapack.dpotri(self._chol, lower=1)
            self._inv = np.tril(inv) + np.tril(inv, -1).T
        return self._inv

    def gradient(self) -> np.ndarray:
        """``(I - Z Z^T)^-1 Z``, the gradient of ``phi``."""
        if self._grad is None:
            inv = self._small_inverse()
            self._grad = inv @ self.z if self._wide else self.z @ inv
        return self._grad

    def inverse_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """``(I - Z Z^T)^-1`` and ``(I - Z^T Z)^-1`` (one from the factor, one by Woodbury)."""
        inv, grad = self._small_inverse(), self.gradient()
        other = (self.z.T @ grad) if self._wide else (grad @ self.z.T)
        other[np.diag_indices_from(other)] += 1.0
        return (inv, other) if self._wide else (other, inv)


class BrojaObjective:
    """``f(Sigma) = phi(Sigma) - phi(A (Sigma + H1 H2^T) B)`` in nats (module docstring).

    Parameters
    ----------
    h1, h2 : ndarray of shape (k1, ry) and (k2, ry)
        Whitened channel gains with orthogonal rows.
    """

    def __init__(self, h1: np.ndarray, h2: np.ndarray) -> None:
        self.a = 1.0 / np.sqrt(1.0 + np.einsum("ij,ij->i", h1, h1))
        self.b = 1.0 / np.sqrt(1.0 + np.einsum("ij,ij->i", h2, h2))
        self.m = h1 @ h2.T
        self.shape = self.m.shape

    def _t(self, sigma: np.ndarray) -> np.ndarray:
        return self.a[:, None] * (sigma + self.m) * self.b[None, :]

    def parts(self, sigma: np.ndarray) -> tuple[_Contraction, _Contraction]:
        """``phi`` at Sigma and at T; raises :class:`_Outside` outside the ball."""
        return _Contraction(sigma), _Contraction(self._t(sigma))

    def value(self, sigma: np.ndarray) -> float:
        """``f(Sigma)``, or infinity outside the open ball."""
        try:
            cs, ct = self.parts(sigma)
        except _Outside:
            return math.inf
        return cs.phi - ct.phi

    def gradient(self, cs: _Contraction, ct: _Contraction) -> np.ndarray:
        """``grad f = Rc - A Rt B`` from the two parts (``R`` the gradients of ``phi``)."""
        return cs.gradient() - self.a[:, None] * ct.gradient() * self.b[None, :]

    def value_grad(self, sigma: np.ndarray) -> tuple[float, np.ndarray | None]:
        """``f(Sigma)`` and its gradient; ``(inf, None)`` outside the ball."""
        try:
            cs, ct = self.parts(sigma)
        except _Outside:
            return math.inf, None
        return cs.phi - ct.phi, self.gradient(cs, ct)


# --------------------------------------------------------------------------- certificate


def _inside(a: np.ndarray) -> bool:
    """True when ``||a||_2 <= 1 - _EDGE``, tested by a Cholesky factorisation (no SVD)."""
    small = a if a.shape[0] <= a.shape[1] else a.T
    m = -(small @ small.T)
    m[np.diag_indices_from(m)] += (1 - _EDGE) ** 2
    _, info = lapack.dpotrf(m, lower=1, clean=0, overwrite_a=1)
    return info == 0


def project(a: np.ndarray) -> np.ndarray:
    """Euclidean projection onto ``{||Sigma||_2 <= 1 - _EDGE}`` (clamp the singular values)."""
    if _inside(a):
        return a
    u, s, vt = thin_svd(a)
    return (u * np.minimum(s, 1 - _EDGE)) @ vt


def duality_gap(sigma: np.ndarray, g: np.ndarray) -> float:
    """Frank-Wolfe gap ``<g, Sigma> + ||g||_*``: f(Sigma) - f* is at most this (f convex)."""
    try:
        nuclear = float(np.sum(linalg.svdvals(g, check_finite=False)))
    except linalg.LinAlgError:
        nuclear = float(np.sum(thin_svd(g)[1]))
    return max(float(np.sum(g * sigma)) + nuclear, 0.0)


def gap_bound(sigma: np.ndarray, g: np.ndarray) -> float:
    """``<g, Sigma> + sqrt(rank) ||g||_F``, an upper bound on :func:`duality_gap` without SVD."""
    return max(float(np.sum(g * sigma)) + math.sqrt(min(g.shape)) * float(np.linalg.norm(g)),
               0.0)


# --------------------------------------------------------------------------- Newton


@dataclass
class _State:
    """An iterate ``x`` with ``f(x)``; the gradient is formed on first use."""

    x: np.ndarray
    f: float
    cs: _Contraction
    ct: _Contraction
    obj: BrojaObjective

    @property
    def grad(self) -> np.ndarray:
        return self.obj.gradient(self.cs, self.ct)


def _state(obj: BrojaObjective, x: np.ndarray) -> _State | None:
    try:
        cs, ct = obj.parts(x)
    except _Outside:
        return None
    return _State(x, cs.phi - ct.phi, cs, ct, obj)


@dataclass
class _Blocks:
    """Pieces of the gradient and Hessian at a state (module docstring)."""

    rc: np.ndarray
    ka: np.ndarray
    kb: np.ndarray
    kc: np.ndarray

    @classmethod
    def at(cls, st: _State) -> _Blocks:
        rt = st.ct.gradient()
        pt, qt = st.ct.inverse_blocks()
        a, b = st.obj.a, st.obj.b
        return cls(st.cs.gradient(), a[:, None] * pt * a[None, :],
                   a[:, None] * rt * b[None, :], b[:, None] * qt * b[None, :])


class _EigenSystem:
    """The Newton system of ``f + 2 mu phi(Sigma)`` in generalised eigenbases (interior phase).

    With ``D = W1 E W2^T``, ``W1^T (wc Pc) W1 = I``, ``W1^T Ka W1 = diag(l)``,
    ``W2^T Qc W2 = I`` and ``W2^T Kc W2 = diag(m)`` (``wc = 1 + 2 mu``), the Hessian becomes
    ``E -> E * (1 - l_i m_j) + wc Rw E^T Rw - Kw E^T Kw`` (``Rw = W1^T Rc W2``,
    ``Kw = W1^T Kb W2``): symmetric, and diagonal but for the transposed terms, so
    ``1 / (1 - l_i m_j)`` (floored) preconditions it well inside the ball. ``rhs`` is minus
    the gradient in these coordinates.
    """

    rtol_cap, max_cg = 0.5, 100

    def __init__(self, obj: BrojaObjective, st: _State, mu: float) -> None:
        self.wc = wc = 1.0 + 2.0 * mu
        bl = _Blocks.at(st)
        pc, qc = st.cs.inverse_blocks()
        l1, self.w1 = linalg.eigh(bl.ka, wc * pc, driver="gvd", check_finite=False)
        l2, self.w2 = linalg.eigh(bl.kc, qc, driver="gvd", check_finite=False)
        self.diag = 1.0 - l1[:, None] * l2[None, :]
        self._inv_diag = 1.0 / np.maximum(self.diag, _PRECOND_FLOOR)
        self.rw = self.to_frame(bl.rc)
        self.kw = self.to_frame(bl.kb)
        self.rhs = -self.to_frame(wc * bl.rc - bl.kb)

    def hess(self, e: np.ndarray) -> np.ndarray:
        et = e.T
        return self.diag * e + self.wc * (self.rw @ et @ self.rw) - self.kw @ et @ self.kw

    def precond(self, r: np.ndarray) -> np.ndarray:
        return self._inv_diag * r

    def to_frame(self, g: np.ndarray) -> np.ndarray:
        """A gradient-like matrix in these coordinates, ``W1^T g W2``."""
        return self.w1.T @ g @ self.w2

    def to_sigma(self, e: np.ndarray) -> np.ndarray:
        return self.w1 @ e @ self.w2.T


class _SingularSystem:
    """The same Newton system in Sigma's singular bases (interior-point phase, near the sphere).

    With ``Sigma = U diag(s) V^T`` and ``D~ = U^T D V``, the barrier-weighted part
    ``wc (Pc D Qc + Rc D^T Rc)`` is ``wc (D~_ij + s_i s_j D~_ji) / ((1 - s_i^2)(1 - s_j^2))``
    (``s`` padded with zeros), whose inverse on each pair (i, j), (j, i) is a closed-form
    2 x 2 solve: the preconditioner. It stays exact as singular values approach 1, where the
    eigenbasis preconditioner (which ignores the transposed terms) degrades.
    """

    rtol_cap, max_cg = 0.3, 200

    def __init__(self, obj: BrojaObjective, st: _State, mu: float) -> None:
        self.wc = wc = 1.0 + 2.0 * mu
        bl = _Blocks.at(st)
        k1, k2 = obj.shape
        self.u, s, self.vt = linalg.svd(st.x, full_matrices=True, lapack_driver="gesvd",
                                        check_finite=False)
        self.r = s.size
        sp, sq = np.zeros(k1), np.zeros(k2)
        sp[:self.r], sq[:self.r] = s, s
        self.prod = sp[:, None] * sq[None, :]
        self.inv_e = 1.0 / ((1 - sp**2)[:, None] * (1 - sq**2)[None, :])
        self.ka = self.u.T @ bl.ka @ self.u
        self.kc = self.vt @ bl.kc @ self.vt.T
        self.kb = self.to_frame(bl.kb)
        self.rhs = -self.to_frame(wc * bl.rc - bl.kb)

    def _swap(self, a: np.ndarray) -> np.ndarray:
        out = np.zeros_like(a)
        out[:self.r, :self.r] = a[:self.r, :self.r].T
        return out

    def hess(self, d: np.ndarray) -> np.ndarray:
        barrier = (d + self.prod * self._swap(d)) * self.inv_e
        return self.wc * barrier - self.ka @ d @ self.kc - self.kb @ d.T @ self.kb

    def precond(self, r: np.ndarray) -> np.ndarray:
        return (r - self.prod * self._swap(r)) / (self.wc * self.inv_e * (1 - self.prod**2))

    def to_frame(self, g: np.ndarray) -> np.ndarray:
        """A gradient-like matrix in these coordinates, ``U^T g V``."""
        return self.u.T @ g @ self.vt.T

    def to_sigma(self, e: np.ndarray) -> np.ndarray:
        return self.u @ e @ self.vt


def _newton_direction(obj: BrojaObjective, st: _State, mu: float) -> np.ndarray:
    """Inexact Newton step (CG to a relative residual of ``min(cap, sqrt(|grad|))``).

    The eigenbasis system for plain damped Newton (``mu = 0``), the singular-basis one on the
    interior-point path.
    """
    system = _EigenSystem(obj, st, mu) if mu == 0 else _SingularSystem(obj, st, mu)
    rtol = min(system.rtol_cap, math.sqrt(float(np.linalg.norm(system.rhs))))
    e = _cg(system.hess, system.rhs, system.precond, rtol=rtol, max_iter=system.max_cg)
    return system.to_sigma(e)


def _cg(op: Callable[[np.ndarray], np.ndarray], b: np.ndarray,
        precond: Callable[[np.ndarray], np.ndarray], rtol: float, max_iter: int) -> np.ndarray:
    """Preconditioned conjugate gradients for ``op(x) = b`` (``op`` symmetric PSD).

    Returns the preconditioned right-hand side (a descent direction) if no progress is made.
    """
    x = np.zeros_like(b)
    r = b.copy()
    z = precond(r)
    p = z.copy()
    rz = float(np.sum(r * z))
    stop = (rtol**2) * float(np.sum(r * r))
    for _ in range(max_iter):
        ap = op(p)
        pap = float(np.sum(p * ap))
        if not pap > 0:
            break
        alpha = rz / pap
        x += alpha * p
        r -= alpha * ap
        if float(np.sum(r * r)) <= stop:
            break
        z = precond(r)
        rz_new = float(np.sum(r * z))
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x if np.any(x) else precond(b)


def _newton(obj: BrojaObjective, x: np.ndarray, tol: float, max_iter: int, mu_start: float
            ) -> tuple[_State, float, int]:
    """Damped Newton on ``f + 2 mu phi(Sigma)`` (``mu = 0``: on ``f`` itself).

    Backtracking keeps the iterate inside the ball. With ``mu_start > 0`` this is the
    interior-point path: each centring ends when the Newton decrement is small, then ``mu``
    drops 30-fold until ``(k1 + k2) mu`` is below the tolerance. Stops once the Frank-Wolfe
    gap of ``f`` meets ``tol`` (checked first through :func:`gap_bound`, which needs no SVD);
    returns the state, the certified gap and the iteration count.
    """
    k1, k2 = obj.shape
    mu_final = tol / (10.0 * (k1 + k2))
    mu = max(mu_start, mu_final) if mu_start > 0 else 0.0
    st = _state(obj, x)
    if st is None:
        raise ValueError("the Newton start must lie inside the unit ball")
    it = 0
    while True:
        if mu <= mu_final:
            gap = gap_bound(st.x, st.grad)
            if gap <= tol:
                return st, gap, it
        if it >= max_iter:
            break
        it += 1
        step = _newton_direction(obj, st, mu)
        grad = st.grad + 2.0 * mu * st.cs.gradient()
        slope = float(np.sum(grad * step))
        if not slope < 0:
            break
        phi = st.f + 2.0 * mu * st.cs.phi
        alpha, slack = 1.0, 1e-13 * max(1.0, abs(phi))
        new = None
        while alpha > 1e-10:
            cand = _state(obj, st.x + alpha * step)
            if cand is not None and (cand.f + 2.0 * mu * cand.cs.phi
                                     <= phi + 1e-4 * alpha * slope + slack):
                new = cand
                break
            alpha /= 2
        if new is None:
            break
        st = new
        if -slope <= max(1e-3 * mu, 0.1 * tol):  # small Newton decrement: centred for this mu
            if mu <= mu_final:
                gap = duality_gap(st.x, st.grad)
                if gap <= tol:
                    return st, gap, it
            else:
                mu = max(mu / 30.0, mu_final)
    return st, duality_gap(st.x, st.grad), it


# --------------------------------------------------------------------------- projected gradient


def _fista(obj: BrojaObjective, x: np.ndarray, tol: float, max_iter: int
           ) -> tuple[np.ndarray, float, np.ndarray, float, int]:
    """Accelerated projected gradient with backtracking and adaptive restart.

    The duality gap is evaluated every five iterations; the run stops when it has not improved
    for ten evaluations while the objective stayed flat (the round-off floor).
    """
    fx, gx = obj.value_grad(x)
    if gx is None:
        raise ValueError("the projected-gradient start must lie inside the unit ball")
    y, fy, gy = x, fx, gx
    t, lip, it, stalled = 1.0, 1.0, 0, 0
    gap = best_gap = duality_gap(x, gx)
    f_check = fx
    while gap > tol and it < max_iter and stalled < 10:
        it += 1
        slack = 1e-13 * max(1.0, abs(fy))  # f is known to round-off only
        while True:  # backtracking on the Lipschitz estimate
            z = project(y - gy / lip)
            diff = z - y
            fz, gz = obj.value_grad(z)
            bound = fy + float(np.sum(gy * diff)) + 0.5 * lip * float(np.sum(diff * diff))
            if fz <= bound + slack or lip > 1e20:
                break
            lip *= 2.0
        if gz is None or fz > fx + slack:  # the momentum overshot: restart from x
            t, y, fy, gy = 1.0, x, fx, gx
            continue
        t_next = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        y = z + ((t - 1) / t_next) * (z - x)
        t = t_next
        if not _inside(y):  # extrapolating out of the ball: restart the momentum instead
            y, t = z, 1.0
        x, fx, gx = z, fz, gz
        if it % 5 == 0:  # stop when the certificate no longer improves (round-off floor)
            gap = duality_gap(x, gx)
            flat = f_check - fx <= 1e-11 * max(1.0, abs(fx))
            stalled = stalled + 1 if gap > 0.99 * best_gap and flat else 0
            best_gap, f_check = min(gap, best_gap), fx
        fy, gy_new = obj.value_grad(y)
        if gy_new is None:
            y, fy, gy, t = x, fx, gx, 1.0
        else:
            gy = gy_new
        lip /= 1.5
    return x, fx, gx, duality_gap(x, gx), it


# --------------------------------------------------------------------------- driver


def start_point(obj: BrojaObjective) -> np.ndarray:
    """Noise coupling aligned as the gains are: the better of two guesses from one SVD.

    ``F = H1 pinv(H2)`` (or ``(H2 pinv(H1))^T`` when X1 has more signal directions; the rows
    of Hi are orthogonal, so ``pinv(Hi) = Hi^T diag(1 / gi^2)``) maps the noise of one source
    onto the other as their gains would. For one scalar pair with gains ``a, b`` the optimum is
    ``rho = min(a / b, b / a)`` (the weaker source a degraded copy of the stronger), so the
    first guess maps each singular value ``f`` of F to ``min(f, 1 / f)``: exact whenever the
    system splits into scalar pairs (as the doubling oracle does). The second is F clamped into
    the ball and halved. The one with the smaller objective is returned.
    """
    g1, g2 = 1.0 / obj.a**2 - 1.0, 1.0 / obj.b**2 - 1.0  # squared gains
    f = obj.m / g1[:, None] if obj.shape[0] >= obj.shape[1] else obj.m / g2[None, :]
    u, s, vt = thin_svd(f)
    inverted = np.minimum(np.minimum(s, 1.0 / np.maximum(s, 1e-300)), 1.0 - _START_EDGE)
    guesses = [(u * inverted) @ vt, (u * (0.5 * np.minimum(s, 1.0 - _EDGE))) @ vt]
    return min(guesses, key=obj.value)


def solve_union(h1: np.ndarray, h2: np.ndarray, tol: float, max_iter: int
                ) -> tuple[float, SolverDiagnostics]:
    """``min_Sigma f(Sigma)`` in nats (add ``I(X1;Y) + I(X2;Y)`` for the union information).

    Damped Newton from :func:`start_point`; if it has not certified ``tol`` after
    ``_NEWTON_STEPS`` steps (an optimum on the sphere), the interior-point path from the same
    start, then accelerated projected gradient. Returns the minimum and diagnostics (gap in
    nats).
    """
    begin = time.perf_counter()
    obj = BrojaObjective(h1, h2)
    x0 = start_point(obj)
    st, gap, it_newton = _newton(obj, x0, tol, min(max_iter, _NEWTON_STEPS), mu_start=0.0)
    # Each phase certifies f* >= f(x) - gap(x); keep the best value and the best lower bound.
    values, lower = [st.f], st.f - gap
    it_pg = 0
    if gap > tol and it_newton < max_iter:
        st_b, gap_b, it_b = _newton(obj, x0, tol, max_iter - it_newton, mu_start=1e-2)
        it_newton += it_b
        values.append(st_b.f)
        lower = max(lower, st_b.f - gap_b)
        gap = min(values) - lower
        if gap > tol and it_newton < max_iter:
            x = st_b.x if st_b.f <= st.f else st.x
            _, f_pg, _, gap_pg, it_pg = _fista(obj, x, tol, max_iter - it_newton)
            values.append(f_pg)
            lower = max(lower, f_pg - gap_pg)
    fx = min(values)
    gap = max(fx - lower, 0.0)
    it = it_newton + it_pg
    diag = SolverDiagnostics(
        converged=gap <= tol,
        iterations=it,
        duality_gap=gap,
        primal_residual=0.0,
        tolerance=tol,
        seconds=time.perf_counter() - begin,
        message=(f"{'converged' if gap <= tol else 'stopped'} after {it_newton} Newton "
                 f"and {it_pg} projected-gradient iterations"),
    )
    return fx, diag
