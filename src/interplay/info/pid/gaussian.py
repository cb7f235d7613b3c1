"""Partial information decomposition of jointly Gaussian variables.

For Gaussian (X1, X2, Y) the BROJA union information
``I_u = min_Q I_Q(Y; X1, X2)`` over couplings Q with the (X1, Y) and (X2, Y) marginals of P is
attained by a Gaussian Q (Zhao et al. 2025), so the problem reduces to one matrix. Whiten Y and
each source's noise given Y: ``Xi = Hi Y + Ni`` with ``Cov(Y) = I`` and ``Cov(Ni) = I``. The
couplings differ only in ``Sigma = Cov(N1, N2)``, any matrix with spectral norm <= 1, and

    I_Q(Y; X1, X2) = -1/2 log det(I - H^T (H H^T + C)^-1 H),   C = [[I, Sigma], [Sigma^T, I]],

which is convex in Sigma (a log-det of a Schur complement, concave in the covariance, is
negated). :func:`gaussian_pid` minimises it with Newton steps: plain ones when the optimum lies
well inside the ball, otherwise steps on ``f(Sigma) - mu log det C`` for decreasing ``mu``
(interior point). Each step is solved by conjugate gradients on exact Hessian-vector products
in Sigma's singular bases, where the barrier part of the Hessian is inverted in closed form
and serves as preconditioner. Accelerated projected gradient (the
projection onto the spectral-norm ball is a singular-value clamp) finishes any case the Newton
phase leaves above the tolerance. The result is certified by the Frank-Wolfe / Lagrangian
duality gap ``<grad, Sigma> + ||grad||_*``, an upper bound on the distance to the optimum.
Source directions that carry no signal about Y are dropped first: pure noise never lowers the
minimum, so the unknown is at most ``rank(H1) x rank(H2)``.

Then ``R = I(X1;Y) + I(X2;Y) - I_u``, ``U1 = I_u - I(X2;Y)``, ``U2 = I_u - I(X1;Y)`` and
``S = I(X1,X2;Y) - I_u``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from ..._validation import (
    check_base,
    check_choice,
    check_float,
    check_int,
    check_samples,
    units_of,
)
from ...exceptions import ConvergenceError, ConvergenceWarning, InvalidInputError
from .result import ATOMS, PIDResult, SolverDiagnostics

__all__ = ["gaussian_pid", "gaussian_pid_from_samples", "gaussian_mi_bias"]

#: Relative size below which an eigenvalue of a covariance block counts as zero.
_RANK_TOL = 1e-10
#: Singular values of Sigma are kept at most this far below 1 so that H H^T + C stays invertible.
_EDGE = 1e-9
#: Atoms whose negative part is below this (in bits) are treated as round-off.
_ROUNDOFF = 1e-7
_METHODS = ("broja", "mmi")


# --------------------------------------------------------------------------- input checks


def _check_sizes(sizes: Any, n: int) -> tuple[int, int, int]:
    if not isinstance(sizes, Sequence) or isinstance(sizes, str) or len(sizes) != 3:
        raise InvalidInputError(
            f"`sizes` must be three positive integers (d1, d2, dy), got {sizes!r}."
        )
    d1, d2, dy = (check_int(s, "sizes", minimum=1) for s in sizes)
    if d1 + d2 + dy != n:
        raise InvalidInputError(
            f"`sizes` must add up to the covariance's side {n}, got {sizes!r} "
            f"(sum {d1 + d2 + dy})."
        )
    return d1, d2, dy


def _check_cov(cov: Any, name: str = "cov") -> np.ndarray:
    try:
        arr = np.asarray(cov, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"`{name}` must be a numeric square matrix, got {cov!r}.") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 3:
        raise InvalidInputError(
            f"`{name}` must be a square matrix of side >= 3, got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"`{name}` contains NaN or infinite values.")
    scale = max(float(np.max(np.abs(np.diag(arr)))), np.finfo(float).tiny)
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > 1e-8 * scale:
        raise InvalidInputError(
            f"`{name}` must be symmetric, got a largest asymmetry |C - C^T| of {asym:.3g}."
        )
    arr = (arr + arr.T) / 2
    low = float(linalg.eigvalsh(arr, subset_by_index=[0, 0])[0])
    if low < -1e-8 * scale:
        raise InvalidInputError(
            f"`{name}` must be positive semidefinite, got a smallest eigenvalue of {low:.3g}."
        )
    return arr


# --------------------------------------------------------------------------- whitening


def _range_basis(block: np.ndarray) -> np.ndarray:
    """``T`` with ``T^T block T = I`` spanning the range of a PSD block (drops null directions)."""
    w, v = linalg.eigh(block)
    keep = w > _RANK_TOL * max(float(w[-1]), np.finfo(float).tiny)
    return v[:, keep] / np.sqrt(w[keep])


def _mi_nats(cov: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> float:
    ta = _range_basis(cov[np.ix_(ia, ia)])
    tb = _range_basis(cov[np.ix_(ib, ib)])
    if ta.shape[1] == 0 or tb.shape[1] == 0:
        return 0.0
    cross = ta.T @ cov[np.ix_(ia, ib)] @ tb
    # Whitened blocks: I(A;B) = -1/2 log det(I - R R^T) with R the canonical cross-correlation.
    s = linalg.svdvals(cross)
    if np.any(s >= 1 - 1e-13):
        raise InvalidInputError(
            "The mutual information is infinite: some linear combination of one block is an "
            "exact linear function of the other (the covariance is singular there)."
        )
    return -0.5 * float(np.sum(np.log1p(-(s**2))))


class _Channels:
    """Y whitened, each source whitened given Y and cut to its signal directions.

    ``h1`` (k1 x ry) and ``h2`` (k2 x ry) are the channel gains; ``i1``, ``i2`` the source MIs in
    nats (``1/2 sum log(1 + s^2)`` over the singular values of the gains).
    """

    def __init__(self, cov: np.ndarray, d1: int, d2: int, dy: int) -> None:
        i1_idx, i2_idx = np.arange(d1), np.arange(d1, d1 + d2)
        iy = np.arange(d1 + d2, d1 + d2 + dy)
        ty = _range_basis(cov[np.ix_(iy, iy)])
        self.ry = ty.shape[1]
        self.h1, self.i1 = self._gain(cov, i1_idx, iy, ty, "I(X1;Y)")
        self.h2, self.i2 = self._gain(cov, i2_idx, iy, ty, "I(X2;Y)")

    def _gain(
        self, cov: np.ndarray, ix: np.ndarray, iy: np.ndarray, ty: np.ndarray, what: str
    ) -> tuple[np.ndarray, float]:
        tx = _range_basis(cov[np.ix_(ix, ix)])
        if tx.shape[1] == 0 or self.ry == 0:
            return np.zeros((0, self.ry)), 0.0
        b = tx.T @ cov[np.ix_(ix, iy)] @ ty  # Cov(X', Y') with both whitened
        u, s, vt = _svd(b, full=False)
        if np.any(s >= 1 - 1e-13):
            raise InvalidInputError(
                f"{what} is infinite: part of the target is an exact linear function of the "
                "source (the covariance is singular there). Add noise or drop those directions."
            )
        keep = s > 1e-12
        # Conditional covariance of X' given Y' is I - b b^T = U (1 - s^2) U^T; whitening it
        # turns the gain along U's columns into s / sqrt(1 - s^2).
        g = s[keep] / np.sqrt(1 - s[keep] ** 2)
        return g[:, None] * vt[keep], 0.5 * float(np.sum(np.log1p(g**2)))


# --------------------------------------------------------------------------- the BROJA solver


class _Objective:
    """``f(Sigma) = -1/2 log det(I - H^T K^-1 H)`` (nats) and its gradient, ``K = HH^T + C``."""

    def __init__(self, h1: np.ndarray, h2: np.ndarray) -> None:
        self.k1 = h1.shape[0]
        self.h = np.vstack([h1, h2])
        self.hht = self.h @ self.h.T
        self.eye_y = np.eye(self.h.shape[1])
        self.last_cho: np.ndarray | None = None

    def k_inverse_blocks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Blocks of ``K^-1`` at the last point evaluated."""
        inv, info = lapack.dpotri(self.last_cho, lower=1)
        inv = np.tril(inv) + np.tril(inv, -1).T
        k1 = self.k1
        return inv[:k1, :k1], inv[:k1, k1:], inv[k1:, k1:]

    def value_grad(self, sigma: np.ndarray, grad: bool = True) -> tuple[float, np.ndarray | None]:
        k1 = self.k1
        kmat = self.hht.copy()
        kmat[np.diag_indices_from(kmat)] += 1.0
        kmat[:k1, k1:] += sigma
        kmat[k1:, :k1] += sigma.T
        try:
            cho = linalg.cho_factor(kmat, lower=True, check_finite=False)
            self.last_cho = cho[0]
            v = linalg.cho_solve(cho, self.h, check_finite=False)
            s_mat = self.eye_y - self.h.T @ v
            s_cho = linalg.cho_factor(s_mat, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return math.inf, None
        f = -float(np.sum(np.log(np.diag(s_cho[0]))))
        if not grad:
            return f, None
        w = linalg.cho_solve(s_cho, v[k1:].T, check_finite=False)  # S^-1 V2^T
        return f, -(v[:k1] @ w)


def _inside(a: np.ndarray) -> bool:
    """True when ``||a||_2 <= 1 - _EDGE``, tested by a Cholesky factorisation (no SVD)."""
    small = a if a.shape[0] <= a.shape[1] else a.T
    m = -(small @ small.T)
    m[np.diag_indices_from(m)] += (1 - _EDGE) ** 2
    try:
        linalg.cholesky(m, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return False
    return True


def _svd(a: np.ndarray, full: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        return linalg.svd(a, full_matrices=full, lapack_driver="gesdd", check_finite=False)
    except linalg.LinAlgError:  # the divide-and-conquer driver can fail; QR iteration does not
        return linalg.svd(a, full_matrices=full, lapack_driver="gesvd", check_finite=False)


def _project(a: np.ndarray) -> np.ndarray:
    """Euclidean projection onto ``{||Sigma||_2 <= 1 - _EDGE}`` (clamp the singular values)."""
    if _inside(a):
        return a
    u, s, vt = _svd(a, full=False)
    return (u * np.minimum(s, 1 - _EDGE)) @ vt


def _gap(sigma: np.ndarray, g: np.ndarray) -> float:
    """Frank-Wolfe gap ``<g, Sigma> + ||g||_*``: f(Sigma) - f* is at most this (f convex)."""
    try:
        nuclear = float(np.sum(linalg.svdvals(g, check_finite=False)))
    except linalg.LinAlgError:
        nuclear = float(np.sum(_svd(g, full=False)[1]))
    return max(float(np.sum(g * sigma)) + nuclear, 0.0)


def _solve_broja(
    ch: _Channels, tol_nats: float, max_iter: int
) -> tuple[float, SolverDiagnostics]:
    """Minimise the union information; returns it (nats) and diagnostics (gap in nats).

    Start from the coupling that aligns the noises as the gains are aligned, shrunk into the
    ball; try plain Newton-CG (fast when the optimum is well inside the ball), else follow the
    barrier path from the same start, then finish with accelerated projected gradient if the
    certificate is still above the tolerance.
    """
    start = time.perf_counter()
    k1, k2 = ch.h1.shape[0], ch.h2.shape[0]
    if k1 == 0 or k2 == 0:
        return max(ch.i1, ch.i2), SolverDiagnostics(
            converged=True, iterations=0, duality_gap=0.0, primal_residual=0.0,
            tolerance=tol_nats, seconds=time.perf_counter() - start,
            message="one source carries no information about the target: closed form",
        )
    obj = _Objective(ch.h1, ch.h2)
    x = 0.5 * _project(ch.h1 @ np.linalg.pinv(ch.h2))
    x0 = x
    x, fx, gx, gap, it_newton = _newton(obj, x0, tol_nats, min(max_iter, 20), mu_start=0.0)
    if gap > tol_nats and it_newton < max_iter:
        x, fx, gx, gap, it_barrier = _newton(obj, x0, tol_nats, max_iter - it_newton,
                                             mu_start=1e-2)
        it_newton += it_barrier
    it_pg = 0
    if gap > tol_nats and it_newton < max_iter:
        x, fx, gx, gap, it_pg = _fista(obj, x, tol_nats, max_iter - it_newton)
    it = it_newton + it_pg
    diag = SolverDiagnostics(
        converged=gap <= tol_nats,
        iterations=it,
        duality_gap=gap,
        primal_residual=0.0,
        tolerance=tol_nats,
        seconds=time.perf_counter() - start,
        message=(f"{'converged' if gap <= tol_nats else 'stopped'} after {it_newton} Newton "
                 f"and {it_pg} projected-gradient iterations"),
    )
    return fx, diag


class _SingularFrame:
    """Sigma's singular bases, where the barrier part of the Hessian acts entry-pair-wise.

    With ``Sigma = U diag(s) V^T`` and ``D~ = U^T D V``, the operator ``(C^-1 E C^-1)_12`` is
    ``(D~_ij + s_i s_j D~_ji) / ((1 - s_i^2)(1 - s_j^2))`` (``s`` padded with zeros), and its
    inverse on each pair (i, j), (j, i) is a closed-form 2 x 2 solve.
    """

    def __init__(self, x: np.ndarray) -> None:
        k1, k2 = x.shape
        self.u, s, self.vt = _svd(x, full=True)
        self.r = s.size
        self.s = s
        sp, sq = np.zeros(k1), np.zeros(k2)
        sp[:self.r], sq[:self.r] = s, s
        self.prod = sp[:, None] * sq[None, :]
        self.inv_e = 1.0 / ((1 - sp**2)[:, None] * (1 - sq**2)[None, :])

    def to(self, a: np.ndarray) -> np.ndarray:
        return self.u.T @ a @ self.vt.T

    def back(self, a: np.ndarray) -> np.ndarray:
        return self.u @ a @ self.vt

    def swap(self, a: np.ndarray) -> np.ndarray:
        out = np.zeros_like(a)
        out[:self.r, :self.r] = a[:self.r, :self.r].T
        return out

    def barrier(self, d: np.ndarray) -> np.ndarray:
        return (d + self.prod * self.swap(d)) * self.inv_e

    def barrier_inverse(self, d: np.ndarray) -> np.ndarray:
        return (d - self.prod * self.swap(d)) / (self.inv_e * (1 - self.prod**2))

    def barrier_gradient(self) -> np.ndarray:
        """``-(C^-1)_12`` in the frame: ``diag(s / (1 - s^2))``."""
        out = np.zeros(self.prod.shape)
        idx = np.arange(self.r)
        out[idx, idx] = self.s / (1 - self.s**2)
        return out


def _logdet_c(x: np.ndarray) -> float | None:
    """``log det C = log det(I - Sigma Sigma^T)``, or None outside the open unit ball."""
    small = x if x.shape[0] <= x.shape[1] else x.T
    m = -(small @ small.T)
    m[np.diag_indices_from(m)] += 1.0
    try:
        c = linalg.cholesky(m, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    return 2.0 * float(np.sum(np.log(np.diag(c))))


def _newton(
    obj: _Objective, x: np.ndarray, tol: float, max_iter: int, mu_start: float
) -> tuple[np.ndarray, float, np.ndarray, float, int]:
    """Barrier (interior-point) Newton-CG on ``f(Sigma) - mu log det C`` with ``mu -> 0``.

    With ``mu_start=0`` it is plain damped Newton, which converges fast to an optimum well
    inside the ball and gives up (leaving the result to the barrier path) as soon as a full
    step would leave the ball.

    The Hessian of ``f = 1/2 log det K - 1/2 log det C`` applied to D is
    ``(C^-1 E C^-1)_12 - (K^-1 E K^-1)_12`` with ``E = [[0, D], [D^T, 0]]``; the barrier adds
    ``2 mu (C^-1 E C^-1)_12`` and ``-2 mu (C^-1)_12`` to the gradient. Each centring stops when
    the Newton decrement is small, then ``mu`` drops 30-fold until ``(k1 + k2) mu`` is below
    the tolerance; the Frank-Wolfe gap of ``f`` itself is the certificate.
    """
    k1, k2 = x.shape
    mu_final = tol / (10.0 * (k1 + k2))
    mu = max(mu_start, mu_final) if mu_start > 0 else 0.0
    fx, gx = obj.value_grad(x)
    ldc = _logdet_c(x)
    it = 0
    while it < max_iter:
        it += 1
        if ldc is None:
            break
        frame = _SingularFrame(x)
        k_a, k_b, k_c = obj.k_inverse_blocks()
        ka, kb, kc = frame.u.T @ k_a @ frame.u, frame.to(k_b), frame.vt @ k_c @ frame.vt.T
        wc = 1.0 + 2.0 * mu

        def hess(d: np.ndarray, f=frame, ka=ka, kb=kb, kc=kc, wc=wc) -> np.ndarray:
            return wc * f.barrier(d) - ka @ d @ kc - kb @ d.T @ kb

        # The barrier's gradient -2 mu (C^-1)_12 is 2 mu diag(s / (1 - s^2)) in the frame.
        grad_t = frame.to(gx) + 2.0 * mu * frame.barrier_gradient()
        step_t = _cg(hess, -grad_t, lambda r, f=frame, wc=wc: f.barrier_inverse(r) / wc,
                     rtol=min(0.3, math.sqrt(np.linalg.norm(grad_t))), max_iter=200)
        step = frame.back(step_t)
        grad = frame.back(grad_t)
        slope = float(np.sum(grad * step))
        if not slope < 0:
            break
        phi = fx - mu * ldc
        alpha, slack = 1.0, 1e-13 * max(1.0, abs(phi))
        while alpha > 1e-12:
            z = x + alpha * step
            ldz = _logdet_c(z)
            if ldz is None and mu == 0.0:
                alpha = 0.0  # the boundary is in the way: a job for the barrier path
                break
            if ldz is not None:
                fz, gz = obj.value_grad(z)
                if gz is not None and fz - mu * ldz <= phi + 1e-4 * alpha * slope + slack:
                    break
            alpha /= 2
        else:
            break
        if alpha == 0.0:
            break
        x, fx, gx, ldc = z, fz, gz, ldz
        if -slope <= max(1e-3 * mu, 1e-14):  # centred for this mu
            if mu <= mu_final:
                break
            mu = max(mu / 30.0, mu_final)
    return x, fx, gx, _gap(x, gx), it


def _cg(op: Any, b: np.ndarray, precond: Any, rtol: float, max_iter: int) -> np.ndarray:
    """Preconditioned conjugate gradients for ``op(x) = b`` (``op`` symmetric PSD)."""
    x = np.zeros_like(b)
    r = b.copy()
    z = precond(r)
    p = z.copy()
    rz = float(np.sum(r * z))
    stop = (rtol**2) * float(np.sum(r * r))
    for _ in range(max_iter):
        ap = op(p)
        pap = float(np.sum(p * ap))
        if pap <= 0:
            break
        a = rz / pap
        x += a * p
        r -= a * ap
        if float(np.sum(r * r)) <= stop:
            break
        z = precond(r)
        rz_new = float(np.sum(r * z))
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x if np.any(x) else b


def _fista(
    obj: _Objective, x: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, float, np.ndarray, float, int]:
    """Accelerated projected gradient with backtracking and adaptive restart.

    The duality gap is evaluated every five iterations; the run stops when it has not improved
    for ten evaluations while the objective stayed flat (the round-off floor).
    """
    fx, gx = obj.value_grad(x)
    y, fy, gy = x, fx, gx
    t, lip, it, stalled = 1.0, 1.0, 0, 0
    gap = best_gap = _gap(x, gx)
    f_check = fx
    while gap > tol and it < max_iter and stalled < 10:
        it += 1
        slack = 1e-13 * max(1.0, abs(fy))  # f is known to round-off only
        while True:  # backtracking on the Lipschitz estimate
            z = _project(y - gy / lip)
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
            gap = _gap(x, gx)
            flat = f_check - fx <= 1e-11 * max(1.0, abs(fx))
            stalled = stalled + 1 if gap > 0.99 * best_gap and flat else 0
            best_gap, f_check = min(gap, best_gap), fx
        fy, gy = obj.value_grad(y)
        if gy is None:
            y, fy, gy, t = x, fx, gx, 1.0
        lip /= 1.5
    return x, fx, gx, _gap(x, gx), it


# --------------------------------------------------------------------------- public API


def gaussian_mi_bias(d_a: int, d_b: int, n_samples: int, *, base: float | str = 2) -> float:
    """Expected excess of the plug-in Gaussian MI over the truth, ``E[I_hat] - I``.

    From the bias of the Gaussian log-determinant (Cai, Liang & Zhou 2015):
    ``b(d) = 1/2 sum_{k=1..d} log(1 - k/n)`` and ``E[I_hat] - I ~= b(dA) + b(dB) - b(dA + dB)``
    (positive: plug-in MI is too large). Needs ``n_samples > d_a + d_b``.

    Examples
    --------
    >>> round(gaussian_mi_bias(1, 1, 100), 6)
    0.007323
    """
    d_a = check_int(d_a, "d_a", minimum=0)
    d_b = check_int(d_b, "d_b", minimum=0)
    n = check_int(n_samples, "n_samples", minimum=1)
    if n <= d_a + d_b:
        raise InvalidInputError(
            f"`n_samples` must exceed d_a + d_b = {d_a + d_b} for the bias formula, got {n}."
        )
    b = check_base(base)
    return (_logdet_bias(d_a, n) + _logdet_bias(d_b, n) - _logdet_bias(d_a + d_b, n)) / math.log(b)


def _logdet_bias(d: int, n: int) -> float:
    return 0.5 * float(np.sum(np.log1p(-np.arange(1, d + 1) / n)))


def _union_bounds(i1: float, i2: float, i12: float) -> tuple[float, float]:
    return max(i1, i2), max(min(i1 + i2, i12), max(i1, i2))


def gaussian_pid(
    cov: Any,
    sizes: Sequence[int],
    method: str = "broja",
    *,
    base: float | str = 2,
    tol: float = 1e-5,
    max_iter: int = 5000,
    on_failure: str = "warn",
) -> PIDResult:
    """Partial information decomposition of jointly Gaussian (X1, X2, Y) from a covariance.

    Parameters
    ----------
    cov : array-like of shape (d1 + d2 + dy, d1 + d2 + dy)
        Covariance ordered X1, X2, Y; positive semidefinite. Singular directions are allowed
        where they carry no information (for example X2 an exact copy of X1); a target that is
        an exact linear function of the sources (infinite information) is refused.
    sizes : (d1, d2, dy)
        Dimensions of X1, X2 and Y.
    method : {"broja", "mmi"}
        ``"broja"``: the exact BROJA/Bertschinger PID (a Gaussian coupling attains the optimum,
        Zhao et al. 2025; computed as Venkatesh et al. 2023 define it), solved by an
        interior-point Newton method with a duality-gap certificate; a scalar target (dy = 1)
        is solved in closed form because BROJA = MMI there (Barrett 2015). ``"mmi"``: the
        closed form ``R = min(I(X1;Y), I(X2;Y))``, which over-states R for vector targets
        whenever each source dominates a different direction of Y.
    base : float or "e"
        Logarithm base of the result (2 gives bits).
    tol : float
        Duality gap to reach, in the result's units; the reported union information is within
        this of the optimum when ``diagnostics.converged``.
    max_iter : int
        Iteration limit of the solver.
    on_failure : {"warn", "raise"}
        What to do when the gap is not reached: a :class:`ConvergenceWarning` (the result says
        how far it is) or a :class:`ConvergenceError`.

    Returns
    -------
    PIDResult
        ``estimator="gaussian"``; ``diagnostics`` holds iterations, the gap and the wall time.

    Examples
    --------
    Two noisy copies of a scalar: half a bit of redundancy and a little synergy.

    >>> import numpy as np
    >>> cov = np.array([[2.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    >>> r = gaussian_pid(cov, sizes=(1, 1, 1))
    >>> round(r.redundancy, 6), round(r.synergy, 6)
    (0.5, 0.292481)
    """
    arr = _check_cov(cov)
    d1, d2, dy = _check_sizes(sizes, arr.shape[0])
    check_choice(method, "method", _METHODS)
    b = check_base(base)
    lb = math.log(b)
    tol = check_float(tol, "tol", low=0.0, low_open=True)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    check_choice(on_failure, "on_failure", ("warn", "raise"))
    ch = _Channels(arr, d1, d2, dy)
    i12 = _mi_nats(arr, np.arange(d1 + d2), np.arange(d1 + d2, d1 + d2 + dy))
    i1, i2 = ch.i1, ch.i2
    if method == "mmi" or ch.ry <= 1:
        union, diag = max(i1, i2), None
        if method == "broja":
            diag = SolverDiagnostics(
                converged=True, iterations=0, duality_gap=0.0, primal_residual=0.0,
                tolerance=tol * lb, message="scalar target: BROJA equals MMI (closed form)",
            )
    else:
        union, diag = _solve_broja(ch, tol * lb, max_iter)
    result = _assemble(i1, i2, i12, union, diag, lb, b, method)
    result = result.with_(settings={"base": b, "sizes": (d1, d2, dy), "tol": tol,
                                    "max_iter": max_iter})
    _report(result, on_failure)
    return result


def _assemble(i1: float, i2: float, i12: float, union: float, diag: SolverDiagnostics | None,
              lb: float, b: float, method: str) -> PIDResult:
    """Atoms from the MIs and the union information (all in nats)."""
    i12 = max(i12, i1, i2)
    lo, hi = _union_bounds(i1, i2, i12)
    clipped = max(lo - union, union - hi, 0.0)
    union = min(max(union, lo), hi)
    atoms = {"redundancy": i1 + i2 - union, "unique1": union - i2, "unique2": union - i1,
             "synergy": i12 - union}
    warns: tuple[str, ...] = ()
    if clipped / math.log(2) > _ROUNDOFF:
        warns = (f"the union information was moved by {clipped / lb:.3g} {units_of(b)} into "
                 "its bounds [max(I1, I2), min(I1 + I2, I12)]",)
    if diag is not None:
        diag = SolverDiagnostics(**{**diag.__dict__, "duality_gap": diag.duality_gap / lb,
                                    "tolerance": diag.tolerance / lb, "clipped": clipped / lb})
    return PIDResult(
        **{a: atoms[a] / lb for a in ATOMS}, mi_joint=i12 / lb, mi_x1=i1 / lb, mi_x2=i2 / lb,
        method=method, units=units_of(b), estimator="gaussian", diagnostics=diag, warnings=warns,
    )


def _report(result: PIDResult, on_failure: str) -> None:
    diag = result.diagnostics
    if diag is None or diag.converged:
        return
    msg = (f"Gaussian BROJA solver stopped before its tolerance: duality gap "
           f"{diag.duality_gap:.3g} {result.units} > tol {diag.tolerance:.3g} after "
           f"{diag.iterations} iterations. Raise `max_iter` or `tol`.")
    if on_failure == "raise":
        raise ConvergenceError(msg)
    warnings.warn(msg, ConvergenceWarning, stacklevel=3)


def gaussian_pid_from_samples(
    x1: Any,
    x2: Any,
    y: Any,
    method: str = "broja",
    *,
    bias_correction: bool = True,
    base: float | str = 2,
    tol: float = 1e-5,
    max_iter: int = 5000,
    on_failure: str = "warn",
) -> PIDResult:
    """Gaussian PID of samples: the sample covariance, then :func:`gaussian_pid`.

    Assumes (X1, X2, Y) jointly Gaussian (or at least that the pairwise dependence is linear);
    see :func:`interplay.info.estimate.copula.copula_pid` for non-Gaussian marginals.

    With ``bias_correction`` (Venkatesh et al. 2023), each plug-in MI is reduced by its expected
    excess :func:`gaussian_mi_bias` and floored at 0 (``I(X1,X2;Y)`` at ``max(I1, I2)``), and the
    union information is scaled by the same factor as ``I(X1,X2;Y)``. The MI corrections are
    exact to first order; the union's scaling is a heuristic of that paper. Plug-in atoms are
    biased upwards roughly as ``d^2 / n``; with ``n`` below ten times the total dimension,
    reduce the dimension first.

    Parameters
    ----------
    x1, x2, y : array-like of shape (n_samples,) or (n_samples, n_features)
        Samples of the sources and the target, rows aligned.
    method, base, tol, max_iter, on_failure
        As in :func:`gaussian_pid`.
    bias_correction : bool
        Remove the finite-sample bias (needs ``n_samples > d1 + d2 + dy + 1``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal(20000)
    >>> x1, x2 = y + rng.standard_normal(20000), y + rng.standard_normal(20000)
    >>> r = gaussian_pid_from_samples(x1, x2, y)
    >>> abs(r.redundancy - 0.5) < 0.02
    True
    """
    a1, a2, ay = check_samples(x1, "x1"), check_samples(x2, "x2"), check_samples(y, "y")
    n = a1.shape[0]
    if a2.shape[0] != n or ay.shape[0] != n:
        raise InvalidInputError(
            f"`x1`, `x2` and `y` must have the same number of rows, got {n}, {a2.shape[0]} "
            f"and {ay.shape[0]}."
        )
    sizes = (a1.shape[1], a2.shape[1], ay.shape[1])
    total = sum(sizes)
    if n <= total + 1:
        raise InvalidInputError(
            f"Need more samples than dimensions: got {n} rows for {total} columns in all."
        )
    if not isinstance(bias_correction, bool):
        raise InvalidInputError(
            f"`bias_correction` must be True or False, got {bias_correction!r}."
        )
    cov = np.cov(np.hstack([a1, a2, ay]), rowvar=False)
    raw = gaussian_pid(cov, sizes, method, base=base, tol=tol, max_iter=max_iter,
                       on_failure=on_failure)
    settings = {**raw.settings, "bias_correction": bias_correction}
    if not bias_correction:
        return raw.with_(n_samples=n, settings=settings)
    b = raw.settings["base"]
    d1, d2, dy = sizes
    i1 = max(raw.mi_x1 - gaussian_mi_bias(d1, dy, n, base=b), 0.0)
    i2 = max(raw.mi_x2 - gaussian_mi_bias(d2, dy, n, base=b), 0.0)
    i12 = max(raw.mi_joint - gaussian_mi_bias(d1 + d2, dy, n, base=b), i1, i2)
    union_raw = raw.mi_joint - raw.synergy
    union = union_raw * (i12 / raw.mi_joint) if raw.mi_joint > 0 else 0.0
    lb = math.log(b)
    out = _assemble(i1 * lb, i2 * lb, i12 * lb, union * lb, None, lb, b, method)
    return out.with_(diagnostics=raw.diagnostics, settings=settings, n_samples=n,
                     warnings=raw.warnings + out.warnings)
