"""The base class of redundancy measures and the `pid` entry point that turns one into atoms.

A bivariate PID is fixed by its redundancy R: given I(X1;Y), I(X2;Y) and I(X1,X2;Y),
``U1 = I(X1;Y) - R``, ``U2 = I(X2;Y) - R`` and ``S = I(X1,X2;Y) - I(X1;Y) - I(X2;Y) + R``.
A new measure is one small subclass of :class:`RedundancyMeasure` registered by name.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ..._validation import check_base, check_choice, check_pmf, units_of
from ...exceptions import InvalidInputError
from .result import PIDResult, SolverDiagnostics

#: Atoms whose negative part is below this (in bits) are treated as round-off and clipped.
ROUNDOFF = 1e-9
#: Tables of up to this many entries (all marginals together) sum their entropies in one call.
_ONE_REDUCTION = 4096

_REGISTRY: dict[str, type[RedundancyMeasure]] = {}


class RedundancyMeasure(ABC):
    """A bivariate redundancy measure I_cap(X1, X2 -> Y) on a pmf ``p[x1, x2, y]`` (in nats)."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: True when the measure's atoms are provably >= 0, so negative values are round-off.
    nonnegative: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "name", None):
            _REGISTRY[cls.name] = cls

    @abstractmethod
    def redundancy(self, p: np.ndarray) -> tuple[float, SolverDiagnostics | None]:
        """Return R in nats for a validated float64 pmf ``p[x1, x2, y]``, and diagnostics."""

    def decompose(
        self, p: np.ndarray
    ) -> tuple[float, SolverDiagnostics | None, tuple[float, float, float]]:
        """R and diagnostics as :meth:`redundancy`, with :func:`marginal_mis` of ``p``; a
        measure that computes those MIs anyway overrides this to compute them once."""
        r, diag = self.redundancy(p)
        return r, diag, marginal_mis(p)


def list_pid_methods() -> dict[str, str]:
    """Names of the registered redundancy measures with a one-line description each."""
    return {name: cls.description for name, cls in sorted(_REGISTRY.items())}


def marginal_entropies(p: np.ndarray) -> tuple[list[float], np.ndarray, np.ndarray]:
    """The entropies (nats) ``H(Y), H(X1), H(X1,Y), H(X2), H(X2,Y), H(X1,X2), H(X1,X2,Y)`` of a
    pmf ``p[x1, x2, y]``, and its marginals ``p(x1, y)`` and ``p(x2, y)``.

    One logarithm over all seven pmfs at once: on the small tables of the logic gates, one
    numpy call per pmf would cost more than the BROJA solve itself.
    """
    p1y, p2y = p.sum(axis=1), p.sum(axis=0)
    parts = (p1y.sum(axis=0), p1y.sum(axis=1), p1y, p2y.sum(axis=1), p2y, p.sum(axis=2), p)
    flat = np.concatenate([a.ravel() for a in parts])
    terms = np.log(flat, out=np.zeros(flat.size), where=flat > 0)  # 0 log 0 = 0
    terms *= flat
    bounds = [0, *itertools.accumulate(a.size for a in parts)]
    if flat.size <= _ONE_REDUCTION:
        return (-np.add.reduceat(terms, bounds[:-1])).tolist(), p1y, p2y
    # pairwise summation, one pmf at a time, keeps large tables' round-off at 1e-16
    return ([-float(terms[a:b].sum()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
            p1y, p2y)


def mis_of(entropies: list[float]) -> tuple[float, float, float]:
    """``I(X1;Y), I(X2;Y), I(X1,X2;Y)`` (nats, unclipped) from :func:`marginal_entropies`."""
    hy, h1, h1y, h2, h2y, h12, h = entropies
    return h1 + hy - h1y, h2 + hy - h2y, h12 + hy - h


def marginal_mis(p: np.ndarray) -> tuple[float, float, float]:
    """I(X1;Y), I(X2;Y), I(X1,X2;Y) in nats for a pmf ``p[x1, x2, y]``."""
    i1, i2, i12 = mis_of(marginal_entropies(p)[0])
    return max(i1, 0.0), max(i2, 0.0), max(i12, 0.0)


def atoms_from_redundancy(
    r: float, i1: float, i2: float, i12: float, *, clip: bool = True
) -> tuple[dict[str, float], float]:
    """Atoms from R and the MIs; with ``clip``, negative round-off is set to 0.

    Returns the atoms and the largest magnitude clipped (0 when nothing was).
    """
    raw = {"redundancy": r, "unique1": i1 - r, "unique2": i2 - r, "synergy": i12 - i1 - i2 + r}
    if not clip:
        return raw, 0.0
    clipped = max([0.0] + [-v for v in raw.values() if v < 0])
    return {k: max(v, 0.0) for k, v in raw.items()}, clipped


@functools.cache
def _options_of(cls: type[RedundancyMeasure]) -> tuple[str, ...]:
    """The keyword options a measure's constructor takes (read once per class: the signature
    costs more than a small BROJA solve's bookkeeping)."""
    return tuple(
        name for name, par in inspect.signature(cls).parameters.items()
        if par.kind in (par.POSITIONAL_OR_KEYWORD, par.KEYWORD_ONLY)
    )


def _make_measure(method: str, options: dict[str, Any]) -> RedundancyMeasure:
    """The measure ``method`` built with ``options``; an unknown option names the valid ones."""
    cls = _REGISTRY[method]
    valid = _options_of(cls)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        accepted = ", ".join(f"`{v}`" for v in valid) if valid else "none"
        raise InvalidInputError(
            f"method={method!r} has no option {', '.join(f'`{u}`' for u in unknown)}; "
            f"its options are: {accepted}."
        )
    return cls(**options)


def pid(
    p: Any,
    method: str = "broja",
    *,
    base: float | str = 2,
    **options: Any,
) -> PIDResult:
    """Partial information decomposition of a joint distribution ``p[x1, x2, y]``.

    Parameters
    ----------
    p : array-like of shape (n_x1, n_x2, n_y)
        Joint probabilities of the two sources and the target; any alphabet sizes.
    method : {"broja", "mmi", "imin", "ccs"}
        Redundancy measure: ``"broja"`` (Bertschinger et al. 2014, solved exactly with a
        certificate), ``"mmi"`` (minimum mutual information), ``"imin"`` (Williams & Beer 2010)
        or ``"ccs"`` (Ince 2017). See :func:`list_pid_methods`.
    base : float or "e"
        Logarithm base of the result (2 gives bits).
    **options
        Passed to the measure, e.g. ``tol`` or ``on_failure`` for ``"broja"``.

    Returns
    -------
    PIDResult

    Examples
    --------
    >>> import numpy as np
    >>> xor = np.zeros((2, 2, 2)); xor[0, 0, 0] = xor[0, 1, 1] = xor[1, 0, 1] = xor[1, 1, 0] = 0.25
    >>> r = pid(xor)
    >>> round(r.synergy, 9), round(r.redundancy, 9)
    (1.0, 0.0)
    """
    arr = check_pmf(p, "p", ndim=3)
    if not (isinstance(method, str) and method in _REGISTRY):
        check_choice(method, "method", tuple(sorted(_REGISTRY)))
    b = check_base(base)
    measure = _make_measure(method, options)
    r_nats, diag, (i1, i2, i12) = measure.decompose(arr)
    atoms, clipped = atoms_from_redundancy(r_nats, i1, i2, i12, clip=measure.nonnegative)
    lb = math.log(b)
    warnings: tuple[str, ...] = ()
    if clipped / math.log(2) > ROUNDOFF:
        warnings = (f"an atom of {-clipped / lb:.3g} {units_of(b)} was clipped to 0",)
    if diag is not None:
        diag = SolverDiagnostics(
            **{**diag.__dict__, "clipped": clipped / lb, "duality_gap": diag.duality_gap / lb}
        )
    return PIDResult(
        redundancy=atoms["redundancy"] / lb,
        unique1=atoms["unique1"] / lb,
        unique2=atoms["unique2"] / lb,
        synergy=atoms["synergy"] / lb,
        mi_joint=i12 / lb,
        mi_x1=i1 / lb,
        mi_x2=i2 / lb,
        method=method,
        units=units_of(b),
        estimator="exact",
        settings={"base": b, **options},
        diagnostics=diag,
        warnings=warnings,
    )
