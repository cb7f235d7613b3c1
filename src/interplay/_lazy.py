"""Modules loaded on first attribute access, so ``import interplay`` and the CLI start light.

``linalg = lazy_module("scipy.linalg")`` binds a stand-in; the first ``linalg.solve(...)``
imports scipy.linalg and every later access goes straight to it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self.__name__)
        return getattr(self._module, attr)


def lazy_module(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first attribute access.

    >>> m = lazy_module("json")
    >>> m.dumps([1])
    '[1]'
    """
    return _LazyModule(name)
