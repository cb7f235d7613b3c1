"""Information measures and partial information decomposition (numpy/scipy only, no torch).

The PID entry point is :func:`interplay.pid`; ``interplay.info.pid`` is the subpackage of
redundancy measures and solvers.
"""

from .measures import (
    co_information,
    conditional_entropy,
    conditional_mutual_information,
    entropy,
    joint_entropy,
    mutual_information,
)
from .pid import ATOMS, PIDResult, SolverDiagnostics, list_pid_methods

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
]
