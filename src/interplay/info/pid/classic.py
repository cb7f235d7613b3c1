"""Closed-form redundancy measures for side-by-side comparison with BROJA."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..._validation import check_float, check_int
from ...exceptions import ConvergenceError, ConvergenceWarning
from .base import RedundancyMeasure, marginal_mis
from .result import SolverDiagnostics


class MMI(RedundancyMeasure):
    """Minimum mutual information: R = min(I(X1;Y), I(X2;Y)) (Barrett 2015).

    Equals BROJA for jointly Gaussian sources with a scalar target; over-states redundancy when
    the sources carry different information (COPY gives R = 1 bit).
    """

    name = "mmi"
    description = "minimum mutual information, R = min(I(X1;Y), I(X2;Y))"

    def redundancy(self, p: np.ndarray) -> tuple[float, SolverDiagnostics | None]:
        i1, i2, _ = marginal_mis(p)
        return min(i1, i2), None


class IMin(RedundancyMeasure):
    """Williams–Beer redundancy I_min (Williams & Beer 2010).

    .. math:: I_{min} = \\sum_y p(y) \\min_i I(Y = y; X_i), \\qquad
              I(Y = y; X_i) = \\sum_{x_i} p(x_i \\mid y) \\log \\frac{p(y \\mid x_i)}{p(y)}

    The specific information ``I(Y=y; X_i)`` is the Kullback–Leibler divergence of
    ``p(x_i | y)`` from ``p(x_i)``, so it is >= 0 and the atoms are non-negative. I_min counts
    "the same amount" as "the same information": COPY gets R = 1 bit instead of 0.
    """

    name = "imin"
    description = "Williams & Beer I_min, expected minimum specific information"

    def redundancy(self, p: np.ndarray) -> tuple[float, SolverDiagnostics | None]:
        py = p.sum(axis=(0, 1))
        specific = [_specific_information(p.sum(axis=drop), py) for drop in (1, 0)]
        return float(np.sum(py * np.minimum(*specific))), None


def _specific_information(pxy: np.ndarray, py: np.ndarray) -> np.ndarray:
    """``I(Y=y; X)`` in nats for every y from a pmf ``pxy[x, y]`` (0 where p(y) = 0)."""
    px = pxy.sum(axis=1)
    out = np.zeros_like(py)
    for y in np.flatnonzero(py > 0):
        cond = pxy[:, y] / py[y]
        nz = cond > 0
        out[y] = float(np.sum(cond[nz] * np.log(cond[nz] / px[nz])))
    return out


class CCS(RedundancyMeasure):
    """Common change in surprisal I_ccs (Ince 2017).

    Let ``q`` be the maximum-entropy distribution with the same pairwise marginals
    ``p(x1, x2)``, ``p(x1, y)`` and ``p(x2, y)`` as ``p``. For every outcome, take the local
    mutual informations ``i1 = log q(x1,y)/(q(x1)q(y))``, ``i2`` likewise,
    ``i12 = log q(x1,x2,y)/(q(x1,x2)q(y))`` and the local co-information ``c = i1 + i2 - i12``.
    Then

    .. math:: I_{ccs} = \\sum_{x_1, x_2, y} q(x_1, x_2, y)\\, c \\,
              [\\operatorname{sign} c = \\operatorname{sign} i_1 = \\operatorname{sign} i_2
              = \\operatorname{sign} i_{12}]

    Only changes in surprisal that all terms agree on count as shared. Atoms can be negative
    (the measure is not non-negative by construction), so they are never clipped.

    Parameters
    ----------
    tol : float
        Largest marginal residual accepted from the maximum-entropy fit (default 1e-12).
    max_iter : int
        Maximum sweeps of iterative proportional fitting (default 10000).
    max_seconds : float
        Time allowed to the linear program that finds the support when it is needed (default
        60 s); beyond it a :class:`~interplay.exceptions.ConvergenceError` says so.

    Notes
    -----
    The maximum-entropy distribution may need zeros where every pairwise marginal is positive
    (e.g. ``w``: 001, 010, 100). Iterative proportional fitting converges sublinearly there, so
    when a first run of IPF has not converged, the support is found exactly by one linear
    program, then IPF runs on that support.
    """

    name = "ccs"
    description = "Ince I_ccs, common change in surprisal over the pairwise max-entropy joint"
    nonnegative = False

    #: Local quantities smaller than this (nats) count as zero when comparing signs.
    ZERO = 1e-9

    def __init__(
        self, tol: float = 1e-12, max_iter: int = 10_000, max_seconds: float = 60.0
    ) -> None:
        self.tol = check_float(tol, "tol", low=0.0, low_open=True)
        self.max_iter = check_int(max_iter, "max_iter", minimum=1)
        self.max_seconds = check_float(max_seconds, "max_seconds", low=0.0, low_open=True)

    def redundancy(self, p: np.ndarray) -> tuple[float, SolverDiagnostics | None]:
        start = time.perf_counter()
        q, sweeps, residual = pairwise_maxent(
            p, tol=self.tol, max_iter=self.max_iter, max_seconds=self.max_seconds
        )
        converged = residual <= self.tol
        if not converged:
            warnings.warn(
                f"I_ccs: the maximum-entropy fit stopped after {sweeps} sweeps with a marginal "
                f"residual of {residual:.3g} (asked for {self.tol:.3g}); raise max_iter.",
                ConvergenceWarning,
                stacklevel=4,
            )
        py, p1y, p2y, p12 = q.sum(axis=(0, 1)), q.sum(axis=1), q.sum(axis=0), q.sum(axis=2)
        p1, p2 = p12.sum(axis=1), p12.sum(axis=0)
        i1_, i2_, i12_ = np.nonzero(q > 0)
        i1 = np.log(p1y[i1_, i12_] / (p1[i1_] * py[i12_]))
        i2 = np.log(p2y[i2_, i12_] / (p2[i2_] * py[i12_]))
        i12 = np.log(q[i1_, i2_, i12_] / (p12[i1_, i2_] * py[i12_]))
        c = i1 + i2 - i12
        signs = [np.where(np.abs(v) <= self.ZERO, 0.0, np.sign(v)) for v in (c, i1, i2, i12)]
        shared = (signs[0] != 0) & (signs[0] == signs[1]) & (signs[0] == signs[2])
        shared &= signs[0] == signs[3]
        r = float(np.sum(q[i1_, i2_, i12_][shared] * c[shared]))
        diag = SolverDiagnostics(
            converged=converged,
            iterations=sweeps,
            duality_gap=0.0,
            primal_residual=residual,
            tolerance=self.tol,
            seconds=time.perf_counter() - start,
            message="pairwise maximum-entropy fit by IPF (its support by linear programming "
            "when IPF alone converges too slowly)",
        )
        return r, diag


def pairwise_maxent(
    p: np.ndarray, *, tol: float = 1e-12, max_iter: int = 10_000, max_seconds: float = 60.0
) -> tuple[np.ndarray, int, float]:
    """Maximum-entropy pmf with the pairwise marginals of ``p[x1, x2, y]``.

    Iterative proportional fitting (IPF) from the uniform pmf on the cells where every pairwise
    marginal is positive converges to it; quickly (linearly) when it is positive on all those
    cells, which is the common case. When it has not converged after ``_FAST_SWEEPS`` sweeps,
    its support is found exactly by one linear program (at most ``max_seconds``) and IPF runs
    on that support.

    Returns the pmf, the number of IPF sweeps and the largest marginal residual.
    """
    targets = [p.sum(axis=ax, keepdims=True) for ax in (2, 1, 0)]
    candidates = (targets[0] > 0) & (targets[1] > 0) & (targets[2] > 0)
    q, sweeps, residual = _ipf(candidates / candidates.sum(), targets, tol, min(max_iter,
                                                                             _FAST_SWEEPS))
    if residual <= tol or sweeps >= max_iter:
        return q, sweeps, residual
    support = _maxent_support(p, candidates, max_seconds)
    q, more, residual = _ipf(support / support.sum(), targets, tol, max_iter - sweeps)
    return q, sweeps + more, residual


#: IPF sweeps tried on all candidate cells before the support is found by linear programming.
_FAST_SWEEPS = 500


def _ipf(
    q: np.ndarray, targets: list[np.ndarray], tol: float, max_iter: int
) -> tuple[np.ndarray, int, float]:
    """Iterative proportional fitting of ``q`` to the pairwise marginals ``targets``."""
    residual = math.inf
    sweeps = 0
    while sweeps < max_iter:
        sweeps += 1
        for ax, target in zip((2, 1, 0), targets, strict=True):
            current = q.sum(axis=ax, keepdims=True)
            q = q * np.divide(target, current, out=np.zeros_like(target), where=current > 0)
        residual = max(
            float(np.abs(q.sum(axis=ax, keepdims=True) - t).max())
            for ax, t in zip((2, 1), targets[:2], strict=True)
        )
        if residual <= tol:
            break
    return q, sweeps, residual


def _maxent_support(p: np.ndarray, candidates: np.ndarray, max_seconds: float) -> np.ndarray:
    """Boolean mask of the cells some pmf with the pairwise marginals of ``p`` makes positive.

    The maximum-entropy solution lies in the relative interior of that polytope, so its support
    is the union of the supports of all feasible pmfs. One linear program finds it: over the
    cone ``{(q, s) : A q = s b, q >= 0, s >= 0}`` (``A q = b`` the marginal constraints),
    maximise ``sum t`` with ``t <= q`` and ``0 <= t <= 1``. Any cell that some feasible pmf
    makes positive reaches ``q >= 1`` on a scaled copy of it, and the sum of such copies stays
    in the cone, so at the optimum ``t = 1`` on exactly those cells.
    """
    from scipy.optimize import linprog  # on first use: import interplay stays light
    from scipy.sparse import coo_matrix, csr_matrix, hstack, identity
    known = p > 0
    if known[candidates].all():
        return known
    cells = np.argwhere(candidates)
    n1, n2, ny = p.shape
    n = len(cells)
    rows = np.concatenate([
        cells[:, 0] * n2 + cells[:, 1],
        n1 * n2 + cells[:, 0] * ny + cells[:, 2],
        n1 * n2 + n1 * ny + cells[:, 1] * ny + cells[:, 2],
    ])
    b = np.concatenate([p.sum(axis=2).ravel(), p.sum(axis=1).ravel(), p.sum(axis=0).ravel()])
    used = np.flatnonzero(b > 0)  # rows of zero marginals hold no candidate cell
    a = coo_matrix((np.ones(3 * n), (rows, np.tile(np.arange(n), 3))), shape=(b.size, n))
    a = a.tocsr()[used]
    a_eq = hstack([a, csr_matrix((used.size, n)), csr_matrix(-b[used, None])]).tocsr()
    a_ub = hstack([-identity(n), identity(n), csr_matrix((n, 1))]).tocsr()
    start = time.perf_counter()
    res = linprog(
        np.concatenate([np.zeros(n), -np.ones(n), [0.0]]), A_ub=a_ub, b_ub=np.zeros(n),
        A_eq=a_eq, b_eq=np.zeros(used.size),
        bounds=[(0, None)] * n + [(0, 1)] * n + [(0, None)], method="highs",
        options={"time_limit": max_seconds},
    )
    if res.status != 0:
        raise ConvergenceError(
            f"I_ccs: the linear program that finds the support of the maximum-entropy "
            f"distribution of a {n1} x {n2} x {ny} table ({n} cells) stopped after "
            f"{time.perf_counter() - start:.0f} s ({res.message.strip()}). Allow more time with "
            "max_seconds, use fewer values per variable, or another method (broja, mmi)."
        )
    known[tuple(cells[res.x[n : 2 * n] > 0.5].T)] = True
    return known
