"""Test-only helpers for the info tests: conversion to and from dit (a test dependency).

Use the ``dit_helpers`` fixture; it skips the test when dit is not installed.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

#: dit's lattice nodes of the bivariate atoms in interplay's order (R, U1, U2, S).
DIT_NODES = (((0,), (1,)), ((0,),), ((1,),), ((0, 1),))


def to_dit(p: np.ndarray) -> Any:
    """A dit Distribution of a pmf ``p[x1, x2, y]`` (outcomes are index tuples)."""
    import dit

    arr = np.asarray(p, dtype=float)
    return dit.Distribution.from_ndarray(arr / arr.sum())


def from_dit(d: Any) -> np.ndarray:
    """The pmf array of a dit Distribution, axes indexed in the order of ``d.alphabet``."""
    alphabet = d.alphabet
    p = np.zeros([len(a) for a in alphabet])
    for outcome, prob in zip(d.outcomes, d.pmf, strict=True):
        p[tuple(a.index(v) for a, v in zip(alphabet, outcome, strict=True))] += prob
    return p


def dit_atoms(pid_obj: Any) -> np.ndarray:
    """(R, U1, U2, S) of a dit bivariate PID object, in interplay's order."""
    return np.array([float(pid_obj.get_pi(node)) for node in DIT_NODES])


@pytest.fixture
def dit_helpers() -> SimpleNamespace:
    """``to_dit``, ``from_dit``, ``dit_atoms`` and the ``dit`` module; skips without dit."""
    module = pytest.importorskip("dit")
    return SimpleNamespace(dit=module, to_dit=to_dit, from_dit=from_dit, dit_atoms=dit_atoms)
