"""Bootstrap intervals and permutation tests for estimates computed from samples.

The functions here know nothing about PID: they draw index arrays, call a statistic that
returns a vector, and summarise the replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..._progress import progress_bar

Statistic = Callable[[np.ndarray], np.ndarray]


def _replicate(
    statistic: Statistic, draw: Callable[[], np.ndarray], n_rep: int, label: str, progress: bool
) -> np.ndarray:
    rows = []
    with progress_bar(not progress) as bar:
        task = bar.add_task(label, total=n_rep)
        for _ in range(n_rep):
            rows.append(np.asarray(statistic(draw()), dtype=np.float64))
            bar.advance(task)
    return np.vstack(rows)


def bootstrap(
    statistic: Statistic, n: int, n_rep: int, rng: np.random.Generator, *, progress: bool = True
) -> np.ndarray:
    """``statistic(idx)`` on ``n_rep`` resamples of ``n`` rows drawn with replacement.

    Returns an array of shape ``(n_rep, k)`` for a statistic returning ``k`` values.
    """
    return _replicate(
        statistic, lambda: rng.integers(0, n, size=n), n_rep, "bootstrap", progress
    )


def permutation_null(
    statistic: Statistic, n: int, n_rep: int, rng: np.random.Generator, *, progress: bool = True
) -> np.ndarray:
    """``statistic(perm)`` on ``n_rep`` random permutations of ``range(n)``.

    Returns an array of shape ``(n_rep, k)`` for a statistic returning ``k`` values.
    """
    return _replicate(statistic, lambda: rng.permutation(n), n_rep, "permutations", progress)


def permutation_p_values(null: np.ndarray, observed: Sequence[float]) -> list[float]:
    """One-sided p-values ``(1 + #{null >= observed}) / (1 + n_rep)`` per column.

    The ``+1`` counts the observed data as one draw from the null, so a p-value is never 0
    (Phipson & Smyth 2010). A relative slack of 1e-9 keeps ties from round-off counted as ties.
    """
    obs = np.asarray(observed, dtype=np.float64)
    slack = 1e-9 * np.maximum(np.abs(obs), 1e-12)
    hits = (null >= obs - slack).sum(axis=0)
    return [float(v) for v in (1 + hits) / (1 + null.shape[0])]


def percentile_intervals(replicates: np.ndarray, confidence: float) -> list[tuple[float, float]]:
    """Percentile intervals ``[q_(a/2), q_(1-a/2)]`` of each column, ``a = 1 - confidence``."""
    alpha = 1 - confidence
    lo, hi = np.quantile(replicates, [alpha / 2, 1 - alpha / 2], axis=0)
    return [(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]


def basic_intervals(
    replicates: np.ndarray, estimates: Sequence[float], confidence: float, *, floor: float = 0.0
) -> list[tuple[float, float]]:
    """Basic (reverse-percentile) intervals ``[2 t - q_hi, 2 t - q_lo]``, clipped at ``floor``.

    They move the percentile interval by the bootstrap estimate of the bias, which suits
    quantities such as mutual informations that are >= 0 and biased upwards.
    """
    alpha = 1 - confidence
    lo, hi = np.quantile(replicates, [alpha / 2, 1 - alpha / 2], axis=0)
    t = np.asarray(estimates, dtype=np.float64)
    return [
        (max(float(2 * e - b), floor), max(float(2 * e - a), floor))
        for e, a, b in zip(t, lo, hi, strict=True)
    ]
