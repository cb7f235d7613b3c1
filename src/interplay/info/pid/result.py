"""The result object every PID estimator returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..._json import JSONResult, jsonable

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


@dataclass(frozen=True)
class SolverDiagnostics:
    """How an optimisation-based estimate was reached and how far it can be trusted.

    Attributes
    ----------
    converged : bool
        True when the certificate meets the requested tolerance.
    iterations : int
        Outer iterations of the solver.
    duality_gap : float
        Primal objective minus a certified lower bound, in the result's units. The optimum lies
        within this distance of the reported value.
    primal_residual : float
        Largest violation of the marginal constraints by the returned coupling.
    dual_residual : float
        Largest violation of the dual constraints before the dual point was made feasible.
    clipped : float
        Largest magnitude of a negative atom set to 0 (round-off only; 0 when none).
    tolerance : float
        The gap the solver was asked to reach.
    seconds : float
        Wall time of the solve.
    message : str
        A human-readable summary.
    """

    converged: bool
    iterations: int
    duality_gap: float
    primal_residual: float
    dual_residual: float = 0.0
    clipped: float = 0.0
    tolerance: float = 0.0
    seconds: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class PIDResult(JSONResult):
    """Partial information decomposition of I(X1, X2; Y).

    ``redundancy + unique1 + unique2 + synergy == mi_joint``, ``redundancy + unique1 == mi_x1``
    and ``redundancy + unique2 == mi_x2``. ``unique1`` is the information only X1 (the first
    source) has about Y.
    """

    redundancy: float
    unique1: float
    unique2: float
    synergy: float
    mi_joint: float
    mi_x1: float
    mi_x2: float
    method: str
    units: str = "bits"
    estimator: str = "exact"
    settings: dict[str, Any] = field(default_factory=dict)
    diagnostics: SolverDiagnostics | None = None
    ci: dict[str, tuple[float, float]] | None = None
    p_values: dict[str, float] | None = None
    n_samples: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def atoms(self) -> dict[str, float]:
        """The four atoms by name."""
        return {a: getattr(self, a) for a in ATOMS}

    def with_(self, **changes: Any) -> PIDResult:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary (JSON-ready: NaN and infinities become None)."""
        return jsonable(asdict(self))

    def to_string(self, digits: int = 6) -> str:
        """A plain-text table of the atoms (with intervals and p-values when present)."""
        rows = []
        for a in ATOMS:
            line = f"{a:<11} {getattr(self, a):>{digits + 6}.{digits}f}"
            if self.ci is not None:
                lo, hi = self.ci[a]
                line += f"   [{lo:.{digits}f}, {hi:.{digits}f}]"
            if self.p_values is not None:
                line += f"   p={self.p_values[a]:.4g}"
            rows.append(line)
        head = f"PID ({self.method}, {self.estimator}) in {self.units}"
        tail = (
            f"I(X1,X2;Y) = {self.mi_joint:.{digits}f}, I(X1;Y) = {self.mi_x1:.{digits}f}, "
            f"I(X2;Y) = {self.mi_x2:.{digits}f}"
        )
        return "\n".join([head, *rows, tail])

    def __str__(self) -> str:
        return self.to_string()
