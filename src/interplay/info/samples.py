"""Information measures of discrete samples (plug-in estimates).

Every variable is given as samples: a 1-D array of ``n_samples`` values (integers, strings,
booleans, pandas categoricals) or a 2-D array / DataFrame of shape ``(n_samples, n_columns)``
whose rows are the symbols (several columns treated as one joint variable). The samples are
counted into the empirical joint pmf, and the measure of :mod:`interplay.info.measures` is
evaluated on it. Results are in bits unless ``base`` says otherwise.

Plug-in mutual informations are biased upwards by about
``(|X| - 1)(|Y| - 1) / (2 N ln 2)`` bits (Miller 1955); use many samples per joint cell.

Examples
--------
>>> x1 = [0, 0, 1, 1]; x2 = [0, 1, 0, 1]; y = [0, 1, 1, 0]
>>> mutual_information(x1, y)
0.0
>>> round(mutual_information(list(zip(x1, x2)), y), 12)
1.0
>>> round(co_information(x1, x2, y), 12)
-1.0
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .._validation import MAX_JOINT_CELLS
from ..exceptions import InvalidInputError
from . import measures


class Encoded(NamedTuple):
    """Integer codes of samples and the symbol each code stands for."""

    codes: np.ndarray
    """Shape ``(n_samples,)``, values ``0 .. len(labels) - 1``."""
    labels: list[Any]
    """``labels[c]`` is the value (a tuple for several columns) that code ``c`` stands for."""


class EmpiricalJoint(NamedTuple):
    """An empirical joint pmf with the symbols along each axis."""

    pmf: np.ndarray
    """Relative frequencies, one axis per variable."""
    labels: tuple[list[Any], ...]
    """``labels[axis][i]`` is the symbol of index ``i`` on that axis."""
    n_samples: int


def encode(*columns: Any, name: str = "columns") -> Encoded:
    """Integer codes of the distinct (joint) values of one or several columns.

    Parameters
    ----------
    *columns : array-like
        One or more columns of equal length: 1-D arrays, lists, pandas Series (categoricals
        included), or 2-D arrays / DataFrames whose columns are all used. Each distinct row of
        the columns taken together becomes one code.
    name : str
        Name used in error messages.

    Returns
    -------
    Encoded
        ``codes`` (int64, shape ``(n_samples,)``) and ``labels``. Codes follow the sorted order
        of the symbols (first appearance where values of mixed types cannot be sorted).

    Examples
    --------
    >>> encode(["b", "a", "b"])
    Encoded(codes=array([1, 0, 1]), labels=['a', 'b'])
    >>> encode([0, 0, 1], ["x", "y", "x"]).labels
    [(0, 'x'), (0, 'y'), (1, 'x')]
    """
    if not columns:
        raise InvalidInputError(f"`{name}` must hold at least one column, got none.")
    flat: list[Any] = []
    for i, col in enumerate(columns):
        flat.extend(_split_columns(col, f"{name}[{i}]" if len(columns) > 1 else name))
    lengths = {len(c) for c in flat}
    if len(lengths) > 1:
        raise InvalidInputError(
            f"the columns of `{name}` must have the same number of samples, got lengths "
            f"{sorted(lengths)}."
        )
    if lengths == {0}:
        raise InvalidInputError(f"`{name}` is empty; it needs at least one sample.")
    per_column = [_factorize(c, name, j) for j, c in enumerate(flat)]
    if len(per_column) == 1:
        codes, uniques = per_column[0]
        return Encoded(codes, list(uniques))
    stacked = np.column_stack([c for c, _ in per_column])
    rows, codes = np.unique(stacked, axis=0, return_inverse=True)
    symbols = [u for _, u in per_column]
    labels = [tuple(u[k] for u, k in zip(symbols, row, strict=True)) for row in rows]
    return Encoded(codes.reshape(-1).astype(np.int64), labels)


def _split_columns(values: Any, name: str) -> list[Any]:
    # pandas objects are recognised by their attributes: info/ never imports pandas itself
    if hasattr(values, "iloc") and getattr(values, "ndim", None) == 2:  # a DataFrame
        if values.shape[1] == 0:
            raise InvalidInputError(f"`{name}` is a DataFrame without columns.")
        return [values.iloc[:, j] for j in range(values.shape[1])]
    if _is_pandas_column(values):  # Series, Index, Categorical
        return [values]
    if isinstance(values, (str, bytes)) or np.isscalar(values):
        raise InvalidInputError(
            f"`{name}` must be an array of samples, got the single value {values!r}."
        )
    try:
        arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"`{name}` must be a 1-D or 2-D array of discrete values, got "
            f"{type(values).__name__}."
        ) from exc
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise InvalidInputError(f"`{name}` has shape {arr.shape}: no columns.")
    if arr.ndim in (1, 2):
        return [arr] if arr.ndim == 1 else [arr[:, j] for j in range(arr.shape[1])]
    raise InvalidInputError(
        f"`{name}` must be 1-D (n_samples,) or 2-D (n_samples, n_columns), got shape "
        f"{arr.shape}."
    )


def _is_pandas_column(values: Any) -> bool:
    return (not isinstance(values, np.ndarray) and hasattr(values, "dtype")
            and getattr(values, "ndim", None) == 1)


def _factorize(col: Any, name: str, j: int) -> tuple[np.ndarray, list[Any]]:
    categorical = getattr(col, "cat", col)  # a categorical Series, or a Categorical itself
    if hasattr(categorical, "codes") and hasattr(categorical, "categories"):
        raw = np.asarray(categorical.codes, dtype=np.int64)
        _refuse_missing(raw < 0, name, j)
        used, codes = np.unique(raw, return_inverse=True)  # categories in their own order
        return codes.reshape(-1), [_python(categorical.categories[i]) for i in used]
    arr = np.asarray(col)
    _refuse_missing(_missing(arr), name, j)
    try:
        uniques, codes = np.unique(arr, return_inverse=True)
    except TypeError:  # values of mixed types that do not sort: codes by first appearance
        index: dict[Any, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in arr.tolist()),
                            dtype=np.int64, count=arr.size)
        uniques = np.array(list(index), dtype=object)
    return codes.reshape(-1).astype(np.int64), [_python(u) for u in uniques]


def _missing(arr: np.ndarray) -> np.ndarray:
    """NaN and infinities; None, pandas' NA and NaT in object columns; NaT in datetimes."""
    if arr.dtype.kind in "fc":
        return ~np.isfinite(arr)
    if arr.dtype.kind in "mM":
        return np.isnat(arr)
    if arr.dtype.kind != "O":
        return np.zeros(arr.shape, dtype=bool)
    return np.fromiter((_is_missing(v) for v in arr.tolist()), dtype=bool, count=arr.size)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    return type(value).__name__ in ("NAType", "NaTType")


def _refuse_missing(missing: np.ndarray, name: str, j: int) -> None:
    if missing.any():
        raise InvalidInputError(
            f"`{name}` (column {j}) has {int(missing.sum())} missing or infinite value(s), the "
            f"first at row {int(np.argmax(missing))}. Drop or impute those rows first."
        )


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def joint_pmf(*variables: Any) -> EmpiricalJoint:
    """Plug-in (histogram) joint pmf of several variables, one axis per variable.

    ``joint_pmf(x1, x2, y).pmf`` is the array ``p[x1, x2, y]`` that :func:`interplay.pid`
    takes. Each variable may be 1-D or 2-D (several columns encoded jointly).

    Examples
    --------
    >>> j = joint_pmf([0, 0, 1, 1], [0, 1, 0, 1], ["a", "b", "b", "a"])
    >>> j.pmf.shape, j.labels[2]
    ((2, 2, 2), ['a', 'b'])
    >>> float(j.pmf[0, 1, 1])
    0.25
    """
    if not variables:
        raise InvalidInputError("`variables` must hold at least one variable, got none.")
    encoded = [encode(v, name=f"variables[{i}]") for i, v in enumerate(variables)]
    sizes = {i: e.codes.size for i, e in enumerate(encoded)}
    if len(set(sizes.values())) > 1:
        raise InvalidInputError(
            "all variables must have the same number of samples, got "
            + ", ".join(f"variables[{i}]: {n}" for i, n in sizes.items())
            + "."
        )
    shape = tuple(len(e.labels) for e in encoded)
    cells = math.prod(shape)
    if cells > MAX_JOINT_CELLS:
        raise InvalidInputError(
            f"the joint table of shape {shape} would have {cells} cells, more than the limit of "
            f"{MAX_JOINT_CELLS}; reduce the number of distinct values (e.g. discretize)."
        )
    flat = np.ravel_multi_index(tuple(e.codes for e in encoded), shape)
    n = int(flat.size)
    counts = np.bincount(flat, minlength=cells).astype(np.float64)
    return EmpiricalJoint(counts.reshape(shape) / n, tuple(e.labels for e in encoded), n)


def entropy(*variables: Any, base: float | str = 2) -> float:
    """Plug-in joint entropy H(X1, ..., Xn) of the variables' samples.

    >>> entropy([0, 1, 0, 1])
    1.0
    >>> entropy([0, 1, 0, 1], [0, 0, 1, 1])
    2.0
    """
    return float(measures.entropy(joint_pmf(*variables).pmf, base=base))


def conditional_entropy(x: Any, given: Any, *, base: float | str = 2) -> float:
    """Plug-in conditional entropy H(X | Z)."""
    return float(measures.conditional_entropy(joint_pmf(x, given).pmf, 0, 1, base=base))


def mutual_information(x: Any, y: Any, *, base: float | str = 2) -> float:
    """Plug-in mutual information I(X; Y)."""
    return float(measures.mutual_information(joint_pmf(x, y).pmf, 0, 1, base=base))


def conditional_mutual_information(x: Any, y: Any, given: Any, *, base: float | str = 2) -> float:
    """Plug-in conditional mutual information I(X; Y | Z)."""
    p = joint_pmf(x, y, given).pmf
    return float(measures.conditional_mutual_information(p, 0, 1, 2, base=base))


def co_information(*variables: Any, base: float | str = 2) -> float:
    """Plug-in co-information I(X1; ...; Xn) (McGill sign: XOR gives -1 bit)."""
    if len(variables) < 2:
        raise InvalidInputError(f"co_information needs at least 2 variables, got {len(variables)}.")
    p = joint_pmf(*variables).pmf
    return float(measures.co_information(p, *range(len(variables)), base=base))
