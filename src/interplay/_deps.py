"""Optional dependencies: a clear error naming the extra that installs a missing one."""

from __future__ import annotations

import importlib

from .exceptions import MissingDependencyError

__all__ = ["require"]

#: The pip extra that installs each optional top-level module.
EXTRAS = {"torch": "models", "zuko": "models", "sklearn": "data",
          "dask": "distributed", "datasets": "hf"}


def require(module: str, needed_by: str) -> None:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra.

    >>> require("numpy", "interplay.info")   # present: nothing happens
    """
    try:
        importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRAS.get(module.split(".")[0], "models")
        raise MissingDependencyError(
            f"{needed_by} needs {module}, which is not installed: "
            f"`pip install 'interplay[{extra}]'`."
        ) from exc
