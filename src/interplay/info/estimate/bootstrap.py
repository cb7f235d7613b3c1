"""Bootstrap confidence intervals for any PID estimator that works on samples.

:func:`bootstrap_pid` re-runs an estimator (Gaussian, copula, cluster, Flow-PID, BATCH, or any
``estimate(x1, x2, y, **options) -> PIDResult``) on rows drawn with replacement and attaches
intervals for the four atoms to the estimate on the full data. The resamples are drawn in this
process before anything runs, so the intervals do not depend on ``n_jobs``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..._validation import check_choice, check_float, check_int
from ...exceptions import InvalidInputError
from ..pid import ATOMS, PIDResult
from . import resampling
from .plugin import _rng
from .sweep import Estimator, _parameters, estimator_function, run_parallel

__all__ = ["INTERVALS", "bootstrap_pid"]

INTERVALS = ("percentile", "basic")


def bootstrap_pid(
    estimate: str | Estimator,
    x1: Any,
    x2: Any,
    y: Any,
    *,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    interval: str = "percentile",
    random_state: int | np.random.Generator | None = None,
    n_jobs: int = 1,
    client: Any = None,
    progress: bool = True,
    **options: Any,
) -> PIDResult:
    """An estimate with bootstrap confidence intervals for its atoms.

    The estimator runs once on the data (the point estimate) and once on each of
    ``n_bootstrap`` resamples of the rows drawn with replacement (Efron & Tibshirani 1993).

    * ``"percentile"`` intervals are the ``(1 - c)/2`` and ``(1 + c)/2`` quantiles of the
      replicates. They inherit the estimator's bias: an upward-biased atom (plug-in synergy,
      a Gaussian PID without bias correction at small ``n``) can leave the truth below the
      interval.
    * ``"basic"`` intervals ``[2 t - q_hi, 2 t - q_lo]`` (``t`` the point estimate) move the
      interval by the bootstrap estimate of the bias; they are clipped at 0.

    Both are first-order accurate and assume the estimator is a smooth function of the
    empirical distribution; they undercover when ``n`` is small against the dimensions, and
    for an atom at its bound 0 (the percentile interval then often excludes 0 itself).
    Randomised estimators (cluster, flow, BATCH) get the seed ``random_state`` (one drawn
    from it for a Generator), the same on the data and in every replicate, so the intervals
    show the sampling variability, not that of the fit. Each
    replicate costs one full estimate: for the neural estimators, one training run.

    Parameters
    ----------
    estimate : str or callable
        A name of :data:`~interplay.info.estimate.sweep.SAMPLE_ESTIMATORS` (``"gaussian"``,
        ``"copula"``, ``"cluster"``, ``"flow"``, ``"batch"``, ``"discrete"``) or a function
        ``estimate(x1, x2, y, **options) -> PIDResult``.
    x1, x2, y : array-like of shape (n_samples, ...)
        The samples, rows aligned; any array the estimator accepts.
    n_bootstrap : int
        Number of resamples (>= 2; a few hundred for 95 % intervals).
    confidence : float
        Coverage of the intervals, in (0, 1).
    interval : {"percentile", "basic"}
        The kind of interval.
    random_state : int, Generator or None
        Seed of the resampling, and of the estimator when it takes a ``random_state``.
    n_jobs, client
        Run the replicates on ``n_jobs`` local processes or on a Dask client, as in
        :func:`~interplay.info.estimate.sweep.pid_sweep`; the result does not depend on them.
    progress : bool
        Show a progress bar over the replicates.
    **options
        Passed to the estimator on the data and on every resample (``progress=False`` is added
        for estimators that take it).

    Returns
    -------
    PIDResult
        The point estimate with ``ci`` set for the four atoms; ``settings`` gains
        ``n_bootstrap``, ``confidence``, ``interval`` and ``bootstrap_seed``. Warnings raised by
        the replicates are counted in one note of ``result.warnings``.

    Raises
    ------
    InvalidInputError
        Bad ``n_bootstrap``, ``confidence`` or ``interval``; inputs of different lengths or with
        fewer than 2 rows. An estimator's error on a resample is re-raised naming the replicate.

    Examples
    --------
    >>> from interplay.data.gaussian import noisy_copies, sample_gaussian
    >>> x1, x2, y = sample_gaussian(noisy_copies(0.0), 4000, random_state=0)
    >>> r = bootstrap_pid("gaussian", x1, x2, y, n_bootstrap=50, random_state=0,
    ...                   progress=False)
    >>> lo, hi = r.ci["redundancy"]
    >>> bool(lo < 0.5 < hi), r.settings["interval"]     # the truth is R = 0.5 bit
    (True, 'percentile')
    """
    function = estimator_function(estimate)
    n_rep = check_int(n_bootstrap, "n_bootstrap", minimum=2)
    conf = check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True,
                       high_open=True)
    kind = check_choice(interval, "interval", INTERVALS)
    arrays = _rows(x1, x2, y)
    n = arrays[0].shape[0]
    rng = _rng(random_state)
    kwargs = dict(options)
    accepted = _parameters(function)
    if "progress" in accepted:
        kwargs.setdefault("progress", False)
    if "random_state" in accepted and random_state is not None:
        kwargs["random_state"] = (int(random_state) if isinstance(random_state, (int, np.integer))
                                  else int(rng.integers(0, 2**31 - 1)))

    point = function(*arrays, **kwargs)
    draws = [rng.integers(0, n, size=n) for _ in range(n_rep)]
    outcomes = run_parallel(
        function,
        [(tuple(a[idx] for a in arrays), kwargs) for idx in draws],
        [f"bootstrap replicate {i}" for i in range(n_rep)],
        n_jobs=n_jobs, client=client, progress=progress, label="bootstrap",
    )
    replicates = np.array([[getattr(r, a) for a in ATOMS] for r, _ in outcomes])
    estimates = [getattr(point, a) for a in ATOMS]
    if kind == "basic":
        bounds = resampling.basic_intervals(replicates, estimates, conf, floor=0.0)
    else:
        bounds = resampling.percentile_intervals(replicates, conf)
    settings = {
        **point.settings,
        "n_bootstrap": n_rep,
        "confidence": conf,
        "interval": kind,
        "bootstrap_seed": random_state if isinstance(random_state, (int, np.integer)) else None,
    }
    return point.with_(ci=dict(zip(ATOMS, bounds, strict=True)), settings=settings,
                       warnings=point.warnings + _replicate_notes(outcomes))


def _rows(x1: Any, x2: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = tuple(np.asarray(a) for a in (x1, x2, y))
    lengths = [a.shape[0] if a.ndim else 0 for a in arrays]
    if len(set(lengths)) > 1 or min(lengths) < 2:
        raise InvalidInputError(
            "`x1`, `x2` and `y` must have the same number of rows, at least 2, got "
            f"{lengths[0]}, {lengths[1]} and {lengths[2]}."
        )
    return arrays  # type: ignore[return-value]


def _replicate_notes(
    outcomes: list[tuple[Any, list[tuple[type[Warning], str]]]],
) -> tuple[str, ...]:
    counts = Counter(category.__name__ for _, caught in outcomes for category, _ in caught)
    if not counts:
        return ()
    hit = sum(1 for _, caught in outcomes if caught)
    kinds = ", ".join(f"{c} x{k}" for c, k in sorted(counts.items()))
    share = hit / len(outcomes)
    return (
        f"{hit} of the {len(outcomes)} bootstrap replicates ({share:.0%}) raised warnings "
        f"({kinds}); intervals from warned replicates may be "
        + ("unreliable." if share > 0.1 else "slightly off."),
    )
