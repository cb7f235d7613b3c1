"""Partial information decomposition of jointly Gaussian variables.

For Gaussian (X1, X2, Y) the BROJA union information
``I_u = min_Q I_Q(Y; X1, X2)`` over couplings Q with the (X1, Y) and (X2, Y) marginals of P is
attained by a Gaussian Q (Zhao et al. 2025), so the problem reduces to one matrix. Whiten Y and
each source's noise given Y: ``Xi = Hi Y + Ni`` with ``Cov(Y) = I``, ``Cov(Ni) = I`` and the
rows of ``Hi`` orthogonal. The couplings differ only in ``Sigma = Cov(N1, N2)``, any matrix with
spectral norm <= 1, and ``I_u = I(X1;Y) + I(X2;Y) + min_Sigma [I(X1;X2|Y) - I(X1;X2)]``, a
convex problem solved with a certified duality gap in :mod:`.gaussian_broja`. Source
directions that carry no signal about Y are dropped first (pure noise never lowers the
minimum), so the unknown is at most ``rank(H1) x rank(H2)``; when the bounds
``max(I1, I2) <= I_u <= min(I1 + I2, I(X1,X2;Y))`` already meet (one source holds everything)
no optimisation runs.

Whitening uses pivoted Cholesky factorisations (singular blocks allowed) and one symmetric
eigendecomposition per source, so the set-up costs a few ``d^3`` flops.

Then ``R = I(X1;Y) + I(X2;Y) - I_u``, ``U1 = I_u - I(X2;Y)``, ``U2 = I_u - I(X1;Y)`` and
``S = I(X1,X2;Y) - I_u``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._lazy import lazy_module
from ..._threads import large_columns, policy
from ..._validation import (
    check_base,
    check_choice,
    check_float,
    check_int,
    check_samples,
    units_of,
)
from ...exceptions import ConvergenceError, ConvergenceWarning, InvalidInputError
from .gaussian_broja import solve_union
from .result import PIDResult, SolverDiagnostics

linalg = lazy_module("scipy.linalg")
lapack = lazy_module("scipy.linalg.lapack")

__all__ = ["gaussian_pid", "gaussian_pid_from_samples", "gaussian_mi_bias"]

#: Relative size below which a pivot of a covariance block counts as zero.
_RANK_TOL = 1e-10
#: ``1 - s^2`` below this for a canonical correlation ``s`` counts as infinite information.
_INFINITE = 2e-13
#: Squared canonical correlations below this count as no signal.
_NO_SIGNAL = 1e-13
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
    half_skew = (arr.T - arr) / 2
    asym = 2.0 * float(np.max(np.abs(half_skew)))
    if asym > 1e-8 * scale:
        raise InvalidInputError(
            f"`{name}` must be symmetric, got a largest asymmetry |C - C^T| of {asym:.3g}."
        )
    arr = arr + half_skew  # (C + C^T) / 2
    # PSD to within the tolerance <=> arr + eps I is positive definite (one Cholesky, no eigh).
    shifted = arr.copy()
    shifted[np.diag_indices_from(shifted)] += 1e-8 * scale
    if lapack.dpotrf(shifted, lower=1, clean=0, overwrite_a=1)[1] != 0:
        low = float(linalg.eigvalsh(arr, subset_by_index=[0, 0])[0])
        raise InvalidInputError(
            f"`{name}` must be positive semidefinite, got a smallest eigenvalue of {low:.3g}."
        )
    return arr


# --------------------------------------------------------------------------- whitening


def _range_basis(block: np.ndarray) -> np.ndarray:
    """``T`` with ``T^T block T = I`` spanning the range of a PSD block (drops null directions).

    Pivoted Cholesky ``P^T block P = L L^T`` stopped at pivots below ``_RANK_TOL`` times the
    largest diagonal entry; ``T = P [L11^-T; 0]`` whitens the first ``rank`` pivoted coordinates,
    of which the others are (to that tolerance) linear functions.
    """
    n = block.shape[0]
    top = float(np.max(np.diag(block), initial=0.0))
    if top <= 0:
        return np.zeros((n, 0))
    chol, piv, rank, _ = lapack.dpstrf(block, lower=1, tol=_RANK_TOL * top)
    t = np.zeros((n, rank))
    t[piv[:rank] - 1] = linalg.solve_triangular(
        chol[:rank, :rank], np.eye(rank), lower=True, trans="T", check_finite=False)
    return t


def _mi_nats(cov: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> float:
    ta = _range_basis(cov[np.ix_(ia, ia)])
    tb = _range_basis(cov[np.ix_(ib, ib)])
    if ta.shape[1] == 0 or tb.shape[1] == 0:
        return 0.0
    cross = ta.T @ cov[np.ix_(ia, ib)] @ tb
    # Whitened blocks: I(A;B) = -1/2 log det(I - R^T R) with R the cross-correlation.
    m = -(cross @ cross.T) if cross.shape[0] <= cross.shape[1] else -(cross.T @ cross)
    m[np.diag_indices_from(m)] += 1.0
    chol, info = lapack.dpotrf(m, lower=1, clean=0, overwrite_a=1)
    pivots = np.diag(chol) ** 2 if info == 0 else np.zeros(1)
    if np.min(pivots) < _INFINITE:
        raise InvalidInputError(
            "The mutual information is infinite: some linear combination of one block is an "
            "exact linear function of the other (the covariance is singular there)."
        )
    return -0.5 * float(np.sum(np.log(pivots)))


def _whitened_gain(b: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Channel gain with orthogonal rows from the whitened cross-covariance ``b = Cov(X', Y')``.

    With ``b b^T = U diag(s^2) U^T``, the noise ``X' - b Y'`` has covariance ``U (1 - s^2) U^T``;
    whitening it turns ``X'`` into ``H Y' + N`` with ``H = diag(1 / sqrt(1 - s^2)) U^T b``, whose
    rows are orthogonal with norms ``g = s / sqrt(1 - s^2)``. Directions with ``s^2`` below
    ``_NO_SIGNAL`` are dropped: they could change the union information by at most
    ``1/2 log(1 + g^2)`` (about 5e-14 nats).
    """
    wide = b.shape[0] <= b.shape[1]
    s2, vec = linalg.eigh(b @ b.T if wide else b.T @ b, driver="evd", check_finite=False)
    keep = s2 > _NO_SIGNAL
    s2, vec = s2[keep], vec[:, keep]
    if np.any(1.0 - s2 < _INFINITE):
        raise InvalidInputError(
            f"{what} is infinite: part of the target is an exact linear function of the "
            "source (the covariance is singular there). Add noise or drop those directions."
        )
    rows = vec.T @ b if wide else np.sqrt(s2)[:, None] * vec.T
    return rows / np.sqrt(1.0 - s2)[:, None], s2


class _Channels:
    """Y whitened, each source whitened given Y and cut to its signal directions.

    ``h1`` (k1 x ry) and ``h2`` (k2 x ry) are the channel gains, with orthogonal rows; ``i1``,
    ``i2`` the source MIs in nats (``-1/2 sum log(1 - s^2)`` over the canonical correlations).
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
        h, s2 = _whitened_gain(b, what)
        return h, -0.5 * float(np.sum(np.log1p(-s2)))


# --------------------------------------------------------------------------- the BROJA solver


def _solve_broja(ch: _Channels, i12: float, tol_nats: float, max_iter: int
                 ) -> tuple[float, SolverDiagnostics]:
    """Union information (nats) and diagnostics (gap in nats); see :mod:`.gaussian_broja`.

    ``max(I1, I2) <= I_u <= min(I1 + I2, I12)`` always; when that interval is narrower than
    the tolerance (one source holds all the information, e.g. an exact copy) its lower end is
    returned without optimisation, and the interval's width caps the solver's gap otherwise.
    """
    lo, hi = _union_bounds(ch.i1, ch.i2, max(i12, ch.i1, ch.i2))
    if ch.h1.shape[0] == 0 or ch.h2.shape[0] == 0 or hi - lo <= tol_nats:
        return lo, SolverDiagnostics(
            converged=True, iterations=0, duality_gap=hi - lo, primal_residual=0.0,
            tolerance=tol_nats, seconds=0.0,
            message="closed form: the bounds max(I1, I2) <= I_u <= min(I1 + I2, I12) meet",
        )
    co_excess, diag = solve_union(ch.h1, ch.h2, tol_nats, max_iter)
    gap = min(diag.duality_gap, hi - lo)
    diag = SolverDiagnostics(**{**diag.__dict__, "duality_gap": gap,
                                "converged": gap <= tol_nats})
    return ch.i1 + ch.i2 + co_excess, diag


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
        Zhao et al. 2025; computed as Venkatesh et al. 2023 define it), solved by damped
        Newton (interior-point and projected-gradient fallbacks) with a duality-gap
        certificate; a scalar target (dy = 1) is solved in closed form because BROJA = MMI
        there (Barrett 2015). ``"mmi"``: the
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
    with policy(large=large_columns(arr)):  # one thread unless the matrices are large
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
            union, diag = _solve_broja(ch, i12, tol * lb, max_iter)
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
        redundancy=atoms["redundancy"] / lb, unique1=atoms["unique1"] / lb,
        unique2=atoms["unique2"] / lb, synergy=atoms["synergy"] / lb,
        mi_joint=i12 / lb, mi_x1=i1 / lb, mi_x2=i2 / lb, method=method, units=units_of(b),
        estimator="gaussian", diagnostics=diag, warnings=warns,
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
    with policy(large=large_columns(a1, a2, ay)):
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
