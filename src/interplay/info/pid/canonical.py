"""Canonical bivariate distributions and their exact BROJA decompositions.

These are the test cases of the PID literature (Williams & Beer 2010; Griffith & Koch 2014;
Bertschinger et al. 2014; Ince 2017; James et al. 2018), under the names ``dit`` gives them
in ``dit.pid.distributions.bivariates``. Each is a pmf ``p[x1, x2, y]``.

Beware one naming trap inherited from the literature: in ``"unique 1"`` the target copies the
*second* source (``y = x2``; "1" is the zero-based index of the source), so it has
``unique2 = 1`` bit in interplay's convention, where ``unique1`` belongs to ``x1``.

:data:`CANONICAL_BROJA` holds the BROJA atoms ``(R, U1, U2, S)`` in bits, written in closed
form. They agree to 1e-8 bits with dit's exponential-cone solver (``PID_BROJA(method="cone")``).

Examples
--------
>>> from interplay.info.pid import pid
>>> p = canonical_distributions()["and"]
>>> r = pid(p, "broja")
>>> [round(v, 6) for v in r.atoms.values()]
[0.311278, 0.0, 0.0, 0.5]
>>> [round(v, 6) for v in CANONICAL_BROJA["and"]]
[0.311278, 0.0, 0.0, 0.5]
"""

from __future__ import annotations

import math

import numpy as np

from ...exceptions import InvalidInputError

# Outcomes "x1 x2 y" (one character per variable) with probabilities; the values of each
# variable are indexed in sorted character order ("_", the erasure symbol, sorts last).
_HALF, _QUARTER, _EIGHTH, _THIRD, _SIXTH, _FIFTH = 1 / 2, 1 / 4, 1 / 8, 1 / 3, 1 / 6, 1 / 5

_SPECS: dict[str, dict[str, float]] = {
    "uniform": {o: _EIGHTH for o in ("000", "001", "010", "011", "100", "101", "110", "111")},
    "null": {o: _QUARTER for o in ("000", "001", "110", "111")},
    "redundant": {"000": _HALF, "111": _HALF},
    "simple": {"000": _HALF, "110": _QUARTER, "111": _QUARTER},
    "unique 1": {o: _QUARTER for o in ("000", "011", "100", "111")},
    "cat": {o: _QUARTER for o in ("000", "011", "102", "113")},
    "synergy": {o: _QUARTER for o in ("000", "011", "101", "110")},
    "w": {o: _THIRD for o in ("001", "010", "100")},
    "diff": {o: _QUARTER for o in ("000", "001", "010", "101")},
    "and": {o: _QUARTER for o in ("000", "010", "100", "111")},
    "reduced or": {"000": _HALF, "011": _QUARTER, "101": _QUARTER},
    "sum": {o: _QUARTER for o in ("000", "011", "101", "112")},
    "rand": {"000": _QUARTER, "010": _EIGHTH, "011": _EIGHTH, "100": _EIGHTH, "101": _EIGHTH,
             "111": _QUARTER},
    "f1": {o: _QUARTER for o in ("002", "010", "102", "111")},
    "jeff": {"000": _QUARTER, "010": _EIGHTH, "011": _EIGHTH, "100": _EIGHTH, "101": _EIGHTH,
             "111": _QUARTER},
    "wb 1": {o: _THIRD for o in ("000", "011", "102")},
    "wb 2": {o: _QUARTER for o in ("000", "011", "102", "111")},
    "wb 3": {o: _SIXTH for o in ("000", "011", "012", "102", "110", "111")},
    "imp. rdn": {"000": 0.499, "010": 0.001, "111": 0.5},
    "rdn xor": {o: _EIGHTH for o in ("000", "011", "101", "110", "222", "233", "323", "332")},
    "prob. 1": {o: _FIFTH for o in ("000", "001", "010", "011", "100")},
    "prob. 2": {o: _QUARTER for o in ("000", "010", "021", "101")},
    "gband": {o: _EIGHTH for o in ("000", "010", "100", "111", "222", "232", "322", "333")},
    "boom": {o: _SIXTH for o in ("001", "002", "020", "121", "202", "212")},
    "not two": {o: _FIFTH for o in ("000", "001", "010", "100", "111")},
    "pnt. unq.": {o: _QUARTER for o in ("011", "022", "101", "202")},
    "erase": {
        **{o: 1 / 16 for o in ("000", "00_", "0_0", "0__", "111", "11_", "1_1", "1__",
                               "_00", "_0_", "_11", "_1_", "__0", "__1")},
        "___": _EIGHTH,
    },
}


def _binary_entropy(q: float) -> float:
    return -q * math.log2(q) - (1 - q) * math.log2(1 - q)


_L3 = math.log2(3)
_AND_R = 1.5 - 0.75 * _L3  # h(1/4) - 1/2 = I(X1;Y) for AND
_W_R = _L3 - 4 / 3  # I(X1;Y) for w
_DIFF_R = 2.5 - 1.5 * _L3
_HALF_MINUS = 0.75 * _L3 - 1  # 1 - h(1/4)
_IMP_R = 1 - 0.501 * _binary_entropy(0.001 / 0.501)  # I(X2;Y); X1 = Y
_P1_I1 = _binary_entropy(0.4) - 0.8  # I(X1;Y) of "prob. 1"
_P1_R = _binary_entropy(0.4) - 0.6 * _binary_entropy(1 / 3) - 0.4  # I(X2;Y) of "prob. 1"
_BOOM_HY = -(_SIXTH * math.log2(_SIXTH) + _THIRD * math.log2(_THIRD) + _HALF * math.log2(_HALF))

#: BROJA atoms (R, U1, U2, S) in bits of every distribution in :func:`canonical_distributions`.
CANONICAL_BROJA: dict[str, tuple[float, float, float, float]] = {
    "uniform": (0.0, 0.0, 0.0, 0.0),
    "null": (0.0, 0.0, 0.0, 0.0),
    "redundant": (1.0, 0.0, 0.0, 0.0),
    "simple": (_AND_R, 0.0, 0.0, 0.0),
    "unique 1": (0.0, 0.0, 1.0, 0.0),
    "cat": (0.0, 1.0, 1.0, 0.0),
    "synergy": (0.0, 0.0, 0.0, 1.0),
    "w": (_W_R, 0.0, 0.0, 2 / 3),
    "diff": (_DIFF_R, _HALF_MINUS, _HALF_MINUS, 0.0),
    "and": (_AND_R, 0.0, 0.0, 0.5),
    "reduced or": (_AND_R, 0.0, 0.0, 1 - _AND_R),
    "sum": (0.5, 0.0, 0.0, 1.0),
    "rand": (_HALF_MINUS, 0.0, 0.0, _AND_R),
    "f1": (0.0, 0.5, 1.0, 0.0),
    "jeff": (_HALF_MINUS, 0.0, 0.0, _AND_R),
    "wb 1": (_W_R, 2 / 3, 2 / 3, 0.0),
    "wb 2": (0.0, 0.5, 1.0, 0.0),
    "wb 3": (0.0, 0.0, _W_R, 2 / 3),
    "imp. rdn": (_IMP_R, 1 - _IMP_R, 0.0, 0.0),
    "rdn xor": (1.0, 0.0, 0.0, 1.0),
    "prob. 1": (_P1_R, _P1_I1 - _P1_R, 0.0, 0.0),
    "prob. 2": (_AND_R, 0.0, _HALF_MINUS, 0.5),
    "gband": (1 + _AND_R, 0.0, 0.0, 0.5),
    "boom": (1 / 3, 1 / 3, 1 / 3, _BOOM_HY - 4 / 3),
    "not two": (_P1_R, 0.0, 0.0, _P1_I1 + 0.4 - _P1_R),
    "pnt. unq.": (0.5, 0.0, 0.0, 0.5),
    "erase": (0.25, 0.0, 0.0, 0.125),
}


def _to_array(spec: dict[str, float]) -> np.ndarray:
    alphabets = [sorted({o[i] for o in spec}) for i in range(3)]
    p = np.zeros([len(a) for a in alphabets])
    for outcome, prob in spec.items():
        p[tuple(a.index(c) for a, c in zip(alphabets, outcome, strict=True))] += prob
    return p / p.sum()


def canonical_distributions() -> dict[str, np.ndarray]:
    """The 27 canonical bivariate distributions as pmfs ``p[x1, x2, y]`` (fresh copies).

    Keys follow dit's names (``"synergy"`` is XOR, ``"cat"`` is COPY, ``"redundant"`` is RDN,
    ``"unique 1"`` has ``y = x2``). Their BROJA atoms are in :data:`CANONICAL_BROJA`.

    >>> canonical_distributions()["synergy"][:, :, 1]
    array([[0.  , 0.25],
           [0.25, 0.  ]])
    """
    return {name: _to_array(spec) for name, spec in _SPECS.items()}


def canonical_distribution(name: str) -> np.ndarray:
    """One canonical distribution by name; see :func:`canonical_distributions`."""
    if name not in _SPECS:
        raise InvalidInputError(
            f"`name` must be one of {', '.join(map(repr, _SPECS))}; got {name!r}."
        )
    return _to_array(_SPECS[name])
