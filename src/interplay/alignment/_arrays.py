"""Boundary checks for feature arrays: numpy or torch in, float64 (or a chosen float) numpy out.

torch is never imported here: a tensor is recognised by its ``detach`` and ``numpy`` methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InvalidInputError


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor, on any device
        x = x.detach().cpu()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"`{name}` must be a numeric array of shape (n_samples, n_features), got "
            f"{type(x).__name__}."
        ) from exc


def check_dtype(dtype: Any) -> np.dtype:
    """Validate the working precision (float32 or float64)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InvalidInputError(f"`dtype` must be float32 or float64, got {dtype!r}.") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InvalidInputError(f"`dtype` must be float32 or float64, got {dtype!r}.")
    return dt


def as_features(
    x: Any, name: str, *, min_samples: int = 2, dtype: Any = np.float64
) -> np.ndarray:
    """Return ``x`` as a finite 2-D array ``(n_samples, n_features)`` of ``dtype``.

    Accepts numpy arrays, nested sequences and torch tensors (any float dtype, any device).
    A 1-D array is refused: it is ambiguous (one sample or one feature), so the message says
    how to reshape it.
    """
    arr = _to_numpy(x, name)
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"`{name}` must be numeric, got an array of dtype {arr.dtype}."
        )
    if arr.ndim == 1:
        raise InvalidInputError(
            f"`{name}` must be 2-D (n_samples, n_features), got a 1-D array of shape "
            f"{arr.shape}; use x.reshape(-1, 1) for one feature."
        )
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise InvalidInputError(
            f"`{name}` must be 2-D (n_samples, n_features) with at least one feature, got "
            f"shape {arr.shape}."
        )
    if arr.shape[0] < min_samples:
        raise InvalidInputError(
            f"`{name}` must have at least {min_samples} samples (rows), got {arr.shape[0]}."
        )
    out = np.asarray(arr, dtype=check_dtype(dtype))
    if not np.all(np.isfinite(out)):
        raise InvalidInputError(f"`{name}` contains NaN or infinite values.")
    return out


def as_pair(
    a: Any, b: Any, *, min_samples: int = 2, dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Both feature arrays, checked, with the same number of rows (paired samples)."""
    xa = as_features(a, "a", min_samples=min_samples, dtype=dtype)
    xb = as_features(b, "b", min_samples=min_samples, dtype=dtype)
    if xa.shape[0] != xb.shape[0]:
        raise InvalidInputError(
            f"`a` and `b` must hold the same samples (rows paired), got {xa.shape[0]} rows in "
            f"`a` and {xb.shape[0]} in `b`."
        )
    return xa, xb


def check_k(k: Any, n: int, name: str = "k") -> int:
    """A neighbour count ``1 <= k < n`` (self is never its own neighbour)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InvalidInputError(f"`{name}` must be an integer, got {k!r}.")
    if not 1 <= k < n:
        raise InvalidInputError(
            f"`{name}` must satisfy 1 <= {name} < n_samples = {n} (self is excluded from the "
            f"neighbours), got {name}={k}."
        )
    return int(k)
