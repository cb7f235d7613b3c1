"""One bootstrap for every sample estimator, with its meaning a named option.

A bootstrap replicate draws the rows (samples) with replacement and re-estimates. What is
re-estimated is the option ``mode``, recorded in ``result.settings["bootstrap"]``:

* ``"refit"`` re-runs the whole estimator on every resample, with the same seed: the
  intervals show the sampling variability of everything the estimator fits (the clustering,
  the flows, the networks) as well as of the final decomposition. Each replicate costs one full
  estimate (for the neural estimators, one training run).
* ``"fixed"`` fits the estimator's first stage once on all rows and holds it fixed
  (:attr:`EstimatorSpec.holds_fixed <interplay.estimators.registry.EstimatorSpec>`: the
  k-means clustering, the trained flows, BATCH's trained networks, which resample held-out
  minibatches instead of rows); only the last stage is re-estimated. Cheaper, and narrower:
  it misses the variability of what was held fixed. For estimators that fit nothing (plug-in,
  Gaussian, copula) both modes are the same.

Percentile intervals are the ``(1 - c)/2`` and ``(1 + c)/2`` quantiles of the replicates;
basic intervals ``[2 t - q_hi, 2 t - q_lo]`` (``t`` the point estimate) move them by the
bootstrap estimate of the bias and are clipped at 0 (Efron & Tibshirani 1993). Both assume the
estimate is a smooth function of the empirical distribution; they undercover when ``n`` is
small against the dimensions, and for an atom at its bound 0. The resamples are drawn in this
process before anything runs, so the intervals do not depend on ``n_jobs``.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

import numpy as np

from .._parallel import run_parallel
from .._validation import DEFAULT_SEED, check_choice, check_float, check_int, check_random_state
from ..exceptions import InvalidInputError
from ..info.estimate import resampling
from ..info.pid.result import ATOMS, PIDResult
from .registry import default_options, estimate, get_estimator
from .sweep import Estimator, resolve

__all__ = ["INTERVALS", "MODES", "bootstrap_pid", "bootstrap_replicates"]

#: Kinds of interval.
INTERVALS = ("percentile", "basic")
#: What a replicate re-estimates (see the module docstring).
MODES = ("refit", "fixed")


def bootstrap_pid(
    estimator: str | Estimator,
    x1: Any,
    x2: Any,
    y: Any,
    *,
    n_bootstrap: int = 200,
    mode: str = "refit",
    confidence: float = 0.95,
    interval: str = "percentile",
    base: float | str = 2,
    random_state: int | np.random.Generator | None = DEFAULT_SEED,
    n_jobs: int = 1,
    client: Any = None,
    progress: bool = True,
    **options: Any,
) -> PIDResult:
    """An estimate with bootstrap confidence intervals for its four atoms.

    Parameters
    ----------
    estimator : str or callable
        A registry name (``"plugin"``, ``"cluster"``, ``"gaussian"``, ``"copula"``, ``"flow"``,
        ``"batch"``) or a function of the registry's form
        ``estimate(x1, x2, y, *, base, random_state, progress, **options) -> PIDResult``.
    x1, x2, y : array-like of shape (n_samples, ...)
        The samples, rows aligned; any array the estimator accepts.
    n_bootstrap : int
        Number of resamples (>= 2; a few hundred for 95 % intervals).
    mode : {"refit", "fixed"}
        What a replicate re-estimates (module docstring); a callable supports ``"refit"`` only.
    confidence : float
        Coverage of the intervals, in (0, 1).
    interval : {"percentile", "basic"}
        The kind of interval. ``mode="fixed"`` with ``"basic"`` needs an estimator whose fixed
        stage can be held here (plug-in, cluster, Gaussian, copula).
    base : float or "e"
        Logarithm base of the result.
    random_state : int, Generator or None
        Seed of the resampling, and of the estimator (the same seed on the data and in every
        replicate; one drawn from a Generator).
    n_jobs, client
        Run the ``"refit"`` replicates on ``n_jobs`` local processes or on a Dask client, as in
        :func:`~interplay.estimators.pid_sweep`; the result does not depend on them.
    progress : bool
        Show a progress bar over the replicates.
    **options
        Passed to the estimator on the data and on every resample.

    Returns
    -------
    PIDResult
        The point estimate with ``ci`` set for the four atoms; ``settings["bootstrap"]`` records
        ``mode``, ``n_bootstrap``, ``confidence``, ``interval``, ``seed``, what was resampled
        and what was held fixed. Warnings raised by replicates are counted in one note of
        ``result.warnings``.

    Raises
    ------
    InvalidInputError
        Bad ``n_bootstrap``, ``mode``, ``confidence`` or ``interval``; inputs of different
        lengths or with fewer than 2 rows. An estimator's error on a resample is re-raised
        naming the replicate.

    Examples
    --------
    >>> from interplay.data.gaussian import noisy_copies, sample_gaussian
    >>> x1, x2, y = sample_gaussian(noisy_copies(0.0), 4000, random_state=0)
    >>> r = bootstrap_pid("gaussian", x1, x2, y, n_bootstrap=50, progress=False)
    >>> lo, hi = r.ci["redundancy"]
    >>> bool(lo < 0.5 < hi), r.settings["bootstrap"]["mode"]    # the truth is R = 0.5 bit
    (True, 'refit')
    """
    n_rep = check_int(n_bootstrap, "n_bootstrap", minimum=2)
    kind = check_choice(mode, "mode", MODES)
    conf = check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True,
                       high_open=True)
    shape = check_choice(interval, "interval", INTERVALS)
    spec = get_estimator(estimator) if isinstance(estimator, str) else None
    own = spec is not None and spec.own_bootstrap and shape == "percentile"
    if spec is not None and own and (kind == "fixed" or spec.holds_fixed == "nothing"):
        seed = _seed(random_state)
        result = estimate(spec.name, x1, x2, y, base=base, random_state=seed, progress=progress,
                          n_bootstrap=n_rep, confidence=conf, **options)
        resampled = ("held-out minibatches, with replacement" if spec.name == "batch"
                     else "rows, with replacement")
        corrected = options.get("bias_correction") == "bootstrap"  # the plug-in's basic intervals
        return _record(result, kind, n_rep, conf, "basic" if corrected else "percentile", seed,
                       resampled, spec.holds_fixed)
    point, replicates, notes, seed = _replicates(estimator, x1, x2, y, n_rep, kind, base,
                                                 random_state, n_jobs, client, progress, options)
    rows = np.array([[getattr(r, a) for a in ATOMS] for r in replicates])
    estimates = [getattr(point, a) for a in ATOMS]
    if shape == "basic":
        bounds = resampling.basic_intervals(rows, estimates, conf, floor=0.0)
    else:
        bounds = resampling.percentile_intervals(rows, conf)
    held = "nothing" if kind == "refit" or spec is None else spec.holds_fixed
    result = point.with_(ci=dict(zip(ATOMS, bounds, strict=True)),
                         warnings=point.warnings + notes)
    return _record(result, kind, n_rep, conf, shape, seed, "rows, with replacement", held)


def bootstrap_replicates(
    estimator: str | Estimator,
    x1: Any,
    x2: Any,
    y: Any,
    *,
    n_bootstrap: int,
    mode: str = "refit",
    base: float | str = 2,
    random_state: int | np.random.Generator | None = DEFAULT_SEED,
    n_jobs: int = 1,
    client: Any = None,
    progress: bool = True,
    **options: Any,
) -> tuple[PIDResult, list[PIDResult]]:
    """The point estimate and the estimate on each of ``n_bootstrap`` resamples of the rows.

    For statistics of the replicates other than atom intervals (e.g. the shares of
    :func:`interplay.analysis.recommend.profile_interactions`). ``mode="fixed"`` needs an
    estimator that fits nothing or has a fitted stage (cluster); flow and BATCH bootstrap
    themselves (:func:`bootstrap_pid`) and do not hand out replicates.
    """
    n_rep = check_int(n_bootstrap, "n_bootstrap", minimum=2)
    kind = check_choice(mode, "mode", MODES)
    point, replicates, _, _ = _replicates(estimator, x1, x2, y, n_rep, kind, base, random_state,
                                          n_jobs, client, progress, options)
    return point, replicates


def _replicates(
    estimator: str | Estimator, x1: Any, x2: Any, y: Any, n_rep: int, mode: str,
    base: float | str, random_state: Any, n_jobs: int, client: Any, progress: bool,
    options: dict[str, Any],
) -> tuple[PIDResult, list[PIDResult], tuple[str, ...], int | None]:
    function = resolve(estimator)
    arrays = _rows(x1, x2, y)
    if isinstance(estimator, str):  # settings from the data fixed once, for every replicate
        options = {**default_options(estimator, arrays[2]), **options}
    n = arrays[0].shape[0]
    rng = check_random_state(random_state)
    seed = _seed(random_state, rng)
    kwargs = {"base": base, "random_state": seed, "progress": False, **options}
    point = function(*arrays, **kwargs)
    replicate, data = function, arrays
    if mode == "fixed":
        spec = get_estimator(estimator) if isinstance(estimator, str) else None
        if spec is None or (spec.stage is None and spec.holds_fixed != "nothing"):
            raise InvalidInputError(
                f"`mode='fixed'` needs a registered estimator whose fitted stage can be held "
                f"fixed here; {estimator!r} has none. Use mode='refit'."
            )
        if spec.stage is not None:
            module, attr = spec.stage.split(":")
            stage = getattr(importlib.import_module(module), attr)
            data = _rows(*stage(*arrays, random_state=seed, **options))
            replicate = resolve("plugin")
            kwargs = {"base": base, "random_state": seed, "progress": False,
                      "method": options.get("method", "broja")}
    draws = [rng.integers(0, n, size=n) for _ in range(n_rep)]
    outcomes = run_parallel(
        replicate,
        [(tuple(a[idx] for a in data), kwargs) for idx in draws],
        [f"bootstrap replicate {i}" for i in range(n_rep)],
        n_jobs=n_jobs, client=client, progress=progress, label="bootstrap",
    )
    return point, [r for r, _ in outcomes], _replicate_notes(outcomes), seed


def _seed(random_state: Any, rng: np.random.Generator | None = None) -> int | None:
    """The estimator's seed: the int given, one drawn from a Generator, or None."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int((rng or random_state).integers(0, 2**31 - 1))
    return check_int(random_state, "random_state", minimum=0)


def _record(result: PIDResult, mode: str, n_rep: int, confidence: float, interval: str,
            seed: int | None, resampled: str, held_fixed: str) -> PIDResult:
    settings = {
        **result.settings,
        "n_bootstrap": n_rep,
        "confidence": confidence,
        "bootstrap": {"mode": mode, "n_bootstrap": n_rep, "confidence": confidence,
                      "interval": interval, "seed": seed, "resampled": resampled,
                      "held_fixed": held_fixed},
    }
    return result.with_(settings=settings)


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
