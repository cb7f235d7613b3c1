"""PID and information estimates from samples: plug-in, bootstrap, permutation tests."""

from .plugin import quantify

__all__ = ["quantify"]
