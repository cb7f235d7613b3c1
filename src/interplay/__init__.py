"""interplay: the science of multimodal learning.

Quantify how modalities inform a target (partial information decomposition), model those
interactions, and verify what a model learned.
"""

from .exceptions import (
    ConvergenceError,
    DataFormatError,
    InterplayError,
    InvalidInputError,
    MissingDependencyError,
)
from .info import PIDResult, list_pid_methods, pid

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "DataFormatError",
    "InterplayError",
    "InvalidInputError",
    "MissingDependencyError",
    "PIDResult",
    "__version__",
    "list_pid_methods",
    "pid",
]
