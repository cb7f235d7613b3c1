"""Gaussian copula: rank-based normal scores, and the Gaussian PID on them.

Replacing every column by the normal quantiles of its ranks keeps the dependence structure
(the copula) and makes each marginal standard normal. The Gaussian PID of the transformed data
is exact when the data are Gaussian after some increasing transform of each column (a Gaussian
copula) and an approximation otherwise (Ince et al. 2017 use the same idea for MI). It cannot
see dependence that is not monotone, for example Y = X^2 with symmetric X.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_samples
from ..pid.gaussian import gaussian_pid_from_samples
from ..pid.result import PIDResult

__all__ = ["copula_normalize", "copula_pid"]


def copula_normalize(x: Any, name: str = "x") -> np.ndarray:
    """Normal scores of each column: ``Phi^-1(rank / (n + 1))``, ties given their mean rank.

    Parameters
    ----------
    x : array-like of shape (n_samples,) or (n_samples, n_features)
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        Float64; every column has the same standard-normal-like values in the order of ``x``.

    Examples
    --------
    >>> copula_normalize([3.0, 10.0, 1.0]).ravel().round(4)
    array([ 0.    ,  0.6745, -0.6745])
    """
    from scipy import special
    from scipy.stats import rankdata  # scipy is slow to import; only needed here

    arr = check_samples(x, name, min_samples=2)
    ranks = rankdata(arr, axis=0)
    return special.ndtri(ranks / (arr.shape[0] + 1))


def copula_pid(
    x1: Any,
    x2: Any,
    y: Any,
    method: str = "broja",
    *,
    bias_correction: bool = True,
    base: float | str = 2,
    **options: Any,
) -> PIDResult:
    """Gaussian-copula PID: :func:`copula_normalize` each column, then the Gaussian PID.

    Invariant to any increasing transform of any column. Exact for data with a Gaussian
    copula; for other data it measures the information carried by the rank-linear dependence
    and misses non-monotone relations. ``options`` go to
    :func:`~interplay.info.pid.gaussian.gaussian_pid_from_samples` (``tol``, ``max_iter``,
    ``on_failure``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal(20000)
    >>> x1 = np.exp(y + rng.standard_normal(20000))    # a monotone distortion
    >>> x2 = (y + rng.standard_normal(20000)) ** 3
    >>> r = copula_pid(x1, x2, y)
    >>> abs(r.redundancy - 0.5) < 0.03
    True
    """
    z1, z2, zy = (copula_normalize(a, n) for a, n in ((x1, "x1"), (x2, "x2"), (y, "y")))
    result = gaussian_pid_from_samples(z1, z2, zy, method, bias_correction=bias_correction,
                                       base=base, **options)
    return result.with_(estimator="copula")
