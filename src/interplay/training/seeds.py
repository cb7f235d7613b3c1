"""Seeding every generator, and summarising metrics over runs with different seeds."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._json import JSONResult, jsonable
from .._validation import check_int
from ..exceptions import InvalidInputError


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    Call it before building a model so that its initial weights depend only on ``seed``.

    Examples
    --------
    >>> seed_everything(0); a = torch.rand(2)
    >>> seed_everything(0); b = torch.rand(2)
    >>> bool(torch.equal(a, b))
    True
    """
    seed = check_int(seed, "seed", minimum=0)
    if seed >= 2**32:
        raise InvalidInputError(f"`seed` must be < 2**32, got {seed}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class SeedSummary(JSONResult):
    """Mean and sample standard deviation of each metric over ``n`` runs.

    Attributes
    ----------
    mean, std : dict
        ``{metric: value}``. ``std`` uses ``ddof=1`` and is NaN when ``n == 1``.
    n : int
        Number of runs.
    values : dict
        ``{metric: [value per run]}``.
    """

    mean: dict[str, float]
    std: dict[str, float]
    n: int
    values: dict[str, list[float]] = field(repr=False)

    def format(self, metric: str, digits: int = 3) -> str:
        """``"mean ± std"`` for one metric."""
        if metric not in self.mean:
            raise InvalidInputError(
                f"`metric` must be one of {sorted(self.mean)}, got {metric!r}."
            )
        return f"{self.mean[metric]:.{digits}f} ± {self.std[metric]:.{digits}f}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-ready: the NaN std of a single seed becomes None)."""
        return jsonable({"n": self.n, "mean": dict(self.mean), "std": dict(self.std),
                         "values": {k: list(v) for k, v in self.values.items()}})

    def __str__(self) -> str:
        lines = [f"{name}: {self.format(name)}" for name in self.mean]
        return f"over {self.n} seed(s)\n" + "\n".join(lines)


def summarize_seeds(results: Sequence[Any], metrics: Sequence[str] | None = None) -> SeedSummary:
    """Mean ± standard deviation of metrics over runs that differ only in their seed.

    Parameters
    ----------
    results : sequence
        One entry per run: a dict ``{metric: number}`` or an object with a ``metrics`` dict
        (such as :class:`~interplay.training.TrainResult`).
    metrics : sequence of str, optional
        Metrics to summarise; default every metric present in all runs.

    Returns
    -------
    SeedSummary

    Examples
    --------
    >>> s = summarize_seeds([{"acc": 0.8}, {"acc": 0.9}, {"acc": 1.0}])
    >>> s.format("acc")
    '0.900 ± 0.100'
    """
    if isinstance(results, (str, bytes, Mapping)) or not isinstance(results, Sequence):
        raise InvalidInputError(
            f"`results` must be a list with one entry per seed, got {type(results).__name__}."
        )
    if len(results) == 0:
        raise InvalidInputError("`results` must hold at least one run, got an empty list.")
    rows: list[Mapping[str, Any]] = []
    for i, r in enumerate(results):
        row = r if isinstance(r, Mapping) else getattr(r, "metrics", None)
        if not isinstance(row, Mapping):
            raise InvalidInputError(
                f"`results[{i}]` must be a dict of metrics or have a `metrics` dict, "
                f"got {type(r).__name__}."
            )
        rows.append(row)
    common = [k for k in rows[0] if all(k in row for row in rows)]
    names = list(common) if metrics is None else list(metrics)
    if not names:
        raise InvalidInputError("`results` share no metric name across all runs.")
    values: dict[str, list[float]] = {}
    for name in names:
        missing = [i for i, row in enumerate(rows) if name not in row]
        if missing:
            raise InvalidInputError(f"Metric {name!r} is missing from results {missing}.")
        vals = []
        for i, row in enumerate(rows):
            v = row[name]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise InvalidInputError(
                    f"`results[{i}][{name!r}]` must be a number, got {type(v).__name__}."
                )
            vals.append(float(v))
        values[name] = vals
    n = len(rows)
    mean = {k: float(np.mean(v)) for k, v in values.items()}
    std = {k: float(np.std(v, ddof=1)) if n > 1 else math.nan for k, v in values.items()}
    return SeedSummary(mean=mean, std=std, n=n, values=values)
