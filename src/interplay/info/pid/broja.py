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

We solve the KKT conditions of this program with a primal-dual interior-point method
(Mehrotra's predictor-corrector): each cell ``(x1, x2)`` carries a slack ``s = -g`` and a
multiplier ``m``, which is its primal mass, so that ``q(x1, x2, y) = m softmax_y(lam + mu)``.
The Newton system has ``(k1 + k2) * ky`` unknowns and each cell's Hessian is diagonal plus
rank one; the ``lam`` blocks are eliminated through their Cholesky factors and the
``k2 * ky`` Schur complement is formed by one symmetric rank-k product, which stays accurate
while the cell weights ``m / s`` spread over twenty orders of magnitude near the optimum.
From ``k2 * ky >= 512`` on, that ``O(k^6)`` product is replaced by an ``O(k^5)`` expansion
factorised in float32, which preconditions conjugate gradients on the exact Hessian product
(the exact factorisation stays the fallback).
A proximal term and a trust region on ``lam + mu`` keep steps in nearly flat directions
(cells whose mass is vanishing) from leaving the region where the softmax is near-linear.
Every iterate's coupling is projected onto ``Delta_p`` exactly, and the gap between its
objective and a feasible dual point certifies the answer; 8 to 12 steps are typical.

Before any of this, :func:`solve_broja` splits the table into independent blocks of target
values (those sharing no cell), copies ``p`` on blocks with a single feasible point, and
solves blocks of a few dozen entries (the logic gates, tables up to about 5 x 5 x 5) by
Newton's method in the coordinates of the feasible set itself (:mod:`.broja_small`), which
is several times faster there; the interior-point method takes the larger blocks and any
small one that does not reach the gap.
"""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from functools import partial
from typing import Any

import numpy as np

from ..._lazy import lazy_module
from ..._threads import small_work
from ..._validation import check_choice, check_float, check_int, check_pmf
from ...exceptions import ConvergenceError, ConvergenceWarning, InvalidInputError
from .base import RedundancyMeasure, marginal_entropies, mis_of
from .broja_small import SMALL_COORDINATES, SMALL_ENTRIES, Structure, solve_small
from .result import SolverDiagnostics

linalg = lazy_module("scipy.linalg")
sparse = lazy_module("scipy.sparse")
csgraph = lazy_module("scipy.sparse.csgraph")

_Pair = tuple[np.ndarray, np.ndarray]  # a (lam, mu) vector of the Newton system

_NEG = -1e30  # stands for log(0) in masked dual entries; exp() of it is exactly 0
_TO_BOUNDARY = 0.99  # fraction of the largest step that keeps m and s positive
_SUFFICIENT = 0.01  # decrease of the merit function a step must achieve (per unit step)
_SHORTEST = 1e-4  # a step shorter than this means round-off has taken over
_PROXIMAL = 0.1  # proximal weight on the dual step, times the mean complementarity
_CERTIFY_BELOW = 1e3  # certify an iterate only once sum(m s) is within this factor of tol
_TRUST = 3.0  # largest change of lam + mu (nats) one step may make: softmax is only locally linear
_STRUCTURED_FROM = 512  # k2 * ky from which an O(k^5) float32 Schur complement preconditions CG
_CG_TOL = 1e-14  # normwise backward error CG must reach to stand in for the exact solve
_CG_STEPS = 20  # CG steps before falling back to the exact Schur complement
_SHIFT = 3e-3  # diagonal shift of the unit-diagonal preconditioner when it is indefinite
_ROWS = 256  # rows of the preconditioner scaled and rounded to float32 at a time
_STALL = 4  # Sinkhorn stops when this many sweeps did not halve its marginal error
_MAX_STEP_FLOPS = 2e11  # refused beyond: minutes per Newton step (k = 64 needs 3e10)
_DENSE_UP_TO = 256  # (k1 + k2) * ky up to which the Newton system is factorised whole
_DENSE_TARGETS = 64  # target values up to which blocks are found by dense products
_STRUCTURES_KEPT = 32  # small-block structures kept for supports seen again (< 1 MB each)

_STRUCTURES: dict[tuple[Any, ...], Structure] = {}
_STRUCTURES_LOCK = threading.Lock()


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
        r, diag, _ = self.decompose(p)
        return r, diag

    def decompose(self, p: np.ndarray) -> tuple[float, SolverDiagnostics,
                                                 tuple[float, float, float]]:
        # the marginal entropies serve both the certified clamp below and pid's atoms
        start = time.perf_counter()
        entropies, p1y, p2y = marginal_entropies(p)
        sol = solve_broja(p, tol=self.tol * math.log(2), max_iter=self.max_iter,
                          marginals=(p1y, p2y))
        hy = entropies[0]
        i1, i2, i12 = mis_of(entropies)
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
        return i1 + i2 - v_star, diag, (max(i1, 0.0), max(i2, 0.0), max(i12, 0.0))


def optimal_coupling(p: Any, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """The minimiser ``q*`` of ``I_q(Y; X1 X2)`` over ``Delta_p``, as an array like ``p``."""
    arr = check_pmf(p, "p", ndim=3)
    return solve_broja(arr, tol=tol * math.log(2), max_iter=max_iter)["q"]


@small_work
def solve_broja(p: np.ndarray, tol: float, max_iter: int,
                marginals: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """Solve the BROJA program for a validated pmf ``p[x1, x2, y]``; ``tol`` is in nats.
    ``marginals``, when the caller has them, are ``p.sum(axis=1)`` and ``p.sum(axis=0)``.

    Returns a dict with the primal objective ``sum q log q(y|x1,x2)`` (nats), the certified
    gap, residuals, iterations, a message and the coupling ``q`` (shape of ``p``).

    Only entries with ``p(x1, y) > 0`` and ``p(x2, y) > 0`` can carry mass in ``Delta_p``;
    for one ``y`` they form all pairs of its rows and columns, so two target values interact
    exactly when they share a cell ``(x1, x2)`` (the objective couples them there). The
    target values thus fall into independent blocks, each its own BROJA problem, scaled by
    its mass: the optimum, the certified gap and the coupling are mass-weighted sums over
    blocks. A block with a single value of X1, X2 or Y has a single feasible point (``q =
    p``), or ``q = p`` among its optima, and needs no solve: under COPY every block is one
    target value. Small blocks (the logic gates) are solved in the feasible set's own
    coordinates (:mod:`.broja_small`), the others by the interior-point method.
    """
    p1, p2 = marginals if marginals is not None else (p.sum(axis=1), p.sum(axis=0))
    m1, m2 = p1 > 0, p2 > 0
    groups, n_blocks = _target_blocks(m1, m2)
    # q = p wherever no block is solved: a target value alone in its block has q(y | cell) = 1
    # on every cell, for any coupling, and a block with one value of X1 or X2 holds one point
    q = p.copy()
    primal = 0.0
    hard = []
    for ys in groups:
        rows, cols = m1[:, ys].any(axis=1).nonzero()[0], m2[:, ys].any(axis=1).nonzero()[0]
        size = (rows.size, cols.size, ys.size)
        at = np.s_[:, :, :] if size == p.shape else np.ix_(rows, cols, ys)
        sub = p[at]
        if rows.size == 1 or cols.size == 1:
            primal += _neg_conditional_entropy(sub)
        else:
            hard.append((at, sub))
    sizes = [(max(sub.shape[:2]), min(sub.shape[:2]), sub.shape[2]) for _, sub in hard]
    large = [s for s in sizes if not _is_small(*s)]
    structured = _check_memory(large) if large else True
    gap = presid = dresid = 0.0
    iterations, messages = 0, []
    for at, sub in hard:
        mass = float(sub.sum())
        sub = sub / mass
        if sub.shape[1] > sub.shape[0]:
            # The dense Newton system has |X2| * |Y| unknowns: put the smaller source second.
            q_t, info = _solve_reduced(
                np.ascontiguousarray(sub.transpose(1, 0, 2)), tol, max_iter, structured
            )
            q_sub = q_t.transpose(1, 0, 2)
        else:
            q_sub, info = _solve_reduced(sub, tol, max_iter, structured)
        q[at] = mass * q_sub
        primal += mass * info["primal"]
        gap += mass * info["gap"]
        presid = max(presid, mass * info["primal_residual"])
        dresid = max(dresid, info["dual_residual"])
        iterations = max(iterations, info["iterations"])
        messages.append(info["message"])
    if not hard:
        message = "trivial: Delta_p is a single point"
    elif len(set(messages)) == 1:
        message = messages[0]
    else:
        message = "; ".join(f"{messages.count(m)} blocks {m}" for m in dict.fromkeys(messages))
    if n_blocks > 1:
        message += f" ({n_blocks} independent blocks, {len(hard)} solved)"
    return {
        "primal": primal,
        "gap": gap,
        "iterations": iterations,
        "primal_residual": presid,
        "dual_residual": dresid,
        "message": message,
        "q": q,
    }


def _target_blocks(m1: np.ndarray, m2: np.ndarray) -> tuple[list[np.ndarray], int]:
    """The independent blocks of two or more target values, and the number of all blocks
    (target values alone in theirs included).

    Target values ``y`` and ``y'`` are linked when they share a row of positive ``p(x1, .)``
    and a column of positive ``p(x2, .)``: a cell both may use. Up to ``_DENSE_TARGETS``
    values the links' transitive closure is taken by squaring the small link matrix;
    beyond, through a sparse graph over the entries (linear in their number).
    """
    ys = (m1.any(axis=0) & m2.any(axis=0)).nonzero()[0]
    if ys.size > _DENSE_TARGETS:
        (_, _, y), block, n_blocks = _blocks(m1, m2)
        label = np.zeros(m1.shape[1], dtype=np.intp)
        label[y] = block
        label = label[ys]
        count = np.bincount(label, minlength=n_blocks)
        shared = count[label] > 1
        ys, label = ys[shared], label[shared]
        order = np.argsort(label, kind="stable")
        bounds = np.flatnonzero(np.diff(label[order])) + 1
        return np.split(ys[order], bounds) if ys.size else [], n_blocks
    r, c = m1[:, ys].astype(float), m2[:, ys].astype(float)
    reach = ((r.T @ r) > 0) & ((c.T @ c) > 0)
    while not reach.all():  # (all linked: one block, as in most small tables)
        linked = reach.astype(float)
        wider = (linked @ linked) > 0
        if (wider == reach).all():
            break
        reach = wider
    # a block's first value reaches no smaller one
    roots = (reach.argmax(axis=1) == np.arange(ys.size)).nonzero()[0]
    groups = [ys[reach[r]] for r in roots.tolist()]
    return [g for g in groups if g.size > 1], len(groups)


def _blocks(m1: np.ndarray, m2: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray, int]:
    """The entries ``(x1, x2, y)`` that can carry mass, the independent block of each, and the
    number of blocks, for the supports ``m1 = p(x1, y) > 0`` and ``m2 = p(x2, y) > 0``.

    Nodes are the marginal entries ``(x1, y)``, ``(x2, y)`` and the cells ``(x1, x2)``; an
    entry with ``p(x1, y) > 0`` and ``p(x2, y) > 0`` joins its three nodes.
    """
    (k1, ky), k2 = m1.shape, m2.shape[0]
    i, j, y = np.nonzero(m1[:, None, :] & m2[None, :, :])
    cell = (k1 + k2) * ky + i * k2 + j
    nodes = (k1 + k2) * ky + k1 * k2
    graph = sparse.coo_matrix(
        (np.ones(2 * i.size), (np.concatenate([i * ky + y, (k1 + j) * ky + y]),
                               np.concatenate([cell, cell]))),
        shape=(nodes, nodes),
    )
    _, node_label = csgraph.connected_components(graph, directed=False)
    used, block = np.unique(node_label[cell], return_inverse=True)
    return (i, j, y), block.reshape(-1), used.size


def _is_small(k1: int, k2: int, ky: int) -> bool:
    """Whether a dense ``k1 x k2 x ky`` block is certain to take the small-block path."""
    return k1 * k2 * ky <= SMALL_ENTRIES and (k1 - 1) * (k2 - 1) * ky <= SMALL_COORDINATES


def _is_small_support(m1: np.ndarray, m2: np.ndarray) -> bool:
    """Whether a block with these supports of ``p(x1, y)`` and ``p(x2, y)`` takes the
    small-block path: few entries that may carry mass, and few free coordinates."""
    rows, cols = m1.sum(axis=0), m2.sum(axis=0)
    return bool((rows * cols).sum() <= SMALL_ENTRIES
                and ((rows - 1) * (cols - 1)).sum() <= SMALL_COORDINATES)


def _available_bytes() -> int:
    """Memory the operating system can give without swapping (MemAvailable), else all of it."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (OSError, ValueError, AttributeError):
        return 2**63 - 1


def _solver_bytes(k1: int, k2: int, ky: int) -> tuple[int, int]:
    """Peak bytes of a solve on a ``k1 x k2 x ky`` block: with the exact Newton factors only,
    and with the float32 preconditioner (which keeps the exact factors as fallback)."""
    cells, schur = k1 * k2 * ky, (k2 * ky) ** 2
    state = 24 * cells  # iterate, residuals, softmax, trial points: O(k1 k2 ky) arrays
    exact = 3 * k1 * k2 * ky * ky + 2 * schur  # B, C^-1 B (and copies), S and its factor
    if k2 * ky < _STRUCTURED_FROM:
        return 8 * (state + exact), 8 * (state + exact)
    kept = schur // 2 + 2 * k1 * ky * ky  # float32 factor, Lam^-1, kept during a fallback
    structured = k1 * k2 * k2 + 3 * cells + 2 * schur + 2 * k1 * ky * ky
    return 8 * (state + exact), 8 * (state + max(structured, exact + kept))


def _step_flops(k1: int, k2: int, ky: int, structured: bool) -> float:
    """Floating-point operations of one Newton step on a ``k1 x k2 x ky`` block."""
    n = k2 * ky
    if structured and n >= _STRUCTURED_FROM:
        return 2.0 * k1 * k2 * n * ky + n**3 / 3  # O(k^5) Schur expansion, float32 factor
    return float(k1 * ky) * n * n + n**3 / 3  # W^T W and the float64 factor


def _check_memory(shapes: list[tuple[int, int, int]]) -> bool:
    """Refuse, before allocating, blocks whose solve needs more memory than is available or
    whose Newton steps would each take many minutes; False when the preconditioned path does
    not fit in memory but the exact one does."""
    available = _available_bytes()
    structured = True
    for k1, k2, ky in shapes:
        exact, preconditioned = _solver_bytes(k1, k2, ky)
        fits = preconditioned <= available
        what = (f"BROJA on a table with {k1} x {k2} x {ky} values (X1 x X2 x Y, after "
                "removing values that cannot co-occur) needs")
        advice = ("Use fewer values per variable: bin continuous columns, or cluster them "
                  "(`quantify --estimator cluster`, `interplay.cluster_pid`).")
        if exact > available:
            raise InvalidInputError(
                f"{what} about {exact / 2**30:.3g} GiB for its Newton system, more than the "
                f"{available / 2**30:.3g} GiB of memory available. {advice}"
            )
        flops = _step_flops(k1, k2, ky, fits)
        if flops > _MAX_STEP_FLOPS:
            raise InvalidInputError(
                f"{what} about {flops:.2g} floating-point operations per Newton step (tens of "
                f"minutes each, and 8-12 steps). {advice}"
            )
        structured &= fits
    return structured


def _solve_reduced(
    p: np.ndarray,
    tol: float,
    max_iter: int,
    structured: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Solve one block ``p`` (a pmf): in the feasible set's coordinates when it is small,
    else (or when that does not reach ``tol``) by the interior-point method."""
    k1, k2, ky = p.shape
    p1, p2 = p.sum(axis=1), p.sum(axis=0)
    if ky == 1 or k1 == 1 or k2 == 1:
        # A single-valued variable fixes q = p: Delta_p holds one point.
        return p.copy(), _report(p, 0.0, 0, 0.0, 0.0, "trivial: Delta_p is a single point")
    m1, m2 = p1 > 0, p2 > 0
    small = None
    if _is_small(k1, k2, ky) or _is_small_support(m1, m2):
        a, b = p1.argmax(axis=0), p2.argmax(axis=0)  # the heaviest row and column of each y
        small = solve_small(p1, p2, tol, max_iter, _structure(m1, m2, a, b))
        if small[1]["gap"] <= tol:
            return small
    q, info = _interior_point(p1, p2, tol, max_iter, structured)
    if small is not None and small[1]["gap"] < info["gap"]:
        return small
    return q, info


def _structure(m1: np.ndarray, m2: np.ndarray, a: np.ndarray, b: np.ndarray) -> Structure:
    """The small path's :class:`Structure` for these supports and reference rows and columns,
    built once per support: several blocks of a table often share one (RDNUNQXOR's eight
    XORs), and so do repeated tables (bootstrap replicates, sweeps over a fixed support).
    The last ``_STRUCTURES_KEPT`` are kept, read-only."""
    key = (m1.shape, m2.shape[0], m1.tobytes(), m2.tobytes(), a.tobytes(), b.tobytes())
    structure = _STRUCTURES.get(key)
    if structure is None:
        structure = Structure(m1, m2, a, b)
        for value in vars(structure).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        with _STRUCTURES_LOCK:  # solves may run in threads (Dask, a user's pool)
            while len(_STRUCTURES) >= _STRUCTURES_KEPT:
                _STRUCTURES.pop(next(iter(_STRUCTURES)))  # the oldest
            _STRUCTURES[key] = structure
    return structure


def _interior_point(
    p1: np.ndarray, p2: np.ndarray, tol: float, max_iter: int, structured: bool
) -> tuple[np.ndarray, dict[str, Any]]:
    """The primal-dual interior-point method on a block with marginals ``p1``, ``p2``."""
    prob = _Problem(p1, p2)
    prob.structured = structured
    state = _PrimalDual(prob)
    best = prob.certificate(state.lam, state.mu, state.m)
    iterations = 0
    message = "iteration limit reached"
    while best[0] > tol and iterations < max_iter:
        try:
            moved = state.step()
            if not moved and state.approximate:
                # CG's direction is only as good as its residual: retry with the exact one
                moved = state.step(exact=True)
        except np.linalg.LinAlgError:
            moved = False
        if not moved:
            message = "stopped: float64 round-off halted progress before the requested gap"
            break
        iterations += 1
        if state.complementarity() > _CERTIFY_BELOW * tol:
            continue  # far from optimal: the certificate (Sinkhorn projection) would not pass
        cert = prob.certificate(state.lam, state.mu, state.m)
        if cert[0] < best[0]:
            best = cert
    if best[0] > tol and iterations and state.complementarity() > _CERTIFY_BELOW * tol:
        cert = prob.certificate(state.lam, state.mu, state.m)  # stopped early: certify anyway
        if cert[0] < best[0]:
            best = cert
    if best[0] <= tol:
        message = "converged: duality gap within tolerance"
    gap, q, _, presid, dresid = best
    return q, _report(q, gap, iterations, presid, dresid, message)


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


class _Problem:
    """The dual geometric program for fixed marginals ``p1[x1, y]`` and ``p2[x2, y]``."""

    def __init__(self, p1: np.ndarray, p2: np.ndarray) -> None:
        self.p1, self.p2 = p1, p2
        self.m1, self.m2 = p1 > 0, p2 > 0
        self.k1, self.ky = p1.shape
        self.k2 = p2.shape[0]
        allowed = self.m1[:, None, :] & self.m2[None, :, :]
        self.cells: np.ndarray = np.asarray(allowed.any(axis=2))  # bool[x1, x2]
        self.n_cells = int(self.cells.sum())
        self.fixed_mu = ~self.m2 | self._gauge_pins(allowed)
        #: False when memory allows only the exact Newton factors (no float32 preconditioner)
        self.structured = True

    def _gauge_pins(self, allowed: np.ndarray) -> np.ndarray:
        """One mu entry per connected component of each y's bipartite (x1, x2) graph.

        Shifting lam(., y) up and mu(., y) down on one component changes nothing, so one entry
        of mu per component is held fixed to make the Newton system non-singular.
        """
        k1, k2, ky = self.k1, self.k2, self.ky
        i, j, y = np.nonzero(allowed)  # one graph for all y: nodes (x1, y) and (x2, y)
        nodes = (k1 + k2) * ky
        graph = sparse.coo_matrix((np.ones(i.size), (i * ky + y, (k1 + j) * ky + y)),
                           shape=(nodes, nodes))
        _, labels = csgraph.connected_components(graph, directed=False)
        free = np.flatnonzero(self.m2.ravel())  # (x2, y) entries in x2-major order
        _, first = np.unique(labels[k1 * ky + free], return_index=True)
        pins = np.zeros(k2 * ky, dtype=bool)
        pins[free[first]] = True
        return pins.reshape(k2, ky)

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

    def certificate(
        self, lam: np.ndarray, mu: np.ndarray, m: np.ndarray
    ) -> tuple[float, np.ndarray, float, float, float]:
        """Gap between a feasible coupling and a feasible dual point, with residuals.

        The coupling is ``m(x1, x2) softmax_y(lam + mu)`` projected onto ``Delta_p`` (Sinkhorn,
        then exact rounding); the dual point is ``(lam, mu)`` with each ``lam`` row lowered
        until every cell constraint holds.
        """
        g, pi = self._g(lam, mu)
        worst = float(g[self.cells].max())
        dual_resid = max(worst, 0.0)
        # Feasible dual point: shift each lam row by its worst cell (g <= 0 afterwards).
        shift = np.where(self.cells, g, -np.inf).max(axis=1)
        shift = np.maximum(shift, 0.0)
        dual = self.objective(lam, mu) - float((self.p1.sum(axis=1) * shift).sum())
        q = _round_to_marginals(_sinkhorn(m[..., None] * pi, self.p1, self.p2), self.p1, self.p2)
        presid = float(
            max(np.abs(q.sum(axis=1) - self.p1).max(), np.abs(q.sum(axis=0) - self.p2).max())
        )
        primal = _neg_conditional_entropy(q)
        return primal - dual, q, primal, presid, dual_resid


class _PrimalDual:
    """Mehrotra predictor-corrector iterate for the dual geometric program.

    Unknowns: the dual point ``(lam, mu)``, each cell's slack ``s = -g(lam, mu) > 0`` and its
    multiplier ``m > 0``, which is the cell's primal mass: ``q = m * softmax_y(lam + mu)``.
    The KKT conditions are ``sum_x2 q = p1``, ``sum_x1 q = p2`` (primal feasibility),
    ``g + s = 0`` and ``m * s = 0``; each step linearises them around the central path
    ``m * s = sigma * mean(m * s)``, with ``sigma`` from an affine predictor, and backtracks
    on the sum of the residuals' norms, since ``g`` and the softmax are nonlinear.
    """

    def __init__(self, prob: _Problem) -> None:
        self.prob = prob
        self.lam, self.mu = prob.initial_point()
        g = prob._g(self.lam, self.mu)[0]
        cells = prob.cells
        self.s = np.where(cells, -g, 1.0)
        self.m = np.where(cells, 1.0 / (prob.n_cells * self.s), 0.0)
        self.approximate = False

    def complementarity(self) -> float:
        """``sum(m * s)``: the duality gap of the iterate once its residuals vanish."""
        return float((self.m * self.s).sum())

    def _residuals(
        self, lam: np.ndarray, mu: np.ndarray, s: np.ndarray, m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        prob = self.prob
        g, pi = prob._g(lam, mu)
        r_g = np.where(prob.cells, g + s, 0.0)
        q = m[..., None] * pi
        r_lam = np.where(prob.m1, q.sum(axis=1) - prob.p1, 0.0)
        r_mu = np.where(prob.m2, q.sum(axis=0) - prob.p2, 0.0)
        return pi, r_g, r_lam, r_mu

    def _merit(
        self, lam: np.ndarray, mu: np.ndarray, s: np.ndarray, m: np.ndarray, weight: np.ndarray
    ) -> float:
        """Residual norms plus complementarity; the slack residuals are weighted by the cell
        masses at the start of the step, so that every Newton direction is a descent one."""
        _, r_g, r_lam, r_mu = self._residuals(lam, mu, s, m)
        return float(
            np.abs(r_lam).sum() + np.abs(r_mu).sum() + np.abs(weight * r_g).sum() + (m * s).sum()
        )

    def step(self, exact: bool = False) -> bool:
        """One predictor-corrector step; False when no step reduces the merit function.

        ``exact`` forces the exact Newton system; ``self.approximate`` records whether
        preconditioned conjugate gradients solved it instead."""
        prob, cells = self.prob, self.prob.cells
        lam, mu, s, m = self.lam, self.mu, self.s, self.m
        pi, r_g, r_lam, r_mu = self._residuals(lam, mu, s, m)
        gap = float((m * s)[cells].mean())
        system = _NewtonSystem(
            prob, pi, m[..., None] * pi, np.where(cells, m / s - m, 0.0), _PROXIMAL * gap, exact
        )
        self.approximate = system.precond is not None

        def direction(target: np.ndarray) -> tuple[np.ndarray, ...]:
            # Eliminating ds and dm leaves H d(lam, mu) = -(r + sum_cells pi h).
            h = np.where(cells, (target + m * r_g) / s, 0.0)[..., None] * pi
            dlam, dmu = system.solve(
                r_lam + np.where(prob.m1, h.sum(axis=1), 0.0),
                r_mu + np.where(prob.m2, h.sum(axis=0), 0.0),
            )
            dz = dlam[:, None, :] + dmu[None, :, :]
            ds = np.where(cells, -r_g - (pi * dz).sum(axis=2), 0.0)
            dm = np.where(cells, (target - m * ds) / s, 0.0)
            return dlam, dmu, ds, dm

        def longest(ds: np.ndarray, dm: np.ndarray) -> float:
            ratios = np.concatenate([-s[ds < 0] / ds[ds < 0], -m[dm < 0] / dm[dm < 0]])
            return float(min(1.0, ratios.min())) if ratios.size else 1.0

        _, _, ds, dm = direction(np.where(cells, -m * s, 0.0))  # affine predictor
        size = longest(ds, dm)
        predicted = float(((m + size * dm) * (s + size * ds))[cells].mean())
        sigma = (predicted / gap) ** 3
        centred = np.where(cells, sigma * gap - m * s, 0.0)
        merit = self._merit(lam, mu, s, m, m)
        # Mehrotra's second-order correction first; far from the solution it can point
        # uphill, and then the plain centred direction is taken instead.
        for target in (centred - ds * dm, centred):
            dlam, dmu, ds_, dm_ = direction(target)
            size = min(
                1.0, _TO_BOUNDARY * longest(ds_, dm_), _TRUST / _largest_move(dlam, dmu, cells)
            )
            while size >= _SHORTEST:
                trial = (
                    np.where(prob.m1, lam + size * dlam, lam),
                    mu + size * dmu,
                    np.where(cells, s + size * ds_, 1.0),
                    np.where(cells, m + size * dm_, 0.0),
                )
                if self._merit(*trial, m) <= (1.0 - _SUFFICIENT * size) * merit:
                    self.lam, self.mu, self.s, self.m = trial
                    return True
                size *= 0.5
        return False


class _NewtonSystem:
    """The Hessian ``H = sum_cells A_c^T (diag(d_c) + a_c pi_c pi_c^T) A_c + reg I``, to solve.

    ``A_c`` maps ``(lam, mu)`` to the cell's ``z = lam[x1] + mu[x2]``. The ``lam`` blocks
    ``Lam`` (``ky`` square, one per ``x1``) are eliminated, leaving the Schur complement
    ``S = Mu - sum_x1 B^T Lam^-1 B`` onto ``mu`` (``k2 * ky`` square; ``B`` holds the cell
    blocks). It is formed one of two ways:

    * exact: ``W = C^-1 B`` through the Cholesky factors ``C`` of ``Lam``, then ``Mu - W^T W``
      by one ``O(k^6)`` symmetric product and a float64 Cholesky factorisation. Backward
      stable, so it keeps the digits the last interior-point steps need while the cell
      weights spread over twenty orders of magnitude.
    * preconditioner (``k2 * ky >= _STRUCTURED_FROM``, unless ``exact``): ``S`` expanded in
      ``O(k^5)`` from ``Lam^-1`` and the diagonal-plus-rank-one cell blocks, scaled to a unit
      diagonal and factorised in float32 (shifted when round-off left it indefinite). That
      loses digits, so it only preconditions conjugate gradients on the exact ``O(k^3)``
      product with ``H``; when these do not reach a normwise backward error of ``_CG_TOL``
      within ``_CG_STEPS`` steps, or no factor exists, the exact ``S`` is formed instead.
      At ``k = 64`` this makes a step about four times cheaper.
    """

    def __init__(
        self,
        prob: _Problem,
        pi: np.ndarray,
        d: np.ndarray,
        a: np.ndarray,
        reg: float = 0.0,
        exact: bool = False,
    ) -> None:
        ky = prob.ky
        self.prob, self.pi, self.d, self.reg = prob, pi, d, reg
        self.api = a[..., None] * pi  # rank-one part of each cell block is api pi^T
        eye = np.eye(ky)
        # lam block: Lam[x1] = diag(sum_x2 d) + sum_x2 a pi pi^T  (+ identity on masked entries)
        lam_blk = np.einsum("ijy,ijz->iyz", self.api, pi)
        lam_blk += eye * (d.sum(axis=1) + ~prob.m1 + reg)[:, :, None]
        self.lam_blk = lam_blk
        self.chol = _batched_cholesky(lam_blk)
        self.mu_blk = np.einsum("ijy,ijz->jyz", self.api, pi)
        self.mu_blk += eye * (d.sum(axis=0) + reg)[:, :, None]
        self.fixed = prob.fixed_mu.ravel()
        self.dense = self._dense_factor() if (prob.k1 + prob.k2) * ky <= _DENSE_UP_TO else None
        small = prob.k2 * ky < _STRUCTURED_FROM or not prob.structured
        self.precond = None if exact or small or self.dense is not None else \
            self._preconditioner()
        self.factor = self._exact_factor() if self.precond is None and self.dense is None \
            else None

    def _dense_factor(self) -> np.ndarray | None:
        """Cholesky factor of the whole ``H + reg`` (pinned ``mu`` entries held at zero) for
        small systems, where one dense factorisation beats the block elimination's per-block
        calls; None when round-off leaves it indefinite (the block elimination then runs)."""
        k1, k2, ky = self.prob.k1, self.prob.k2, self.prob.ky
        n1 = k1 * ky
        cell = self.api[:, :, :, None] * self.pi[:, :, None, :]  # (i, j, y, y')
        idx = np.arange(ky)
        cell[:, :, idx, idx] += self.d
        h = np.zeros((n1 + k2 * ky,) * 2)
        lam = h[:n1, :n1].reshape(k1, ky, k1, ky)
        lam[np.arange(k1), :, np.arange(k1), :] = self.lam_blk
        mu = h[n1:, n1:].reshape(k2, ky, k2, ky)
        mu[np.arange(k2), :, np.arange(k2), :] = self.mu_blk
        h[:n1, n1:] = cell.transpose(0, 2, 1, 3).reshape(n1, k2 * ky)
        h[n1:, :n1] = h[:n1, n1:].T
        pinned = n1 + np.flatnonzero(self.fixed)
        h[pinned, :] = 0.0
        h[:, pinned] = 0.0
        h[pinned, pinned] = 1.0
        try:
            return np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            return None

    def _exact_factor(self) -> tuple[np.ndarray, bool] | np.ndarray:
        """Float64 Cholesky factor of ``S = Mu - W^T W``, ``W = C^-1 B``, with the
        gauge-pinned ``mu`` entries held at zero."""
        k1, k2, ky = self.prob.k1, self.prob.k2, self.prob.ky
        # B[i] = [diag(d_ij) + api_ij pi_ij^T]_j as (i, y, j, y')
        b_mat = self.api[:, :, :, None] * self.pi[:, :, None, :]  # (i, j, y, y')
        idx = np.arange(ky)
        b_mat[:, :, idx, idx] += self.d
        b_mat = np.ascontiguousarray(b_mat.transpose(0, 2, 1, 3)).reshape(k1, ky, k2 * ky)
        w2 = _tri_solve(self.chol, b_mat).reshape(k1 * ky, k2 * ky)
        s_mat = w2.T @ w2
        np.negative(s_mat, out=s_mat)
        blk = np.arange(k2)
        s_mat.reshape(k2, ky, k2, ky)[blk, :, blk, :] += self.mu_blk
        s_mat[self.fixed, :] = 0.0
        s_mat[:, self.fixed] = 0.0
        s_mat[self.fixed, self.fixed] = 1.0
        return _cholesky(s_mat)

    def _preconditioner(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``Lam^-1``, the float32 Cholesky factor of ``D S D`` and its diagonal scaling ``D``,
        with ``S`` formed in ``O(k^5)``; None when round-off leaves it indefinite.

        With ``L = Lam_i^-1``, ``V_j = L api_ij`` and ``c_jj' = api_ij^T L api_ij'``, the
        ``((j, y), (j', y'))`` entry of ``B_i^T L B_i`` is ``d_jy (d_j'y' L_yy' + V_j'y
        pi_j'y') + pi_jy (V_jy' d_j'y' + c_jj' pi_j'y')``; the sum over ``i`` of the first
        part is one matrix product per ``y``, of the second one per ``j``.
        """
        k1, k2, ky = self.prob.k1, self.prob.k2, self.prob.ky
        n = k2 * ky
        d, pi, api = self.d, self.pi, self.api
        eye = np.eye(ky)
        c_inv = np.stack(
            [linalg.solve_triangular(c, eye, lower=True, check_finite=False) for c in self.chol]
        )
        lam_inv = np.matmul(c_inv.transpose(0, 2, 1), c_inv)  # (i, y, y')
        # F = C^-1 api, then V = C^-T F and c = F^T F: products of api with Lam^-1 itself
        # would carry its round-off, magnified by the huge weights of the active cells.
        f = np.matmul(c_inv, api.transpose(0, 2, 1))  # (i, y, j)
        v = np.matmul(f.transpose(0, 2, 1), c_inv)  # (i, j, y): Lam_i^-1 api_ij
        c = np.matmul(f.transpose(0, 2, 1), f)  # (i, j, j')
        blocks = np.empty((k2, ky, k2, ky))
        for y in range(ky):
            z = d * lam_inv[:, y, None, :] + v[:, :, y, None] * pi  # (i, j', y')
            blocks[:, y] = (d[:, :, y].T @ z.reshape(k1, n)).reshape(k2, k2, ky)
        for j in range(k2):
            z = v[:, j, None, :] * d + c[:, j, :, None] * pi
            blocks[j] += (pi[:, j, :].T @ z.reshape(k1, n)).reshape(ky, k2, ky)
        np.negative(blocks, out=blocks)
        blk = np.arange(k2)
        blocks[blk, :, blk, :] += self.mu_blk
        s_mat = blocks.reshape(n, n)
        # S >= reg I, which round-off in the expansion can break on nearly empty entries.
        diag = np.where(self.fixed, 1.0, np.maximum(np.diagonal(s_mat), self.reg))
        if not np.all(diag > 0):
            return None
        np.fill_diagonal(s_mat, diag)
        scale = 1.0 / np.sqrt(diag)
        for r0 in range(0, n, _ROWS):  # D S D in place, a band of rows at a time
            s_mat[r0 : r0 + _ROWS] *= scale[r0 : r0 + _ROWS, None] * scale[None, :]
        factor = np.empty((n, n), dtype=np.float32)
        # Round-off in S can leave a few directions indefinite; a shift of the unit diagonal
        # makes it a (weaker) preconditioner again, and CG makes up the difference.
        for shift in (0.0, _SHIFT):
            for r0 in range(0, n, _ROWS):  # the lower triangle, rounded to float32
                factor[r0 : r0 + _ROWS, : r0 + _ROWS] = s_mat[r0 : r0 + _ROWS, : r0 + _ROWS]
            factor.flat[:: n + 1] += shift
            factor[self.fixed, :] = 0.0
            factor[:, self.fixed] = 0.0
            factor[self.fixed, self.fixed] = 1.0
            # factor.T is the same memory in Fortran order with the triangle called upper, so
            # LAPACK factorises it in place: U^T U = D S D, U^T the lower triangle of factor.
            potrf = linalg.get_lapack_funcs("potrf", (factor,))
            if potrf(factor.T, lower=False, overwrite_a=True, clean=False)[1] == 0:
                return lam_inv, factor, scale
        return None

    def _apply_b(self, v: np.ndarray, over: str) -> np.ndarray:
        """Cell blocks applied to ``v``: summed over x1 (``over="i"``) or x2 (``over="j"``)."""
        d, api, pi = self.d, self.api, self.pi
        if over == "i":  # v[x1, y] -> [x2, y]
            return np.einsum("ijy,iy->jy", d, v) + np.einsum(
                "ijy,ij->jy", api, np.einsum("ijz,iz->ij", pi, v)
            )
        return np.einsum("ijy,jy->iy", d, v) + np.einsum(
            "ijy,ij->iy", api, np.einsum("ijz,jz->ij", pi, v)
        )

    def apply(
        self, vlam: np.ndarray, vmu: np.ndarray, absolute: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """``H v`` without ``reg``, in ``O(k1 k2 ky)``; with ``absolute``, ``|H| |v|``, the
        scale of the round-off in that product."""
        api = self.api
        if absolute:
            vlam, vmu, api = np.abs(vlam), np.abs(vmu), np.abs(api)
        z = vlam[:, None, :] + vmu[None, :, :]
        hz = self.d * z + api * (self.pi * z).sum(axis=2, keepdims=True)
        return np.where(self.prob.m1, hz.sum(axis=1), vlam), hz.sum(axis=0)

    def solve(self, grad_lam: np.ndarray, grad_mu: np.ndarray) -> _Pair:
        """The Newton direction ``-H^-1 (grad_lam, grad_mu)`` with the gauge entries held at 0."""
        b = (-grad_lam, np.where(self.prob.fixed_mu, 0.0, -grad_mu))
        if self.dense is not None:
            n1 = self.prob.k1 * self.prob.ky
            # numpy's solve: for systems this small, scipy's per-call checks cost more
            y = np.linalg.solve(self.dense, np.concatenate([b[0].ravel(), b[1].ravel()]))
            x = np.linalg.solve(self.dense.T, y)
            x_lam = x[:n1].reshape(b[0].shape)
            x_lam[~self.prob.m1] = 0.0
            return x_lam, x[n1:].reshape(b[1].shape)
        if self.factor is None:
            x = self._conjugate_gradients(b)
            if x is not None:
                return x
            self.factor = self._exact_factor()
        return self._eliminate(b, exact=True)

    def _eliminate(self, b: _Pair, exact: bool) -> _Pair:
        """``H^-1 b`` by block elimination through ``S``: exactly with the float64 factors,
        approximately with ``Lam^-1`` and the float32 factor of the preconditioner."""
        prob = self.prob
        if exact or self.precond is None:  # without a preconditioner, the exact factors
            if self.factor is None:
                self.factor = self._exact_factor()
            factor = self.factor
            lam_solve = partial(_chol_solve, self.chol)

            def s_solve(rhs: np.ndarray) -> np.ndarray:
                return _cho_solve(factor, rhs)
        else:
            lam_inv, lower, scale = self.precond
            lam_solve = partial(np.einsum, "iyz,iz->iy", lam_inv)

            def s_solve(rhs: np.ndarray) -> np.ndarray:  # (D L L^T D)^-1 rhs
                y = (scale * rhs).astype(lower.dtype)
                y = linalg.solve_triangular(lower, y, lower=True, check_finite=False)
                y = linalg.solve_triangular(lower, y, lower=True, trans="T", check_finite=False)
                return scale * y

        b_lam, b_mu = b
        rhs = (b_mu - self._apply_b(lam_solve(b_lam), "i")).ravel()
        rhs[self.fixed] = 0.0
        x_mu = s_solve(rhs).reshape(prob.k2, prob.ky)
        x_lam = lam_solve(b_lam - self._apply_b(x_mu, "j"))
        x_lam[~prob.m1] = 0.0
        return x_lam, x_mu

    def _operator(self, v: _Pair, absolute: bool = False) -> _Pair:
        """``(H + reg) v`` on the free entries, identity on the masked and pinned ones."""
        h_lam, h_mu = self.apply(*v, absolute=absolute)
        v_lam, v_mu = (np.abs(v[0]), np.abs(v[1])) if absolute else v
        h_lam = np.where(self.prob.m1, h_lam + self.reg * v_lam, v_lam)
        return h_lam, np.where(self.prob.fixed_mu, v_mu, h_mu + self.reg * v_mu)

    def _conjugate_gradients(self, b: _Pair) -> _Pair | None:
        """Preconditioned CG on ``(H + reg) x = b``; None unless the normwise backward error
        ``||r|| / (|| |H| |x| || + ||b||)`` falls to ``_CG_TOL`` within ``_CG_STEPS`` steps."""

        def dot(u: _Pair, w: _Pair) -> float:
            return float(np.vdot(u[0], w[0]) + np.vdot(u[1], w[1]))

        def scale(x: _Pair) -> float:
            h = self._operator(x, absolute=True)
            return math.sqrt(dot(h, h)) + math.sqrt(dot(b, b))

        b = (np.where(self.prob.m1, b[0], 0.0), b[1])
        x = self._eliminate(b, exact=False)
        r = _plus(b, -1.0, self._operator(x))
        z = self._eliminate(r, exact=False)
        direction, rz, size = z, dot(r, z), scale(x)
        for _ in range(_CG_STEPS):
            if math.sqrt(dot(r, r)) <= _CG_TOL * size:
                size = scale(x)  # confirm with the scale of the final x
                if math.sqrt(dot(r, r)) <= _CG_TOL * size:
                    return x
            h_dir = self._operator(direction)
            curvature = dot(direction, h_dir)
            if not curvature > 0.0:
                return None
            alpha = rz / curvature
            x = _plus(x, alpha, direction)
            r = _plus(r, -alpha, h_dir)
            z = self._eliminate(r, exact=False)
            rz, rz_old = dot(r, z), rz
            direction = _plus(z, rz / rz_old, direction)
        return None


def _plus(u: _Pair, alpha: float, w: _Pair) -> _Pair:
    """``u + alpha w`` for pairs ``(lam part, mu part)``."""
    return u[0] + alpha * w[0], u[1] + alpha * w[1]


def _largest_move(dlam: np.ndarray, dmu: np.ndarray, cells: np.ndarray) -> float:
    """The largest change of ``lam + mu`` over the cells' finite entries."""
    dz = np.abs(dlam[:, None, :] + dmu[None, :, :])
    return float(dz[cells].max()) + np.finfo(float).tiny


def _batched_cholesky(blocks: np.ndarray) -> np.ndarray:
    """Cholesky factors of a stack of SPD blocks, with a growing diagonal jitter on blocks
    that round-off has made indefinite (underflowed softmax entries leave zero pivots)."""
    try:
        return np.linalg.cholesky(blocks)
    except np.linalg.LinAlgError:
        pass
    diag = np.einsum("iyy->iy", blocks)
    scale = np.abs(diag).max(axis=1, keepdims=True) + np.finfo(float).tiny
    for power in range(-15, 0, 2):
        try:
            return np.linalg.cholesky(
                blocks + 10.0**power * scale[:, :, None] * np.eye(blocks.shape[1])
            )
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError("the Newton system is numerically singular")


def _tri_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``chol[i]^-1 b[i]`` for a stack of lower-triangular factors."""
    return np.stack(
        [
            linalg.solve_triangular(c, r, lower=True, check_finite=False)
            for c, r in zip(chol, b, strict=True)
        ]
    )


def _chol_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(chol[i] chol[i]^T)^-1 b[i]`` for a stack of factors and vectors ``b[i]``."""
    return np.stack(
        [linalg.cho_solve((c, True), r, check_finite=False) for c, r in zip(chol, b, strict=True)]
    )


def _cholesky(a: np.ndarray) -> tuple[np.ndarray, bool] | np.ndarray:
    """Cholesky factor of a symmetric positive-definite matrix, jittering the diagonal if
    round-off bites; the pseudo-inverse as a last resort."""
    diag = np.einsum("ii->i", a)
    scale = float(np.abs(diag).max()) or 1.0
    jitter = 0.0
    for _ in range(8):
        try:
            return linalg.cho_factor(a, lower=True, check_finite=False)
        except linalg.LinAlgError:
            step = scale * 1e-14 if jitter == 0.0 else jitter * 99
            diag += step
            jitter += step
    return np.linalg.pinv(a, hermitian=True)


def _cho_solve(factor: tuple[np.ndarray, bool] | np.ndarray, b: np.ndarray) -> np.ndarray:
    if isinstance(factor, np.ndarray):
        return factor @ b
    return linalg.cho_solve(factor, b, check_finite=False)


def _sinkhorn(q: np.ndarray, p1: np.ndarray, p2: np.ndarray, iters: int = 100) -> np.ndarray:
    """Rescale rows and columns of each ``q[:, :, y]`` towards marginals ``p1``, ``p2``.

    The KL projection of a near-feasible coupling onto ``Delta_p``; far more accurate than the
    multipliers of the barrier alone, whose ``1 / (t * -g)`` loses digits as ``g -> 0``.
    """
    errors: list[float] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(iters):
            rows = q.sum(axis=1)
            q = q * np.where(rows > 0, p1 / rows, 0.0)[:, None, :]
            cols = q.sum(axis=0)
            q = q * np.where(cols > 0, p2 / cols, 0.0)[None, :, :]
            errors.append(float(np.abs(q.sum(axis=1) - p1).max()))
            # Done at round-off, or once it stalls (mass draining into vanishing entries
            # converges sublinearly); the exact rounding that follows fixes the remainder.
            if errors[-1] < 1e-16 or (it >= _STALL and errors[-1] > 0.5 * errors[-_STALL]):
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
