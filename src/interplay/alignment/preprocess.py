"""Explicit preprocessing steps that the published alignment numbers depend on.

The Platonic-representation and emergence papers clamp every activation at the 95th percentile
of its absolute values, then L2-normalise each row, before any metric. Here both steps are
separate functions so that a number can always be reproduced (or deliberately not).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_float
from ..exceptions import InvalidInputError
from ._arrays import as_features


def clamp_quantile(x: Any, q: float = 0.95) -> np.ndarray:
    """Clip every entry of ``x`` to ``[-t, t]``, ``t`` the ``q``-quantile of ``|x|``.

    Parameters
    ----------
    x : array-like or torch tensor of shape (n_samples, n_features)
    q : float in (0, 1]
        Quantile of the absolute values over all entries (exact, linear interpolation).

    Returns
    -------
    ndarray of float64, same shape

    Examples
    --------
    >>> clamp_quantile([[1.0, -100.0], [2.0, 3.0]], q=0.5).tolist()
    [[1.0, -2.5], [2.0, 2.5]]
    """
    arr = as_features(x, "x", min_samples=1)
    qq = check_float(q, "q", low=0.0, high=1.0, low_open=True)
    t = float(np.quantile(np.abs(arr), qq))
    return np.clip(arr, -t, t)


def l2_normalize(x: Any) -> np.ndarray:
    """Divide each row of ``x`` by its Euclidean norm.

    Raises
    ------
    InvalidInputError
        If a row is all zeros (its direction, hence any cosine similarity, is undefined).

    Examples
    --------
    >>> l2_normalize([[3.0, 4.0]]).tolist()
    [[0.6, 0.8]]
    """
    arr = as_features(x, "x", min_samples=1)
    return _unit_rows(arr, "x")


def _unit_rows(arr: np.ndarray, name: str) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", arr, arr))
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise InvalidInputError(
            f"`{name}` has {zero.size} all-zero row(s) (first: row {int(zero[0])}); cosine "
            "similarity is undefined for them. Drop them or add a constant feature."
        )
    return arr / norms[:, None].astype(arr.dtype, copy=False)
