"""Exact BROJA on small blocks: Newton's method on the feasible set's own coordinates.

For fixed marginals ``p(x1, y)`` and ``p(x2, y)`` the couplings of one target value ``y`` are
the non-negative ``r_y x c_y`` matrices on the rows and columns of positive marginal with the
given row and column sums: an affine set of dimension ``(r_y - 1)(c_y - 1)``. Taking the
heaviest row ``a`` and column ``b`` of each ``y`` as reference, the "rectangles"

.. math:: e_{ijy} - e_{ajy} - e_{iby} + e_{aby}, \\quad i \\ne a,\\ j \\ne b,

span its directions, so ``q = q_0 + N t`` with ``q_0(x_1, x_2, y) = p(x_1, y) p(x_2, y) /
p(y)``, which is feasible and positive on every entry that may carry mass. The objective
``f(q) = sum q log q(y | x1, x2)`` is convex with gradient ``G = log q(y | x1, x2)`` and
Hessian ``diag(1 / q) - sum_cells 1_c 1_c^T / m_c`` (``m_c`` the cell's mass), so on a block
of a few dozen entries a damped Newton step on ``t`` costs a handful of tiny dense products.

The certificate is the duality gap against a feasible point of the dual geometric program
(see :mod:`interplay.info.pid.broja`): ``lam(x1, y) + mu(x2, y)`` is fitted to ``G`` by least
squares weighted by ``q`` (at an interior optimum the fit is exact), then every cell's
log-sum-exp constraint is restored by lowering whole rows of ``lam`` or whole columns of
``mu``, whichever costs less. Weak duality makes the gap an upper bound on the error of the
value whatever the iterate, so it is computed, never assumed.

Optima that empty whole cells are common (AND empties two). There the objective stays
differentiable, the Newton step points past the boundary, and the step stops short of it by
what leaves a tenth of ``tol`` of linear decrease; the emptied cells' least-squares weights
vanish with them, so the fitted dual meets only the constraints that bind, with slack on the
emptied cells, and one or two steps certify. When a combination of cells can be emptied
along a direction on which ``f`` is linear, plain Newton jams (one nearly empty entry blocks
every step); then a barrier path ``f - w sum log q``, ``w`` falling tenfold each time the
iterate is centred, runs from ``q_0`` in the same coordinates. On it ``G - w / q`` is
``lam + mu`` exactly with every cell's constraint slack, so the dual is fitted to that, and
the gap is ``w`` times the number of entries (a tenth of ``tol`` at the end) plus the fit's
residual. A block neither reaches within ``tol`` goes to the interior-point method.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._lazy import lazy_module

lapack = lazy_module("scipy.linalg.lapack")

_TO_BOUNDARY = 0.999999  # fraction of the longest step that keeps every entry positive
_EXTEND = 2.0  # a boundary within this many Newton steps is tried after a full step
_CLOSEST = 1e-12  # the nearest fraction of the longest step a step may stop short of it
_ARMIJO = 0.25  # decrease a step must achieve, as a fraction of the linear prediction
_JAMMED = 1e-3  # a step the boundary cuts below this is blocked
_HALVINGS = 2.0**-30  # backtracking below this fraction of the first trial: round-off
_RIDGE = 1e-12  # relative diagonal shift when the Hessian is singular
_MOST = 30  # Newton steps of each kind before handing the block to the general solver
_TO_BOUNDARY_BARRIER = 0.99  # the same on the barrier's path, which keeps away from it
_START = 0.1  # the barrier's first share of the gap (times the number of entries)
_PATH = 10.0  # factor the barrier weight falls by once the iterate is centred
_BARRIER = 0.1  # the barrier's last share of the gap, as a fraction of tol
_CERTIFY_BELOW = 100.0  # certify once the predicted gap is within this factor of tol
_EXP_SAFE = 700.0  # |lam + mu| below this: exp neither overflows nor underflows to 0
#: Blocks up to this many entries that may carry mass, and this many free coordinates, are
#: solved here; larger ones by the interior-point method.
SMALL_ENTRIES = 256
SMALL_COORDINATES = 96


class Structure:
    """What a block's solve needs from its support alone: the entries that may carry mass,
    the feasible set's directions, the cells and the dual's least-squares design."""

    def __init__(self, m1: np.ndarray, m2: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        # Built with Python lists: on blocks this small, one numpy call per step of the
        # construction would cost more than the whole loop.
        (k1, ky), k2 = m1.shape, m2.shape[0]
        by_y1, by_y2 = m1.T.tolist(), m2.T.tolist()
        ref1, ref2 = a.tolist(), b.tolist()
        ent_i: list[int] = []
        ent_j: list[int] = []
        ent_y: list[int] = []
        cell_of: list[int] = []
        cells: dict[tuple[int, int], int] = {}
        rect: tuple[list[int], list[int], list[float]] = ([], [], [])  # basis triplets
        dual: tuple[list[int], list[int]] = ([], [])  # design entries (row, unknown)
        lam: tuple[list[int], list[int]] = ([], [])  # (x1, y) of each lam unknown
        mu: tuple[list[int], list[int]] = ([], [])  # (x2, y) of each free mu unknown
        for y in range(ky):
            if not (by_y1[y][ref1[y]] and by_y2[y][ref2[y]]):
                continue
            # the reference row and column first: every direction of this y moves the entries
            # of the reference row and column, which should not be nearly empty
            rows = [ref1[y]] + [i for i, v in enumerate(by_y1[y]) if v and i != ref1[y]]
            cols = [ref2[y]] + [j for j, v in enumerate(by_y2[y]) if v and j != ref2[y]]
            first, width = len(ent_i), len(cols)
            lam0, mu0 = len(lam[0]), len(mu[0]) - 1
            lam[0].extend(rows)
            lam[1].extend([y] * len(rows))
            # mu at the first column is held at 0: adding c to lam(., y) and -c to mu(., y)
            # changes nothing
            mu[0].extend(cols[1:])
            mu[1].extend([y] * (width - 1))
            for r, i in enumerate(rows):
                for c, j in enumerate(cols):
                    e = len(ent_i)
                    ent_i.append(i)
                    ent_j.append(j)
                    ent_y.append(y)
                    cell_of.append(cells.setdefault((i, j), len(cells)))
                    dual[0].append(e)
                    dual[1].append(lam0 + r)
                    if c:  # mu unknowns are numbered after all of lam's, as ~index until then
                        dual[0].append(e)
                        dual[1].append(~(mu0 + c))
                    if r and c:  # the rectangle with corners (first row, first col), (i, j)
                        t = len(rect[2]) // 4
                        rect[0].extend((e, first + c, first + r * width, first))
                        rect[1].extend((t, t, t, t))
                        rect[2].extend((1.0, -1.0, -1.0, 1.0))
        n, d = len(ent_i), len(rect[2]) // 4
        self.shape = (k1, k2, ky)
        self.entries = (np.array(ent_i, dtype=np.intp), np.array(ent_j, dtype=np.intp),
                        np.array(ent_y, dtype=np.intp))
        basis = np.zeros((n, d))
        basis[rect[0], rect[1]] = rect[2]
        self.basis, self.basis_t = basis, basis.T
        self.cell = np.array(cell_of, dtype=np.intp)
        member = np.zeros((len(cells), n))
        member[cell_of, range(n)] = 1.0
        self.member = member
        self.cell_basis = member @ basis
        self.cell_basis_t = self.cell_basis.T
        self.cell_rows = np.array([c[0] for c in cells], dtype=np.intp)
        self.cell_cols = np.array([c[1] for c in cells], dtype=np.intp)
        # where each entry's p(x1, y) and p(x2, y), and each dual unknown's marginal, lie in
        # the concatenation of p1 and p2 flattened: one gather each per block
        at1 = np.array(ent_i, dtype=np.intp) * ky + self.entries[2]
        self.at1, self.at2 = at1, k1 * ky + np.array(ent_j, dtype=np.intp) * ky + self.entries[2]
        lam_at, mu_at = np.array(lam, dtype=np.intp), np.array(mu, dtype=np.intp)
        self.marginal_at = np.concatenate([lam_at[0] * ky + lam_at[1],
                                           k1 * ky + mu_at[0] * ky + mu_at[1]])
        unknown = np.array(dual[1], dtype=np.intp)
        unknown[unknown < 0] = len(lam[0]) + ~unknown[unknown < 0]
        design = np.zeros((n, len(lam[0]) + len(mu[0])))
        design[dual[0], unknown] = 1.0
        self.design, self.design_t = design, design.T

    @property
    def dimension(self) -> int:
        """Number of free coordinates ``t``."""
        return int(self.basis.shape[1])


class _Block:
    """A block's values on a :class:`Structure`: objective, Newton step and certificate."""

    def __init__(self, s: Structure, p1: np.ndarray, p2: np.ndarray) -> None:
        self.s, self.p1, self.p2 = s, p1, p2
        both = np.concatenate([p1.ravel(), p2.ravel()])
        self.q0 = both[s.at1] * both[s.at2] / p1.sum(axis=0)[s.entries[2]]
        self.marginals = both[s.marginal_at]
        self.px1, self.px2 = p1.sum(axis=1), p2.sum(axis=1)  # p(x1), p(x2)

    def objective(self, q: np.ndarray, weight: float) -> tuple[float, float, np.ndarray,
                                                              np.ndarray]:
        """``f(q)``, ``f(q) - weight sum log q``, the gradient ``G = log q(y | x1, x2)`` of ``f``
        per entry and the cell masses."""
        m = self.s.member @ q
        log_q = np.log(q)
        grad = log_q - np.log(m)[self.s.cell]
        f = float(q @ grad)
        return f, (f - weight * float(log_q.sum()) if weight else f), grad, m

    def newton(self, q: np.ndarray, grad: np.ndarray, m: np.ndarray, weight: float
               ) -> tuple[np.ndarray, float]:
        """The Newton step of ``f - weight sum log q`` on ``t`` mapped to ``q``, and the
        squared Newton decrement."""
        s = self.s
        if weight:
            g = s.basis_t @ (grad - weight / q)
            curvature = (1.0 + weight / q) / q
        else:
            g = s.basis_t @ grad
            curvature = 1.0 / q
        if not g.size:
            return np.zeros_like(q), 0.0
        hess = (s.basis_t * curvature) @ s.basis - (s.cell_basis_t / m) @ s.cell_basis
        _, step, info = lapack.dposv(hess, -g)
        if info != 0:  # flat directions (several optima, XOR) or round-off: a tiny ridge
            ridged = hess.copy()
            ridged.flat[:: g.size + 1] += _RIDGE * float(hess.diagonal().max())
            _, step, info = lapack.dposv(ridged, -g)
            if info != 0:
                step = np.linalg.lstsq(hess, -g, rcond=None)[0]
        return s.basis @ step, -float(g @ step)

    def certificate(self, q: np.ndarray, f: float, grad: np.ndarray, weight: float
                    ) -> tuple[float, float]:
        """The duality gap of ``q`` (nats, never below the truth) and the largest violation
        of a cell constraint by the fitted dual point before it was made feasible.

        The dual point is fitted to ``G - weight / q``: with ``weight`` 0, to the gradient of
        ``f``; on the barrier's central path, to what ``lam + mu`` is there exactly."""
        s = self.s
        weighted = s.design_t * q
        target = grad - weight / q if weight else grad
        _, dual, info = lapack.dposv(weighted @ s.design, weighted @ target)
        if info != 0:
            w = np.sqrt(q)
            dual = np.linalg.lstsq(s.design * w[:, None], target * w, rcond=None)[0]
        z = s.design @ dual
        if -_EXP_SAFE < z.min() and z.max() < _EXP_SAFE:  # (cheaper than np.errstate)
            lse = np.log(s.member @ np.exp(z))  # log sum_y e^(lam + mu) per cell
        else:
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                lse = np.log(s.member @ np.exp(z))
        worst = float(lse.max())
        if not math.isfinite(worst):
            return math.inf, math.inf
        dual_value = float(self.marginals @ dual)
        if worst <= 0.0:
            return f - dual_value, 0.0
        excess = np.zeros(s.shape[:2])
        excess[s.cell_rows, s.cell_cols] = lse
        np.maximum(excess, 0.0, out=excess)
        repair = min(float(self.px1 @ excess.max(axis=1)), float(self.px2 @ excess.max(axis=0)))
        return f - (dual_value - repair), worst

    def coupling(self, q: np.ndarray) -> np.ndarray:
        """The entries ``q`` as an array of the block's shape."""
        out = np.zeros(self.s.shape)
        out[self.s.entries] = q
        return out


def solve_small(
    p1: np.ndarray, p2: np.ndarray, tol: float, max_iter: int, structure: Structure | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Damped Newton on the feasible set's coordinates for a small block with marginals
    ``p1[x1, y]`` and ``p2[x2, y]`` (of a pmf); ``tol`` is the duality gap asked for, in nats.

    Plain Newton first (two or three steps on the gates); if it stalls, which happens when
    some cells empty along a direction on which ``f`` is linear, a barrier path from the
    start. ``structure`` may be passed when several blocks share a support. Returns the best
    certified coupling ``q[x1, x2, y]`` and a dict with its ``primal`` objective, the
    certified ``gap``, ``iterations``, residuals and a ``message``; a gap above ``tol``
    means the caller should try the general solver.
    """
    s = structure if structure is not None else \
        Structure(p1 > 0, p2 > 0, p1.argmax(axis=0), p2.argmax(axis=0))
    block = _Block(s, p1, p2)
    best = _descend(block, tol, min(max_iter, _MOST), barrier=False)
    if best[0] > tol:
        second = _descend(block, tol, min(max_iter, _MOST), barrier=True)
        second = (*second[:4], best[4] + second[4], second[5])
        if second[0] < best[0] or second[0] <= tol:
            best = second
    gap, q, f, dres, iterations, message = best
    coupling = block.coupling(q)
    presid = float(max(np.abs(coupling.sum(axis=1) - p1).max(),
                       np.abs(coupling.sum(axis=0) - p2).max()))
    return coupling, {
        "primal": f,
        "gap": max(gap, 0.0),
        "iterations": iterations,
        "primal_residual": presid,
        "dual_residual": dres,
        "message": message,
    }


def _descend(block: _Block, tol: float, max_iter: int, barrier: bool
             ) -> tuple[float, np.ndarray, float, float, int, str]:
    """Newton's method from ``q_0``: on ``f`` itself, or along the barrier's central path
    (weight divided by ``_PATH`` each time the iterate is centred, down to the weight whose
    share of the gap is ``_BARRIER`` of ``tol``). Returns the best certificate's gap, its
    iterate, objective and dual residual, the steps taken and a message."""
    n = block.q0.size
    final = _BARRIER * tol / n
    weight = max(_START / n, final) if barrier else 0.0
    to_boundary = _TO_BOUNDARY_BARRIER if barrier else _TO_BOUNDARY
    q = block.q0
    f, phi, grad, m = block.objective(q, weight)
    best: tuple[float, np.ndarray, float, float] = (math.inf, q, f, math.inf)
    message = "iteration limit reached"
    iterations, remaining, jammed = 0, math.inf, 0
    while True:
        dq, decrement = block.newton(q, grad, m, weight)
        if weight > final and decrement <= weight * n:  # centred: follow the path inwards
            weight = max(weight / _PATH, final)
            phi = f - weight * float(np.log(q).sum())
            dq, decrement = block.newton(q, grad, m, weight)
        # What is left to gain: the Newton decrement, or where the last step stopped short of
        # the boundary, the linear decrease still ahead of it (less than the decrement).
        if weight <= final and (min(decrement, remaining) <= _CERTIFY_BELOW * tol
                                or iterations == max_iter):
            gap, dres = block.certificate(q, f, grad, weight)
            if gap < best[0]:
                best = (gap, q, f, dres)
            if gap <= tol:
                message = "converged: duality gap within tolerance"
                break
        if iterations == max_iter:
            break
        if not decrement > 0.0 or not math.isfinite(decrement):
            message = "stopped: float64 round-off halted progress before the requested gap"
            break
        shrink = dq < 0
        longest = float((q[shrink] / -dq[shrink]).min()) if shrink.any() else math.inf
        # short of the boundary by what leaves a tenth of tol of linear decrease
        near = longest * (1.0 - min(max(0.1 * tol / (longest * decrement), _CLOSEST),
                                    1.0 - _TO_BOUNDARY))
        size = min(1.0, to_boundary * longest) if barrier or longest >= 1.0 else near
        # steps that the boundary cuts short twice running mean that an entry blocks the
        # descent (plain Newton jammed against the boundary): hand over
        jammed = jammed + 1 if size < _JAMMED else 0
        if jammed == 2:
            message = "stopped: jammed against the boundary"
            break
        shortest = _HALVINGS * size
        while size >= shortest:
            trial = q + size * dq
            if trial.min() > 0.0:
                f_new, phi_new, grad_new, m_new = block.objective(trial, weight)
                if phi_new <= phi - _ARMIJO * size * decrement:
                    break
            size *= 0.5
        else:
            message = "stopped: float64 round-off halted progress before the requested gap"
            break
        if size == 1.0 and not barrier and longest <= _EXTEND:
            # the boundary lies just past the Newton point (AND): when f is lower there, the
            # optimum is on it, and stopping short of it saves a step
            far = q + near * dq
            f_far, phi_far, grad_far, m_far = block.objective(far, weight)
            if f_far < f_new:
                size, trial, f_new, phi_new, grad_new, m_new = \
                    near, far, f_far, phi_far, grad_far, m_far
        remaining = (longest - size) * decrement if size == near else math.inf
        q, f, phi, grad, m = trial, f_new, phi_new, grad_new, m_new
        iterations += 1
    if best[0] == math.inf:  # never certified: certify the last iterate
        best = (*block.certificate(q, f, grad, weight), )
        best = (best[0], q, f, best[1])
    return (*best, iterations, message)
