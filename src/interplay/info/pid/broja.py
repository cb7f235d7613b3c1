"""Exact BROJA PID by a structured interior-point method with an optimality certificate.

The BROJA decomposition (Bertschinger, Rauh, Olbrich, Jost & Ay 2014) needs

.. math:: V^* = \\min_{q \\in \\Delta_p} I_q(Y; X_1 X_2), \\quad
          \\Delta_p = \\{q \\ge 0 : q(x_1, y) = p(x_1, y),\\ q(x_2, y) = p(x_2, y)\\}

and then ``R = I(X1;Y) + I(X2;Y) - V*``. Since ``H(Y)`` is fixed on ``Delta_p``,
``V* = H(Y) + min_q sum q log q(y | x1, x2)``. Its convex dual is a geometric program in
``lam[x1, y]`` and ``mu[x2, y]``:

.. math:: \\max\\ \\langle p(x_1, y), \\lambda \\rangle + \\langle p(x_2, y), \\mu \\rangle
          \\quad \\text{s.t.} \\quad \\log \\sum_y e^{\\lambda(x_1, y) + \\mu(x_2, y)} \\le 0
          \\ \\ \\forall (x_1, x_2).

We follow the log-barrier central path of this dual with Newton steps. The Newton system has
``(k1 + k2) * ky`` unknowns, but each cell's Hessian is diagonal plus rank one, so the
``lam`` block is eliminated in ``O(k^5)`` work and only a ``k2 * ky`` dense system is
factorised. On the central path the multipliers give a primal coupling
``q(x1, x2, y) = m(x1, x2) softmax_y(lam + mu)``; it is rounded onto ``Delta_p`` exactly and
the gap between its objective and the dual objective certifies the answer.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
from scipy import linalg
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..._validation import check_choice, check_float, check_int, check_pmf
from ...exceptions import ConvergenceError, ConvergenceWarning
from .base import RedundancyMeasure
from .result import SolverDiagnostics

_NEG = -1e30  # stands for log(0) in masked dual entries; exp() of it is exactly 0
_T_MAX = 1e13  # beyond t ~ 1e13 per cell, -g ~ 1e-13 is lost in float64 round-off
_CENTRED = 0.1  # Newton decrement below which a point counts as centred enough
_POLISHED = 1e-14  # the same, for the centring that precedes a certificate
_T_FACTOR = 50.0  # growth of t between centrings (long steps; the certificate guards accuracy)


class BROJA(RedundancyMeasure):
    """BROJA redundancy, solved to a certified duality gap.

    Parameters
    ----------
    tol : float
        Target duality gap in bits (default 1e-7, a tenth of the 1e-6 bits we promise);
        every atom is then exact to within it. Float64 round-off limits what can be
        certified to about 1e-9 to 1e-8 bits.
    max_iter : int
        Maximum Newton steps.
    on_failure : {"warn", "raise"}
        What to do when the gap is not reached: return the best certified result with a
        :class:`~interplay.exceptions.ConvergenceWarning` (``diagnostics.converged`` is False)
        or raise :class:`~interplay.exceptions.ConvergenceError`.
    """

    name = "broja"
    description = "Bertschinger-Rauh-Olbrich-Jost-Ay unique information (exact, certified)"

    def __init__(self, tol: float = 1e-7, max_iter: int = 200, on_failure: str = "warn") -> None:
        self.tol = check_float(tol, "tol", low=0, low_open=True)
        self.max_iter = check_int(max_iter, "max_iter", minimum=1)
        self.on_failure = check_choice(on_failure, "on_failure", ("warn", "raise"))

    def redundancy(self, p: np.ndarray) -> tuple[float, SolverDiagnostics]:
        start = time.perf_counter()
        sol = solve_broja(p, tol=self.tol * math.log(2), max_iter=self.max_iter)
        p1y, p2y = p.sum(axis=1), p.sum(axis=0)
        py = p1y.sum(axis=0)
        hy = _entropy(py)
        i1 = _entropy(p1y.sum(axis=1)) + hy - _entropy(p1y)
        i2 = _entropy(p2y.sum(axis=1)) + hy - _entropy(p2y)
        i12 = _entropy(p.sum(axis=2)) + hy - _entropy(p)
        # V* lies in [max(I1, I2), I12] (q = p is feasible; I_q(Y; X1 X2) >= I(Y; Xi)), so
        # moving the certified upper bound into that interval only brings it nearer the optimum.
        v_star = min(max(hy + sol["primal"], i1, i2), max(i12, i1, i2))
        diag = SolverDiagnostics(
            converged=sol["gap"] <= self.tol * math.log(2),
            iterations=sol["iterations"],
            duality_gap=sol["gap"],
            primal_residual=sol["primal_residual"],
            dual_residual=sol["dual_residual"],
            tolerance=self.tol,
            seconds=time.perf_counter() - start,
            message=sol["message"],
        )
        if not diag.converged:
            text = (
                f"BROJA solver stopped after {diag.iterations} Newton steps with a duality gap "
                f"of {diag.duality_gap / math.log(2):.3g} bits (asked for {self.tol:.3g})."
            )
            if self.on_failure == "raise":
                raise ConvergenceError(text)
            warnings.warn(text, ConvergenceWarning, stacklevel=4)
        return i1 + i2 - v_star, diag


def _entropy(p: np.ndarray) -> float:
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


def optimal_coupling(p: Any, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """The minimiser ``q*`` of ``I_q(Y; X1 X2)`` over ``Delta_p``, as an array like ``p``."""
    arr = check_pmf(p, "p", ndim=3)
    return solve_broja(arr, tol=tol * math.log(2), max_iter=max_iter)["q"]


def solve_broja(p: np.ndarray, tol: float, max_iter: int) -> dict[str, Any]:
    """Solve the BROJA program for a validated pmf ``p[x1, x2, y]``; ``tol`` is in nats.

    Returns a dict with the primal objective ``sum q log q(y|x1,x2)`` (nats), the certified
    gap, residuals, iterations, a message and the coupling ``q`` (shape of ``p``).
    """
    shape = p.shape
    keep1, keep2, keepy = (p.sum(axis=ax) > 0 for ax in ((1, 2), (0, 2), (0, 1)))
    sub = p[np.ix_(keep1, keep2, keepy)]
    if sub.shape[1] > sub.shape[0]:
        # The dense Newton system has |X2| * |Y| unknowns: put the smaller source second.
        q_t, info = _solve_reduced(np.ascontiguousarray(sub.transpose(1, 0, 2)), tol, max_iter)
        q_sub = q_t.transpose(1, 0, 2)
    else:
        q_sub, info = _solve_reduced(sub, tol, max_iter)
    q = np.zeros(shape)
    q[np.ix_(keep1, keep2, keepy)] = q_sub
    info["q"] = q
    return info


def _solve_reduced(p: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, dict[str, Any]]:
    k1, k2, ky = p.shape
    p1, p2 = p.sum(axis=1), p.sum(axis=0)
    if ky == 1 or k1 == 1 or k2 == 1:
        # A single-valued variable fixes q = p: Delta_p holds one point.
        return p.copy(), _report(p, 0.0, 0, 0.0, 0.0, "trivial: Delta_p is a single point")
    prob = _Problem(p1, p2)
    lam, mu = prob.initial_point()
    t = float(prob.n_cells)  # the central point for this t has a gap of about 1 nat
    best: tuple[float, np.ndarray, float, float, float] | None = None
    iterations = 0
    message = "iteration limit reached"
    while iterations < max_iter:
        # Loose centring while far from the target gap; tight centring (quadratic Newton
        # convergence) once the central path's gap n/t is below it, so that the certificate,
        # whose primal side is first order in the distance to the path, can close.
        # Once the path's own gap n/t is well below it, the certificate is checked after every
        # step: the rounded primal often closes the gap long before the point is centred.
        final = prob.n_cells / t <= 0.1 * tol
        for _ in range(30):
            if iterations >= max_iter:
                break
            step = prob.newton(lam, mu, t)
            iterations += 1
            lam, mu, size = prob.line_search(lam, mu, t, step)
            if final:
                cert = prob.certificate(lam, mu, t)
                if best is None or cert[0] < best[0]:
                    best = cert
                if best[0] <= tol:
                    break
            if step.decrement < (_POLISHED if final else _CENTRED) or size == 0.0:
                break
        if best is not None and best[0] <= tol:
            message = "converged: duality gap within tolerance"
            break
        if t > _T_MAX * prob.n_cells:
            message = "stopped: float64 precision reached before the requested gap"
            break
        t *= _T_FACTOR
    if best is None:
        best = prob.certificate(lam, mu, t)
    gap, q, _, presid, dresid = best
    info = _report(q, gap, iterations, presid, dresid, message)
    return q, info


def _report(
    q: np.ndarray, gap: float, iterations: int, presid: float, dresid: float, message: str
) -> dict[str, Any]:
    return {
        "primal": _neg_conditional_entropy(q),
        "gap": max(gap, 0.0),
        "iterations": iterations,
        "primal_residual": presid,
        "dual_residual": dresid,
        "message": message,
    }


def _neg_conditional_entropy(q: np.ndarray) -> float:
    """The primal objective ``sum q log q(y | x1, x2)`` (nats) of a coupling ``q[x1, x2, y]``."""
    mass = q.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.where(q > 0, q * np.log(q / mass), 0.0).sum())


class _Step:
    __slots__ = ("dlam", "dmu", "decrement")

    def __init__(self, dlam: np.ndarray, dmu: np.ndarray, decrement: float) -> None:
        self.dlam, self.dmu, self.decrement = dlam, dmu, decrement


class _Problem:
    """Dual barrier problem for fixed marginals ``p1[x1, y]`` and ``p2[x2, y]``."""

    def __init__(self, p1: np.ndarray, p2: np.ndarray) -> None:
        self.p1, self.p2 = p1, p2
        self.m1, self.m2 = p1 > 0, p2 > 0
        self.k1, self.ky = p1.shape
        self.k2 = p2.shape[0]
        allowed = self.m1[:, None, :] & self.m2[None, :, :]
        self.cells = allowed.any(axis=2)
        self.n_cells = int(self.cells.sum())
        self.fixed_mu = ~self.m2 | self._gauge_pins(allowed)

    def _gauge_pins(self, allowed: np.ndarray) -> np.ndarray:
        """One mu entry per connected component of each y's bipartite (x1, x2) graph.

        Shifting lam(., y) up and mu(., y) down on one component changes nothing, so one entry
        of mu per component is held fixed to make the Newton system non-singular.
        """
        pins = np.zeros((self.k2, self.ky), dtype=bool)
        for y in range(self.ky):
            i, j = np.nonzero(allowed[:, :, y])
            graph = coo_matrix((np.ones(i.size), (i, self.k1 + j)), shape=(self.k1 + self.k2,) * 2)
            _, labels = connected_components(graph, directed=False)
            seen: set[int] = set()
            for x2 in np.nonzero(self.m2[:, y])[0]:
                lab = labels[self.k1 + x2]
                if lab not in seen:
                    seen.add(lab)
                    pins[x2, y] = True
        return pins

    def initial_point(self) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(divide="ignore"):
            lam = np.where(self.m1, np.log(np.where(self.m1, self.p1, 1.0)), _NEG)
            mu = np.where(self.m2, np.log(np.where(self.m2, self.p2, 1.0)), _NEG)
        g = self._g(lam, mu)[0]
        lam = np.where(self.m1, lam - (g[self.cells].max() + 1.0), _NEG)
        return lam, mu

    def _g(self, lam: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-cell log-sum-exp ``g`` and softmax ``pi`` (zero outside allowed entries)."""
        z = lam[:, None, :] + mu[None, :, :]
        zmax = z.max(axis=2, keepdims=True)
        ez = np.exp(z - zmax)
        s = ez.sum(axis=2, keepdims=True)
        g = np.where(self.cells, (zmax + np.log(s))[..., 0], -1.0)
        return g, ez / s

    def objective(self, lam: np.ndarray, mu: np.ndarray) -> float:
        """Dual objective <p1, lam> + <p2, mu> over unmasked entries."""
        return float(
            (self.p1[self.m1] * lam[self.m1]).sum() + (self.p2[self.m2] * mu[self.m2]).sum()
        )

    def newton(self, lam: np.ndarray, mu: np.ndarray, t: float) -> _Step:
        k1, k2, ky = self.k1, self.k2, self.ky
        g, pi = self._g(lam, mu)
        w = np.where(self.cells, 1.0 / -g, 0.0)
        a = w * w - w
        d = w[..., None] * pi  # diagonal part of each cell's Hessian
        api = a[..., None] * pi  # rank-one part is api pi^T
        grad_lam = np.where(self.m1, -t * self.p1 + d.sum(axis=1), 0.0)
        grad_mu = np.where(self.m2, -t * self.p2 + d.sum(axis=0), 0.0)
        eye = np.eye(ky)
        # lam block: Lam[x1] = diag(sum_x2 d) + sum_x2 a pi pi^T  (+ identity on masked entries)
        lam_blk = np.einsum("ijy,ijz->iyz", api, pi)
        lam_blk += eye * (d.sum(axis=1) + ~self.m1)[:, :, None]
        lam_inv = np.linalg.inv(lam_blk)
        # mu block diagonal
        mu_blk = np.einsum("ijy,ijz->jyz", api, pi)
        mu_blk += eye * d.sum(axis=0)[:, :, None]
        # Schur complement S = Mu - sum_x1 B^T Lam^-1 B, cell blocks B = diag(d) + api pi^T.
        r = np.einsum("iyz,ijz->ijy", lam_inv, pi)  # Lam^-1 pi
        # term 1: sum_i d[i,j,y] Linv[i,y,y'] d[i,j',y']
        # (numpy's matmul reaches BLAS only on contiguous operands, hence the copies)
        c = np.ascontiguousarray
        d_yji = c(d.transpose(2, 1, 0))  # (y, j, i)
        # term 1: sum_i d[i,j,y] Linv[i,y,y'] d[i,j',y']
        t1 = np.matmul(
            d_yji[:, None, :, :],
            c(lam_inv.transpose(1, 2, 0))[:, :, :, None] * c(d.transpose(2, 0, 1))[None, :, :, :],
        )  # (y, y', j, j')
        s_mat = t1.transpose(2, 0, 3, 1).reshape(k2 * ky, k2 * ky)
        # term 2: sum_i d[i,j,y] r[i,j',y] api[i,j',y']
        f = c(r.transpose(2, 0, 1))[:, :, :, None] * api[None, :, :, :]  # (y, i, j', y')
        t2 = np.matmul(d_yji, f.reshape(ky, k1, k2 * ky))  # (y, j, j'y')
        t2 = t2.transpose(1, 0, 2).reshape(k2 * ky, k2 * ky)
        # term 4: sum_i api[i,j,y] (pi_ij . r_ij') api[i,j',y']
        sc = np.einsum("ijy,iky->ijk", pi, r)
        gmat = sc[..., None] * api[:, None, :, :]  # (i, j, j', y')
        t4 = np.matmul(
            c(api.transpose(1, 2, 0)), c(gmat.transpose(1, 0, 2, 3)).reshape(k2, k1, k2 * ky)
        ).reshape(k2 * ky, k2 * ky)
        s_mat += t2
        s_mat += t2.T
        s_mat += t4
        np.negative(s_mat, out=s_mat)
        blk = np.arange(k2)
        s4 = s_mat.reshape(k2, ky, k2, ky)
        s4[blk, :, blk, :] += mu_blk
        # rhs for mu: -g_mu + B^T Lam^-1 g_lam
        u = np.einsum("iyz,iz->iy", lam_inv, grad_lam)
        bt_u = np.einsum("ijy,iy->jy", d, u) + np.einsum(
            "ijy,ij->jy", api, np.einsum("ijz,iz->ij", pi, u)
        )
        rhs = (-grad_mu + bt_u).ravel()
        fixed = self.fixed_mu.ravel()
        s_mat[fixed, :] = 0.0
        s_mat[:, fixed] = 0.0
        s_mat[fixed, fixed] = 1.0
        rhs[fixed] = 0.0
        dmu = _solve_spd(s_mat, rhs).reshape(k2, ky)
        b_dmu = np.einsum("ijy,jy->iy", d, dmu) + np.einsum(
            "ijy,ij->iy", api, np.einsum("ijz,jz->ij", pi, dmu)
        )
        dlam = np.einsum("iyz,iz->iy", lam_inv, -grad_lam - b_dmu)
        dlam[~self.m1] = 0.0
        decrement = -float((grad_lam * dlam).sum() + (grad_mu * dmu).sum())
        return _Step(dlam, dmu, decrement)

    def line_search(
        self, lam: np.ndarray, mu: np.ndarray, t: float, step: _Step
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Backtracking (Armijo) on the barrier, comparing changes rather than values.

        At large ``t`` the barrier's value dwarfs its change, so the change is computed
        term by term: the linear part exactly, the log part as ``log(g1 / g0)``.
        """
        g0 = self._g(lam, mu)[0][self.cells]
        slope = self.objective(step.dlam, step.dmu)
        s = 1.0
        for _ in range(60):
            nl, nm = lam + s * step.dlam, mu + s * step.dmu
            g1 = self._g(nl, nm)[0][self.cells]
            if np.all(g1 < 0):
                change = -t * s * slope - float(np.log(g1 / g0).sum())
                if change <= -0.25 * s * step.decrement:
                    return nl, nm, s
            s *= 0.5
        return lam, mu, 0.0

    def certificate(
        self, lam: np.ndarray, mu: np.ndarray, t: float
    ) -> tuple[float, np.ndarray, float, float, float]:
        """Gap between a feasible coupling and a feasible dual point, with residuals."""
        g, pi = self._g(lam, mu)
        worst = float(g[self.cells].max())
        dual_resid = max(worst, 0.0)
        # Feasible dual point: shift each lam row by its worst cell (g <= 0 afterwards).
        shift = np.where(self.cells, g, -np.inf).max(axis=1)
        shift = np.maximum(shift, 0.0)
        dual = self.objective(lam, mu) - float((self.p1.sum(axis=1) * shift).sum())
        m = np.where(self.cells, 1.0 / (t * -g), 0.0)
        q = _round_to_marginals(_sinkhorn(m[..., None] * pi, self.p1, self.p2), self.p1, self.p2)
        presid = float(
            max(np.abs(q.sum(axis=1) - self.p1).max(), np.abs(q.sum(axis=0) - self.p2).max())
        )
        primal = _neg_conditional_entropy(q)
        return primal - dual, q, primal, presid, dual_resid


def _solve_spd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a symmetric positive-definite system, jittering the diagonal if round-off bites."""
    diag = np.einsum("ii->i", a)
    scale = float(np.abs(diag).max()) or 1.0
    jitter = 0.0
    for _ in range(6):
        try:
            factor = linalg.cho_factor(a, lower=True, check_finite=False)
            return linalg.cho_solve(factor, b, check_finite=False)
        except linalg.LinAlgError:
            step = scale * 1e-14 if jitter == 0.0 else jitter * 99
            diag += step
            jitter += step
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _sinkhorn(q: np.ndarray, p1: np.ndarray, p2: np.ndarray, iters: int = 100) -> np.ndarray:
    """Rescale rows and columns of each ``q[:, :, y]`` towards marginals ``p1``, ``p2``.

    The KL projection of a near-feasible coupling onto ``Delta_p``; far more accurate than the
    multipliers of the barrier alone, whose ``1 / (t * -g)`` loses digits as ``g -> 0``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(iters):
            rows = q.sum(axis=1)
            q = q * np.where(rows > 0, p1 / rows, 0.0)[:, None, :]
            cols = q.sum(axis=0)
            q = q * np.where(cols > 0, p2 / cols, 0.0)[None, :, :]
            if np.abs(q.sum(axis=1) - p1).max() < 1e-16:
                break
    return q


def _round_to_marginals(q: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Move ``q[x1, x2, y]`` onto exact marginals ``p1[x1, y]``, ``p2[x2, y]`` (stays >= 0).

    For each y: scale rows down to at most p1, columns down to at most p2, then add the
    outer product of the remaining row and column deficits (Altschuler et al. 2017).
    """
    q = np.maximum(q, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = q.sum(axis=1)
        q = q * np.where(rows > p1, p1 / rows, 1.0)[:, None, :]
        cols = q.sum(axis=0)
        q = q * np.where(cols > p2, p2 / cols, 1.0)[None, :, :]
    er = np.maximum(p1 - q.sum(axis=1), 0.0)
    ec = np.maximum(p2 - q.sum(axis=0), 0.0)
    tot = er.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        add = np.where(tot > 0, 1.0 / tot, 0.0)
    return q + er[:, None, :] * ec[None, :, :] * add[None, None, :]
