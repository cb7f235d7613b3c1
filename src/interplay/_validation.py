"""Boundary checks shared by every public entry point.

Each check names the argument, says what was expected and what arrived, and raises
:class:`~interplay.exceptions.InvalidInputError`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .exceptions import InvalidInputError

#: The seed of every randomised estimator and command unless the caller gives another.
DEFAULT_SEED = 0

#: Largest joint table (number of cells) built from samples before we refuse: 2**27 float64 = 1 GiB.
MAX_JOINT_CELLS = 2**27


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:120]


def _real_array(x: Any, name: str, expected: str) -> np.ndarray:
    """``x`` as float64 if it holds real numbers (integers, floats, booleans, also as Python
    objects); complex numbers (whose imaginary part would be dropped), strings and other
    objects are refused."""
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"`{name}` must be {expected}, got {_describe(x)}.") from exc
    if raw.dtype.kind == "O" and all(
        isinstance(v, (int, float, np.integer, np.floating, np.bool_)) for v in raw.flat
    ):
        raw = raw.astype(np.float64)  # e.g. a table mixing integer and boolean columns
    if raw.dtype.kind not in "biuf":
        what = {"c": "complex numbers", "O": "Python objects", "U": "strings", "S": "bytes"}
        raise InvalidInputError(
            f"`{name}` must be {expected} of real numbers, got "
            f"{what.get(raw.dtype.kind, f'dtype {raw.dtype}')} (an array of shape {raw.shape})."
        )
    return raw.astype(np.float64, copy=False)


def check_pmf(
    p: Any, name: str = "p", *, ndim: int | None = None, atol: float = 1e-9
) -> np.ndarray:
    """Return ``p`` as a float64 probability array, or raise a clear error.

    Checks: numeric, ``ndim`` dimensions (if given), at least one cell, finite, non-negative,
    and summing to 1 within ``atol`` times the number of cells (minimum 1e-9).
    """
    arr = _real_array(p, name, "an array of probabilities")
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(
            f"`{name}` must have {ndim} dimensions, got shape {arr.shape}."
            + (" Index it as p[x1, x2, y]." if ndim == 3 else "")
        )
    if arr.size == 0 or 0 in arr.shape:
        raise InvalidInputError(f"`{name}` must have at least one cell, got shape {arr.shape}.")
    # The smallest entry and the sum settle the usual case in two passes: a smallest entry
    # >= 0 rules out NaN and negative entries, and then a finite sum rules out infinities
    # (summed only then, so that -inf + inf raises no numpy warning). Otherwise the entries
    # are examined for the message.
    smallest = arr.min()
    total = float(arr.sum()) if smallest >= 0 else math.nan
    if not (smallest >= 0 and math.isfinite(total)):
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError(f"`{name}` contains NaN or infinite values.")
        if np.any(arr < 0):
            raise InvalidInputError(
                f"`{name}` must be non-negative, got a smallest entry of {arr.min():.3g}."
            )
    tol = max(atol * arr.size, 1e-9)
    if abs(total - 1.0) > tol:
        raise InvalidInputError(
            f"`{name}` must sum to 1 (within {tol:.1e}), got {total!r}. "
            "Divide by its sum if it holds counts."
        )
    return arr / total


def check_base(base: Any) -> float:
    """Validate a logarithm base (a number > 0 and != 1, or the string 'e')."""
    if isinstance(base, str) and base == "e":
        return math.e
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"`base` must be a number > 0 other than 1 or 'e', got {base!r}.")
    b = float(base)
    if not (b > 0 and b != 1 and math.isfinite(b)):
        raise InvalidInputError(f"`base` must be a number > 0 other than 1, got {base!r}.")
    return b


def units_of(base: float) -> str:
    """Name of the information unit for a logarithm base."""
    if base == 2:
        return "bits"
    if abs(base - math.e) < 1e-12:
        return "nats"
    if base == 10:
        return "hartleys"
    return f"log{base:g}-units"


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Validate an integer argument with an optional lower bound."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError(f"`{name}` must be an integer, got {_describe(value)}.")
    if minimum is not None and value < minimum:
        raise InvalidInputError(f"`{name}` must be >= {minimum}, got {value}.")
    return int(value)


def check_float(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Validate a real number within an optional interval."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"`{name}` must be a number, got {_describe(value)}.")
    v = float(value)
    if not math.isfinite(v):
        raise InvalidInputError(f"`{name}` must be finite, got {value!r}.")
    if low is not None and (v < low or (low_open and v == low)):
        raise InvalidInputError(f"`{name}` must be {'>' if low_open else '>='} {low}, got {v}.")
    if high is not None and (v > high or (high_open and v == high)):
        raise InvalidInputError(f"`{name}` must be {'<' if high_open else '<='} {high}, got {v}.")
    return v


def check_choice(value: Any, name: str, choices: tuple[str, ...] | list[str]) -> str:
    """Validate a string option against the allowed choices."""
    if value not in choices:
        raise InvalidInputError(
            f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}."
        )
    return str(value)


def check_random_state(random_state: Any, name: str = "random_state") -> np.random.Generator:
    """A numpy Generator from a seed (int >= 0), a Generator (returned as is) or None (fresh).

    As scikit-learn's ``check_random_state``, for numpy's Generator API.

    >>> rng = check_random_state(0)
    >>> first = int(check_random_state(0).integers(10))
    >>> check_random_state(rng) is rng, int(rng.integers(10)) == first
    (True, True)
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    return np.random.default_rng(check_int(random_state, name, minimum=0))


def check_samples(a: Any, name: str, *, min_samples: int = 1) -> np.ndarray:
    """Return numeric samples as a float64 array of shape ``(n_samples, n_features)``.

    A 1-D input is one feature. Raises on non-numeric, empty, NaN or infinite input.
    """
    arr = _real_array(a, name, "a numeric array")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < min_samples or arr.shape[1] == 0:
        raise InvalidInputError(
            f"`{name}` must have shape (n_samples,) or (n_samples, n_features) with at least "
            f"{min_samples} samples, got {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"`{name}` contains NaN or infinite values.")
    return arr
