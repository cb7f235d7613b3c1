"""Closed-form redundancy measures for side-by-side comparison with BROJA."""

from __future__ import annotations

import numpy as np

from .base import RedundancyMeasure, marginal_mis
from .result import SolverDiagnostics


class MMI(RedundancyMeasure):
    """Minimum mutual information: R = min(I(X1;Y), I(X2;Y)) (Barrett 2015).

    Equals BROJA for jointly Gaussian sources with a scalar target; over-states redundancy when
    the sources carry different information (COPY gives R = 1 bit).
    """

    name = "mmi"
    description = "minimum mutual information, R = min(I(X1;Y), I(X2;Y))"

    def redundancy(self, p: np.ndarray) -> tuple[float, SolverDiagnostics | None]:
        i1, i2, _ = marginal_mis(p)
        return min(i1, i2), None
