"""Synthetic discrete data whose partial information decomposition is known exactly.

:func:`make_gate` draws two independent uniform sources and a target computed by a logic gate;
:func:`make_mixture` combines independent redundant, unique and synergistic components so that
each BROJA atom is set at will. Both return the samples, the exact generating pmf
``p[x1, x2, y]`` (so any PID method can be run on the truth itself) and the true BROJA atoms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import (
    MAX_JOINT_CELLS,
    check_choice,
    check_float,
    check_int,
    check_random_state,
)
from ..exceptions import InvalidInputError
from ..info.measures import mutual_information


@dataclass(frozen=True)
class SyntheticPID:
    """Samples of (X1, X2, Y) with their exact distribution and true BROJA atoms.

    Attributes
    ----------
    x1, x2, y : ndarray of shape (n_samples,)
        Integer samples, ``x1[i]`` indexing axis 0 of ``pmf``, ``x2[i]`` axis 1, ``y[i]`` axis 2.
    pmf : ndarray of shape (n_x1, n_x2, n_y)
        The exact joint distribution the samples were drawn from.
    truth : dict or None
        True BROJA atoms in bits (keys ``redundancy``, ``unique1``, ``unique2``, ``synergy``),
        or None where no closed form is promised (see :func:`make_gate`).
    name : str
        What generated the data.
    params : dict
        The generator's arguments.
    """

    x1: np.ndarray
    x2: np.ndarray
    y: np.ndarray
    pmf: np.ndarray
    truth: dict[str, float] | None
    name: str
    params: dict[str, Any] = field(default_factory=dict)


def _min(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    return np.minimum(a, b)


def _max(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    return np.maximum(a, b)


def _xor(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    return (a + b) % k


def _sum(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    return a + b


def _copy(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    return a * k + b


def _first(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    return a


# name -> (y = f(x1, x2, alphabet), number of target values, symmetric in x1 and x2)
_GATES: dict[str, tuple[Callable[[np.ndarray, np.ndarray, int], np.ndarray],
                        Callable[[int], int], bool]] = {
    "xor": (_xor, lambda k: k, True),
    "and": (_min, lambda k: k, True),
    "or": (_max, lambda k: k, True),
    "sum": (_sum, lambda k: 2 * k - 1, True),
    "rdn": (_first, lambda k: k, True),
    "unq": (_first, lambda k: k, False),
    "copy": (_copy, lambda k: k * k, False),
}

GATES = tuple(_GATES)


def make_gate(
    name: str,
    n_samples: int,
    *,
    alphabet: int = 2,
    noise: float = 0.0,
    random_state: int | np.random.Generator | None = None,
) -> SyntheticPID:
    """Samples of a two-input gate with uniform independent inputs and known PID.

    X1 and X2 are uniform on ``{0, ..., alphabet - 1}`` and independent, except for ``"rdn"``
    where ``X2 = X1``. The clean target is

    ========  ==========================  ================================================
    name      Y                           BROJA truth (bits) at ``noise = 0``
    ========  ==========================  ================================================
    ``xor``   ``(x1 + x2) mod alphabet``  S = log2(alphabet)
    ``and``   ``min(x1, x2)``             R = I(X1;Y), S = H(Y) - R (binary: 0.3113, 0.5)
    ``or``    ``max(x1, x2)``             as ``and``
    ``sum``   ``x1 + x2``                 R = H(Y) - log2(alphabet), S = log2(alphabet)
    ``rdn``   ``x1`` (and ``x2 = x1``)    R = log2(alphabet)
    ``unq``   ``x1``                      U1 = log2(alphabet)
    ``copy``  ``x1 * alphabet + x2``      U1 = U2 = log2(alphabet)
    ========  ==========================  ================================================

    With probability ``noise`` the target is replaced by a uniform draw over its values (which
    may equal the clean value). The truth stays exact for every gate but ``copy``:

    * symmetric gates (all but ``unq`` and ``copy``) have ``p(x1, y) = p(x2, y)``; coupling
      ``X1 = X2`` is then feasible in BROJA's program, so U1 = U2 = 0, R = I(X1;Y) and
      S = I(X1,X2;Y) - I(X1;Y), evaluated on the noisy pmf;
    * ``unq``: X2 is independent of (X1, Y), so U1 = I(X1;Y) and the other atoms are 0;
    * ``copy``: no closed form is known with noise; ``truth`` is None, run
      ``pid(result.pmf, "broja")`` for the exact answer.

    Parameters
    ----------
    name : {"xor", "and", "or", "sum", "rdn", "unq", "copy"}
        The gate (case-insensitive).
    n_samples : int
        Number of samples (>= 1).
    alphabet : int
        Number of values of each input (>= 2).
    noise : float
        Probability in [0, 1] of replacing the target by a uniform random value.
    random_state : int, Generator or None
        Seed or generator.

    Returns
    -------
    SyntheticPID

    Examples
    --------
    >>> d = make_gate("xor", 1000, random_state=0)
    >>> {atom: round(bits, 9) for atom, bits in d.truth.items()}
    {'redundancy': 0.0, 'unique1': 0.0, 'unique2': 0.0, 'synergy': 1.0}
    >>> bool(np.all(d.y == d.x1 ^ d.x2))
    True
    """
    key = check_choice(name.lower() if isinstance(name, str) else name, "name", GATES)
    n = check_int(n_samples, "n_samples", minimum=1)
    k = check_int(alphabet, "alphabet", minimum=2)
    eps = check_float(noise, "noise", low=0.0, high=1.0)
    rng = check_random_state(random_state)
    gate, n_y, symmetric = _GATES[key]
    ky = n_y(k)
    _check_cells(k * k * ky)

    a, b = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    inputs = (np.eye(k) / k) if key == "rdn" else np.full((k, k), 1.0 / (k * k))
    clean = np.zeros((k, k, ky))
    clean[a, b, gate(a, b, k)] = 1.0
    pmf = inputs[:, :, None] * ((1.0 - eps) * clean + eps / ky)

    x1 = rng.integers(0, k, size=n)
    x2 = x1.copy() if key == "rdn" else rng.integers(0, k, size=n)
    y = gate(x1, x2, k)
    flip = rng.random(n) < eps
    y = np.where(flip, rng.integers(0, ky, size=n), y)

    truth: dict[str, float] | None
    i1 = mutual_information(pmf, 0, 2)
    if key == "copy":
        truth = _truth(0.0, math.log2(k), math.log2(k), 0.0) if eps == 0 else None
    elif key == "unq":
        truth = _truth(0.0, i1, 0.0, 0.0)
    else:
        i12 = mutual_information(pmf, (0, 1), 2)
        truth = _truth(i1, 0.0, 0.0, max(i12 - i1, 0.0))
    params = {"alphabet": k, "noise": eps, "n_samples": n, "symmetric": symmetric}
    return SyntheticPID(x1.astype(np.int64), x2.astype(np.int64), y.astype(np.int64), pmf,
                        truth, key, params)


def make_mixture(
    n_samples: int,
    *,
    redundant: int = 2,
    unique1: int = 2,
    unique2: int = 2,
    synergistic: int = 2,
    random_state: int | np.random.Generator | None = None,
) -> SyntheticPID:
    """Samples whose BROJA atoms are set exactly by independent components.

    Draw independent uniform ``r`` (``redundant`` values), ``u1``, ``u2``, and ``s1``, ``s2``
    (``synergistic`` values each), and set

    * X1 = (r, u1, s1), X2 = (r, u2, s2),
    * Y = (r, u1, u2, (s1 + s2) mod synergistic).

    Then R = log2(redundant), U1 = log2(unique1), U2 = log2(unique2) and
    S = log2(synergistic) bits: the components are independent and BROJA's atoms add up over
    independent subsystems. A size of 1 leaves a component out. Tuples are coded as integers
    in mixed radix, first component most significant.

    Parameters
    ----------
    n_samples : int
        Number of samples (>= 1).
    redundant, unique1, unique2, synergistic : int
        Number of equiprobable values of each component (>= 1).
    random_state : int, Generator or None
        Seed or generator.

    Returns
    -------
    SyntheticPID

    Examples
    --------
    >>> d = make_mixture(500, redundant=2, unique1=1, unique2=4, synergistic=2, random_state=0)
    >>> d.truth
    {'redundancy': 1.0, 'unique1': 0.0, 'unique2': 2.0, 'synergy': 1.0}
    >>> d.pmf.shape
    (4, 16, 16)
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    kr, ku1, ku2, ks = (
        check_int(v, nm, minimum=1)
        for v, nm in ((redundant, "redundant"), (unique1, "unique1"), (unique2, "unique2"),
                      (synergistic, "synergistic"))
    )
    n1, n2, ny = kr * ku1 * ks, kr * ku2 * ks, kr * ku1 * ku2 * ks
    _check_cells(n1 * n2 * ny)
    rng = check_random_state(random_state)

    def encode(r: Any, u1: Any, u2: Any, s1: Any, s2: Any) -> tuple[Any, Any, Any]:
        return ((r * ku1 + u1) * ks + s1,
                (r * ku2 + u2) * ks + s2,
                ((r * ku1 + u1) * ku2 + u2) * ks + (s1 + s2) % ks)

    grids = np.meshgrid(*(np.arange(m) for m in (kr, ku1, ku2, ks, ks)), indexing="ij")
    pmf = np.zeros((n1, n2, ny))
    np.add.at(pmf, encode(*(g.ravel() for g in grids)), 1.0 / grids[0].size)

    draws = [rng.integers(0, m, size=n) for m in (kr, ku1, ku2, ks, ks)]
    x1, x2, y = encode(*draws)
    truth = _truth(*(math.log2(m) for m in (kr, ku1, ku2, ks)))
    params = {"redundant": kr, "unique1": ku1, "unique2": ku2, "synergistic": ks, "n_samples": n}
    return SyntheticPID(x1.astype(np.int64), x2.astype(np.int64), y.astype(np.int64), pmf,
                        truth, "mixture", params)


def _truth(r: float, u1: float, u2: float, s: float) -> dict[str, float]:
    return {"redundancy": float(r), "unique1": float(u1), "unique2": float(u2),
            "synergy": float(s)}


def _check_cells(cells: int) -> None:
    if cells > MAX_JOINT_CELLS:
        raise InvalidInputError(
            f"the exact joint table would have {cells} cells, more than the limit of "
            f"{MAX_JOINT_CELLS}; use smaller alphabets."
        )
