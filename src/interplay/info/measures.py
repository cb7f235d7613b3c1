"""Information measures on probability arrays.

Every function takes a joint probability array ``p`` (any number of dimensions, one axis per
variable) and the axes that make up each variable. Results are in bits unless ``base`` says
otherwise. Zero-probability cells contribute nothing (``0 log 0 = 0``).

Examples
--------
>>> import numpy as np
>>> xor = np.zeros((2, 2, 2)); xor[0, 0, 0] = xor[0, 1, 1] = xor[1, 0, 1] = xor[1, 1, 0] = 0.25
>>> round(mutual_information(xor, (0, 1), 2), 12)
1.0
>>> round(mutual_information(xor, 0, 2), 12)
0.0
>>> round(co_information(xor, 0, 1, 2), 12)
-1.0
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._validation import check_base, check_pmf
from ..exceptions import InvalidInputError

Axes = int | Iterable[int]


def _axes(a: Axes, ndim: int, name: str) -> tuple[int, ...]:
    out = (a,) if isinstance(a, (int, np.integer)) else tuple(a)
    if not out:
        raise InvalidInputError(f"`{name}` must name at least one axis.")
    for ax in out:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)) or not -ndim <= ax < ndim:
            raise InvalidInputError(
                f"`{name}` must hold axes of an array with {ndim} dimensions, got {a!r}."
            )
    return tuple(sorted({int(ax) % ndim for ax in out}))


def _h(p: np.ndarray) -> float:
    """Shannon entropy in nats of an already-validated pmf (any shape)."""
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


def _marginal_h(p: np.ndarray, keep: tuple[int, ...]) -> float:
    drop = tuple(ax for ax in range(p.ndim) if ax not in keep)
    return _h(p.sum(axis=drop) if drop else p)


def _prepare(p: object, base: float | str) -> tuple[np.ndarray, float]:
    return check_pmf(p, "p"), float(np.log(check_base(base)))


def entropy(p: object, axes: Axes | None = None, *, base: float | str = 2) -> float:
    """Entropy H of the variables on ``axes`` (default: all axes, the joint entropy).

    .. math:: H(X) = -\\sum_x p(x) \\log p(x)

    >>> entropy([0.5, 0.5])
    1.0
    """
    arr, lb = _prepare(p, base)
    keep = tuple(range(arr.ndim)) if axes is None else _axes(axes, arr.ndim, "axes")
    return _marginal_h(arr, keep) / lb


joint_entropy = entropy


def conditional_entropy(p: object, x: Axes, given: Axes, *, base: float | str = 2) -> float:
    """Conditional entropy H(X | Z) = H(X, Z) - H(Z)."""
    arr, lb = _prepare(p, base)
    ax, az = _axes(x, arr.ndim, "x"), _axes(given, arr.ndim, "given")
    return (_marginal_h(arr, tuple(sorted(set(ax) | set(az)))) - _marginal_h(arr, az)) / lb


def mutual_information(p: object, x: Axes = 0, y: Axes = 1, *, base: float | str = 2) -> float:
    """Mutual information I(X; Y) = H(X) + H(Y) - H(X, Y), clipped at 0 against round-off."""
    arr, lb = _prepare(p, base)
    ax, ay = _axes(x, arr.ndim, "x"), _axes(y, arr.ndim, "y")
    both = tuple(sorted(set(ax) | set(ay)))
    value = _marginal_h(arr, ax) + _marginal_h(arr, ay) - _marginal_h(arr, both)
    return max(value, 0.0) / lb


def conditional_mutual_information(
    p: object, x: Axes, y: Axes, given: Axes, *, base: float | str = 2
) -> float:
    """Conditional mutual information I(X; Y | Z) = H(X,Z) + H(Y,Z) - H(X,Y,Z) - H(Z)."""
    arr, lb = _prepare(p, base)
    ax, ay = _axes(x, arr.ndim, "x"), _axes(y, arr.ndim, "y")
    az = _axes(given, arr.ndim, "given")
    xz = tuple(sorted(set(ax) | set(az)))
    yz = tuple(sorted(set(ay) | set(az)))
    xyz = tuple(sorted(set(ax) | set(ay) | set(az)))
    value = (
        _marginal_h(arr, xz) + _marginal_h(arr, yz) - _marginal_h(arr, xyz) - _marginal_h(arr, az)
    )
    return max(value, 0.0) / lb


def co_information(p: object, *variables: Axes, base: float | str = 2) -> float:
    """Co-information (interaction information, McGill sign convention) of the variables.

    .. math:: I(X_1; \\dots; X_n) = -\\sum_{S \\subseteq [n], S \\ne \\emptyset} (-1)^{|S|} H(X_S)

    For three variables, ``I(X; Y; Z) = I(X; Y) - I(X; Y | Z)``; negative values mean synergy
    dominates (XOR gives -1 bit).
    """
    arr, lb = _prepare(p, base)
    if len(variables) < 2:
        raise InvalidInputError(f"co_information needs at least 2 variables, got {len(variables)}.")
    groups = [_axes(v, arr.ndim, f"variables[{i}]") for i, v in enumerate(variables)]
    n = len(groups)
    total = 0.0
    for mask in range(1, 2**n):
        members = [groups[i] for i in range(n) if mask >> i & 1]
        keep = tuple(sorted(set().union(*members)))
        total -= (-1) ** len(members) * _marginal_h(arr, keep)
    return total / lb
