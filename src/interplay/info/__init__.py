"""Information measures and partial information decomposition (numpy/scipy only, no torch)."""

from .measures import (
    co_information,
    conditional_entropy,
    conditional_mutual_information,
    entropy,
    joint_entropy,
    mutual_information,
)
from .pid import ATOMS, PIDResult, SolverDiagnostics, list_pid_methods, pid

__all__ = [
    "ATOMS",
    "PIDResult",
    "SolverDiagnostics",
    "co_information",
    "conditional_entropy",
    "conditional_mutual_information",
    "entropy",
    "joint_entropy",
    "list_pid_methods",
    "mutual_information",
    "pid",
]
