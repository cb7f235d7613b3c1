"""Chance levels: a permutation null for any alignment metric."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int
from ._arrays import as_pair
from .registry import metric_function


@dataclass(frozen=True)
class NullResult:
    """A score next to its permutation null.

    Attributes
    ----------
    score : float
        The metric on the paired data.
    null_mean, null_std : float
        Mean and standard deviation of the metric after shuffling the rows of ``b``.
    p_value : float
        ``(1 + #{null >= score}) / (1 + n_permutations)``: one-sided, never 0.
    n_permutations : int
    null : ndarray of shape (n_permutations,)
    """

    score: float
    null_mean: float
    null_std: float
    p_value: float
    n_permutations: int
    null: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain types, for JSON (the null draws are left out)."""
        return {"score": self.score, "null_mean": self.null_mean, "null_std": self.null_std,
                "p_value": self.p_value, "n_permutations": self.n_permutations}


def permutation_null(
    metric: Callable[..., float] | str,
    a: Any,
    b: Any,
    n_permutations: int = 100,
    *,
    random_state: int | np.random.Generator | None = None,
    **options: Any,
) -> NullResult:
    """Compare ``metric(a, b)`` with its values when the pairing of rows is destroyed.

    Parameters
    ----------
    metric : callable or str
        ``metric(a, b, **options) -> float``, or a metric name (see
        :func:`~interplay.alignment.list_metrics`).
    a, b : row-paired feature arrays
    n_permutations : int
        Random shuffles of the rows of ``b``.
    random_state : int or Generator, optional
    **options
        Passed to the metric (e.g. ``k=10``).

    Returns
    -------
    NullResult

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((100, 3))
    >>> r = permutation_null("mutual_knn", x, x, 20, random_state=0, k=5)
    >>> r.score, r.p_value
    (1.0, 0.047619047619047616)
    """
    fn = metric_function(metric) if isinstance(metric, str) else metric
    xa, xb = as_pair(a, b)
    reps = check_int(n_permutations, "n_permutations", minimum=1)
    rng = np.random.default_rng(random_state)
    score = float(fn(xa, xb, **options))
    null = np.array([float(fn(xa, xb[rng.permutation(xb.shape[0])], **options))
                     for _ in range(reps)])
    return NullResult(score=score, null_mean=float(null.mean()), null_std=float(null.std()),
                      p_value=(1.0 + float(np.sum(null >= score))) / (1.0 + reps),
                      n_permutations=reps, null=null)
