"""Torch-based estimators: Flow-PID and the BATCH neural PID estimator.

Importing this package does not import torch; each estimator loads it on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {"flow_pid": "interplay.neural.flow", "batch_pid": "interplay.neural.batch"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
