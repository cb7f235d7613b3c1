"""One JSON convention for every result type: plain Python values, NaN and infinities as null.

Result classes define ``to_dict()`` with :func:`jsonable` and inherit ``to_json()`` from
:class:`JSONResult`, so every result written by the library or the command line is valid JSON
(``json.dumps`` would otherwise write ``NaN``, which JSON does not have).

>>> jsonable({"std": float("nan"), "n": __import__("numpy").int64(3), "pair": (1.0, 2.0)})
{'std': None, 'n': 3, 'pair': [1.0, 2.0]}
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from typing import Any

__all__ = ["JSONResult", "dumps", "jsonable"]


def jsonable(obj: Any) -> Any:
    """``obj`` with dicts, lists and tuples rebuilt from plain values.

    Dictionary keys become strings, tuples become lists, numpy scalars become Python numbers,
    and non-finite floats become ``None``.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars and 0-d arrays
        return jsonable(obj.item())
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """JSON text of :func:`jsonable` of ``obj`` (indented by 2 unless ``indent`` is given).

    Non-finite numbers are refused by the encoder, so the text is always strict JSON.
    """
    kwargs.setdefault("indent", 2)
    kwargs.setdefault("allow_nan", False)
    return json.dumps(jsonable(obj), **kwargs)


class JSONResult(ABC):
    """Mixin of result types: ``to_json()`` from the class's ``to_dict()``."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary of the result."""

    def to_json(self, **kwargs: Any) -> str:
        """Strict JSON text of :meth:`to_dict` (NaN written as null)."""
        return dumps(self.to_dict(), **kwargs)
