"""Partial information decomposition: the result object, redundancy measures and `pid`."""

from . import broja, classic  # noqa: F401  (importing registers the measures)
from .base import RedundancyMeasure, list_pid_methods, pid
from .gaussian import gaussian_mi_bias, gaussian_pid, gaussian_pid_from_samples
from .result import ATOMS, PIDResult, SolverDiagnostics

__all__ = [
    "ATOMS",
    "PIDResult",
    "RedundancyMeasure",
    "SolverDiagnostics",
    "gaussian_mi_bias",
    "gaussian_pid",
    "gaussian_pid_from_samples",
    "list_pid_methods",
    "pid",
]
