"""BROJA PID (being written now by the lead; temporary until it lands)."""
from __future__ import annotations
import numpy as np
from .base import RedundancyMeasure
from .result import SolverDiagnostics
from ...exceptions import InterplayError


class BROJA(RedundancyMeasure):
    name = "broja"
    description = "Bertschinger-Rauh-Olbrich-Jost-Ay unique information, solved exactly"

    def __init__(self, **options: object) -> None:
        self.options = options

    def redundancy(self, p: np.ndarray) -> tuple[float, SolverDiagnostics | None]:
        raise InterplayError("BROJA solver is being written; use method='mmi' meanwhile")
