"""Estimates from samples: one registry of estimators, one front door, one bootstrap, sweeps.

* :func:`quantify` (also ``interplay.quantify``) picks an estimator (``"auto"``) or runs the
  one named, and adds bootstrap intervals;
* :mod:`~interplay.estimators.registry` holds the estimators, all called
  ``(x1, x2, y, *, base, random_state, progress, **options) -> PIDResult``, and the rule
  that picks one from the data (:func:`choose_estimator`);
* :func:`bootstrap_pid` is the one bootstrap, its meaning (``mode="refit"`` or ``"fixed"``)
  recorded in the result;
* :func:`pid_sweep` and :func:`pairwise_pid` run one estimator over many tasks in parallel.

The estimators themselves live in :mod:`interplay.info.estimate` (numpy/scipy) and
:mod:`interplay.neural` (torch); this package sits above both and imports them on first use.
"""

from .bootstrap import bootstrap_pid, bootstrap_replicates
from .front import quantify
from .registry import (
    MAX_DISCRETE_VALUES,
    EstimatorSpec,
    choose_estimator,
    estimate,
    get_estimator,
    list_estimators,
)
from .sweep import SweepResult, pairwise_pid, pid_sweep

__all__ = [
    "MAX_DISCRETE_VALUES",
    "EstimatorSpec",
    "SweepResult",
    "bootstrap_pid",
    "bootstrap_replicates",
    "choose_estimator",
    "estimate",
    "get_estimator",
    "list_estimators",
    "pairwise_pid",
    "pid_sweep",
    "quantify",
]
