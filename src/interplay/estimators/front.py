"""``interplay.quantify``: the one front door for a PID estimated from samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import DEFAULT_SEED, check_choice, check_int
from ..info.pid.result import PIDResult
from .bootstrap import MODES, bootstrap_pid
from .registry import AUTO, choose_estimator, estimate, get_estimator

__all__ = ["quantify"]


def quantify(
    x1: Any,
    x2: Any,
    y: Any,
    *,
    estimator: str = AUTO,
    method: str = "broja",
    base: float | str = 2,
    n_bootstrap: int = 0,
    bootstrap: str = "refit",
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = DEFAULT_SEED,
    n_jobs: int = 1,
    progress: bool = True,
    **options: Any,
) -> PIDResult:
    """Partial information decomposition of I(X1, X2; Y) from samples, by any estimator.

    Picks the estimator (``estimator="auto"``: counting for discrete columns, clustering for
    continuous sources and a discrete target, a Gaussian copula otherwise; see
    :func:`~interplay.estimators.choose_estimator`), runs it from the registry
    (:func:`~interplay.estimators.list_estimators`), and adds bootstrap intervals when asked.

    Parameters
    ----------
    x1, x2 : array-like of shape (n_samples,) or (n_samples, n_columns)
        The two sources, rows aligned with ``y``. Several columns form one modality.
    y : array-like of shape (n_samples,) or (n_samples, n_columns)
        The target.
    estimator : str
        ``"auto"`` or a registry name: ``"plugin"`` (counting), ``"cluster"``, ``"gaussian"``,
        ``"copula"``, ``"flow"``, ``"batch"`` (the last two need ``interplay[models]``).
    method : str
        Redundancy measure (``"broja"``, ``"mmi"``, ...; the continuous estimators support
        ``"broja"`` and ``"mmi"``, BATCH only ``"broja"``).
    base : float or "e"
        Logarithm base of the result (2 gives bits).
    n_bootstrap : int
        Bootstrap resamples for intervals of the atoms (0: none).
    bootstrap : {"refit", "fixed"}
        What a bootstrap replicate re-estimates: ``"refit"`` re-runs the whole estimator on
        every resample, ``"fixed"`` holds its fitted stage (clustering, flows, networks) fixed
        (:mod:`interplay.estimators.bootstrap`). Recorded in ``settings["bootstrap"]``.
    confidence : float
        Coverage of the intervals.
    random_state : int, Generator or None
        Seed of the randomised estimators and of the resampling (default 0: reproducible).
    n_jobs : int
        Processes for the bootstrap replicates of ``"refit"`` (-1: every core).
    progress : bool
        Show progress bars.
    **options
        Options of the chosen estimator, e.g. ``n_permutations`` and ``bias_correction`` for the
        plug-in, ``n_clusters`` and ``n_components`` for the cluster estimator, ``max_epochs``
        for Flow-PID. An option the estimator does not take is an :class:`InvalidInputError`.

    Returns
    -------
    PIDResult
        ``settings["estimator"]`` is the registry name used; with ``estimator="auto"``,
        ``settings["auto"]`` says why it was chosen.

    Raises
    ------
    InvalidInputError
        Unknown estimator or option, bad values, inputs the estimator refuses.
    MissingDependencyError
        The estimator needs an extra that is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)
    >>> r = quantify(a, b, a ^ b, progress=False)          # XOR: 1 bit of synergy
    >>> round(r.synergy, 2), r.settings["estimator"]
    (1.0, 'plugin')
    """
    if estimator == AUTO:
        name, reason = choose_estimator(x1, x2, y)
    else:
        name, reason = get_estimator(estimator).name, None
    n_boot = check_int(n_bootstrap, "n_bootstrap", minimum=0)
    mode = check_choice(bootstrap, "bootstrap", MODES)
    if n_boot:
        result = bootstrap_pid(name, x1, x2, y, n_bootstrap=n_boot, mode=mode,
                               confidence=confidence, base=base, random_state=random_state,
                               n_jobs=n_jobs, progress=progress, method=method, **options)
    else:
        result = estimate(name, x1, x2, y, base=base, random_state=random_state,
                          progress=progress, method=method, **options)
    settings = {**result.settings, "estimator": name}
    if reason is not None:
        settings["auto"] = reason
    return result.with_(settings=settings)
