"""The registry of PID estimators that work on samples, and the rule that picks one from the data.

Every entry is called the same way,

    ``estimate(x1, x2, y, *, base, random_state, progress, **options) -> PIDResult``,

and carries what a caller needs to know without importing it: the kind of target it takes,
the redundancy measures it supports, whether it is randomised, the optional dependency it
needs, its defaults, and what its own bootstrap holds fixed (see
:mod:`interplay.estimators.bootstrap`). The functions live in ``info/`` (numpy/scipy) and
``neural/`` (torch); they are imported on first use, so this module is cheap to import and
names nothing that a base install lacks until it is asked for.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import DEFAULT_SEED
from ..exceptions import InvalidInputError, MissingDependencyError
from ..info.estimate.plugin import MIN_SAMPLES_PER_CELL
from ..info.pid.result import PIDResult

__all__ = [
    "ALIASES",
    "AUTO",
    "DEFAULT_SEED",
    "MAX_DISCRETE_VALUES",
    "REGISTRY",
    "CLUSTER_COMPONENTS",
    "MAX_DEFAULT_CLUSTERS",
    "EstimatorSpec",
    "choose_estimator",
    "cluster_defaults",
    "default_options",
    "estimate",
    "get_estimator",
    "list_estimators",
]

#: The name that lets :func:`choose_estimator` pick the estimator from the data.
AUTO = "auto"
#: A numeric column with at most this many distinct values counts as discrete.
MAX_DISCRETE_VALUES = 50
#: Other names accepted for registry entries (the command line's ``--estimator discrete``).
ALIASES = {"discrete": "plugin"}
#: Principal components per modality the cluster estimator keeps unless told otherwise.
CLUSTER_COMPONENTS = 10
#: The most k-means clusters per modality the cluster estimator's default rule gives.
MAX_DEFAULT_CLUSTERS = 10

Estimator = Callable[..., PIDResult]


@dataclass(frozen=True)
class EstimatorSpec:
    """One sample estimator of the registry.

    Attributes
    ----------
    name : str
        Registry name (``"plugin"``, ``"cluster"``, ...).
    target : str
        ``"label"`` when Y is a class label taken as it is, ``"numeric"`` when Y must be numbers.
    sources : str
        ``"discrete"`` (values are counted) or ``"numeric"`` (continuous samples).
    methods : tuple of str or None
        Redundancy measures it supports; ``None`` means every one of
        :func:`interplay.info.list_pid_methods`.
    randomised : bool
        True when its result depends on ``random_state``.
    extra : str or None
        The optional dependency group it needs (``pip install interplay[<extra>]``).
    holds_fixed : str
        What the estimator's own bootstrap (``bootstrap="fixed"``) keeps fixed while the rows
        are resampled; ``"nothing"`` when it re-runs the whole estimator.
    summary : str
        One line for listings and help texts.
    options : tuple of str
        The keyword options it takes besides ``base``, ``random_state`` and ``progress``.
    own_bootstrap : bool
        True when it takes ``n_bootstrap`` itself (resampling with ``holds_fixed`` fixed).
    stage : str or None
        ``"module:function"`` of its fitted first stage, for estimators that discretise or
        transform the data and then count: ``stage(x1, x2, y, **options)`` returns the
        transformed ``(x1, x2, y)``, decomposed by the plug-in estimator.
    defaults : dict
        Options passed unless the caller gives them; :func:`default_options` adds the ones
        that depend on the data (the cluster estimator's ``n_clusters``).
    """

    name: str
    function: str
    target: str
    sources: str
    methods: tuple[str, ...] | None
    randomised: bool
    extra: str | None
    holds_fixed: str
    summary: str
    options: tuple[str, ...]
    own_bootstrap: bool
    stage: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> Estimator:
        """The estimator function (importing its module now)."""
        module, attr = self.function.split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            if self.extra is None:
                raise
            raise MissingDependencyError(
                f"the {self.name!r} estimator needs the optional dependencies of "
                f"interplay[{self.extra}] ({exc}); install them with "
                f"`pip install 'interplay[{self.extra}]'`."
            ) from exc


REGISTRY: dict[str, EstimatorSpec] = {
    spec.name: spec
    for spec in (
        EstimatorSpec(
            "plugin", "interplay.info.estimate.plugin:plugin_pid", target="label",
            sources="discrete", methods=None, randomised=False, extra=None,
            holds_fixed="nothing", own_bootstrap=True,
            options=("method", "n_bootstrap", "confidence", "n_permutations", "bias_correction"),
            summary="counts the values of discrete samples (plug-in); exact for the empirical "
                    "distribution, biased upwards with few samples per cell"),
        EstimatorSpec(
            "cluster", "interplay.info.estimate.cluster:cluster_pid", target="label",
            sources="numeric", methods=None, randomised=True, extra="data",
            holds_fixed="the PCA projection and the k-means clustering of each modality",
            own_bootstrap=True, stage="interplay.info.estimate.cluster:cluster_stage",
            options=("n_clusters", "n_components", "method", "n_bootstrap", "confidence"),
            defaults={"n_components": CLUSTER_COMPONENTS},
            summary="standardises each modality, keeps its leading principal components, "
                    "k-means clusters it, then counts (continuous X1, X2; discrete Y)"),
        EstimatorSpec(
            "gaussian", "interplay.estimators.registry:gaussian_estimator", target="numeric",
            sources="numeric", methods=("broja", "mmi"), randomised=False, extra=None,
            holds_fixed="nothing", own_bootstrap=False,
            options=("method", "bias_correction", "tol", "max_iter", "on_failure"),
            summary="fits a joint Gaussian (exact for jointly Gaussian data)"),
        EstimatorSpec(
            "copula", "interplay.estimators.registry:copula_estimator", target="numeric",
            sources="numeric", methods=("broja", "mmi"), randomised=False, extra=None,
            holds_fixed="nothing", own_bootstrap=False,
            options=("method", "bias_correction", "tol", "max_iter", "on_failure"),
            summary="fits a joint Gaussian to rank-normal scores (any monotone marginals)"),
        EstimatorSpec(
            "flow", "interplay.neural.flow:flow_pid", target="numeric", sources="numeric",
            methods=("broja", "mmi"), randomised=True, extra="models",
            holds_fixed="the trained normalizing flows", own_bootstrap=True,
            options=("flow", "transforms", "hidden", "init", "max_epochs", "patience",
                     "validation_fraction", "batch_size", "lr", "device", "method",
                     "bias_correction", "n_bootstrap", "confidence"),
            summary="Flow-PID: normalizing flows towards Gaussian marginals, then the "
                    "Gaussian PID (torch)"),
        EstimatorSpec(
            "batch", "interplay.neural.batch:batch_pid", target="label", sources="numeric",
            methods=("broja",), randomised=True, extra="models",
            holds_fixed="the trained classifiers and alignment; held-out minibatches are "
                        "resampled instead of rows",
            own_bootstrap=True,
            options=("hidden", "layers", "embed_dim", "batch_size", "classifier_epochs",
                     "align_epochs", "steps_per_epoch", "lr", "align_lr", "sinkhorn_iters",
                     "sinkhorn_tol", "validation_fraction", "n_bootstrap", "confidence",
                     "device", "method"),
            summary="BATCH: neural minibatch BROJA estimate (continuous X1, X2; discrete Y; "
                    "torch)"),
    )
}


def list_estimators() -> list[str]:
    """Names of the registered sample estimators (``"auto"`` is not one of them).

    >>> list_estimators()
    ['batch', 'cluster', 'copula', 'flow', 'gaussian', 'plugin']
    """
    return sorted(REGISTRY)


def get_estimator(name: str) -> EstimatorSpec:
    """The registry entry called ``name`` (or an alias of it); an unknown name is an
    :class:`InvalidInputError`."""
    name = ALIASES.get(name, name) if isinstance(name, str) else name
    if not isinstance(name, str) or name not in REGISTRY:
        raise InvalidInputError(
            f"`estimator` must be one of {', '.join(map(repr, list_estimators()))} (or "
            f"{AUTO!r} to pick one from the data, where accepted), got {name!r}."
        )
    return REGISTRY[name]


def estimate(
    name: str,
    x1: Any,
    x2: Any,
    y: Any,
    *,
    base: float | str = 2,
    random_state: int | None = DEFAULT_SEED,
    progress: bool = True,
    **options: Any,
) -> PIDResult:
    """Run the registered estimator ``name`` with its defaults under ``options``.

    Raises
    ------
    InvalidInputError
        Unknown estimator, or a ``method`` it does not support.
    MissingDependencyError
        When the estimator needs an extra that is not installed (flow and BATCH need torch,
        ``interplay[models]``; cluster needs scikit-learn, ``interplay[data]``).
    """
    spec = get_estimator(name)
    name = spec.name
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise InvalidInputError(
            f"`{unknown[0]}` is not an option of the {name!r} estimator; it takes "
            f"{', '.join(map(repr, spec.options))}."
        )
    method = options.get("method", "broja")
    if spec.methods is not None and method not in spec.methods:
        raise InvalidInputError(
            f"`method` {method!r} is not available with the {name!r} estimator; it supports "
            f"{', '.join(map(repr, spec.methods))}."
        )
    function = spec.load()
    return function(x1, x2, y, base=base, random_state=random_state, progress=progress,
                    **{**default_options(name, y), **options})


def cluster_defaults(n_samples: int, n_classes: int) -> dict[str, int]:
    """The cluster estimator's settings for ``n_samples`` rows and a target with ``n_classes``
    values: the most clusters per modality (2 to :data:`MAX_DEFAULT_CLUSTERS`) that leave at
    least ``MIN_SAMPLES_PER_CELL`` (5) samples per cell of the joint table
    (``n_clusters**2 * n_classes`` cells), on :data:`CLUSTER_COMPONENTS` principal components.

    The one definition behind ``quantify``, ``recommend`` and ``interplay.quantify``: the
    plug-in count behind the cluster estimator does not raise a small-sample warning for the
    cell count, and with more rows it resolves more of each modality (10 digit classes need
    about 10 clusters per modality for the parity of two digits to show as synergy).

    >>> cluster_defaults(2000, 10), cluster_defaults(1167, 2)["n_clusters"]
    ({'n_clusters': 6, 'n_components': 10}, 10)
    """
    per_cluster_pair = MIN_SAMPLES_PER_CELL * max(int(n_classes), 1)
    k = math.isqrt(max(int(n_samples), 0) // per_cluster_pair)
    return {"n_clusters": min(max(k, 2), MAX_DEFAULT_CLUSTERS),
            "n_components": CLUSTER_COMPONENTS}


def default_options(name: str, y: Any) -> dict[str, Any]:
    """The options ``name`` runs with unless the caller gives them, for target samples ``y``.

    The registry entry's ``defaults``; for the cluster estimator also ``n_clusters`` from the
    sample size and the number of target values (:func:`cluster_defaults`).
    """
    spec = get_estimator(name)
    if spec.name != "cluster":
        return dict(spec.defaults)
    arr = np.asarray(y)
    classes = np.unique(arr.reshape(arr.shape[0], -1), axis=0).shape[0] if arr.ndim else 1
    return {**spec.defaults, **cluster_defaults(arr.shape[0] if arr.ndim else 1, classes)}


def gaussian_estimator(x1: Any, x2: Any, y: Any, *, base: float | str = 2,
                       random_state: Any = None, progress: bool = False,
                       **options: Any) -> PIDResult:
    """:func:`~interplay.info.pid.gaussian.gaussian_pid_from_samples` in the registry's form.

    Deterministic: ``random_state`` and ``progress`` are accepted and unused.
    """
    from ..info.pid.gaussian import gaussian_pid_from_samples

    return gaussian_pid_from_samples(x1, x2, y, base=base, **options)


def copula_estimator(x1: Any, x2: Any, y: Any, *, base: float | str = 2,
                     random_state: Any = None, progress: bool = False,
                     **options: Any) -> PIDResult:
    """:func:`~interplay.info.estimate.copula.copula_pid` in the registry's form.

    Deterministic: ``random_state`` and ``progress`` are accepted and unused.
    """
    from ..info.estimate.copula import copula_pid

    return copula_pid(x1, x2, y, base=base, **options)


def choose_estimator(x1: Any, x2: Any, y: Any) -> tuple[str, str]:
    """The estimator ``"auto"`` picks for these samples, and a sentence saying why.

    ``"plugin"`` when every column of X1 and X2 is non-numeric (strings, booleans,
    categoricals) or has at most :data:`MAX_DISCRETE_VALUES` distinct values; otherwise
    ``"cluster"`` when Y is discrete in that sense, else ``"copula"``. The neural estimators
    (slow, randomised) are never picked.

    Examples
    --------
    >>> import numpy as np
    >>> choose_estimator(np.arange(200) % 3, np.arange(200) % 2, np.arange(200) % 2)[0]
    'plugin'
    >>> choose_estimator(np.linspace(0, 1, 200), np.arange(200) % 2, np.arange(200) % 2)[1]
    'cluster: column 0 of x1 has more than 50 distinct values and y is discrete'
    """
    continuous = [f"column {c} of {name}" for name, values in (("x1", x1), ("x2", x2))
                  for c in _continuous_columns(values)]
    if not continuous:
        return "plugin", (f"plugin: every column of x1 and x2 has at most "
                          f"{MAX_DISCRETE_VALUES} distinct values (or is not numeric); "
                          "counted exactly")
    which = continuous[0] + (f" and {len(continuous) - 1} more" if len(continuous) > 1 else "")
    verb = "have" if len(continuous) > 1 else "has"
    if not _continuous_columns(y):
        return "cluster", (f"cluster: {which} {verb} more than {MAX_DISCRETE_VALUES} distinct "
                           "values and y is discrete")
    return "copula", (f"copula: {which} {verb} more than {MAX_DISCRETE_VALUES} distinct values "
                      "and y is continuous")


def is_discrete(values: Any) -> bool:
    """True when every column is non-numeric or has at most :data:`MAX_DISCRETE_VALUES` distinct
    values: what the ``"auto"`` rule counts exactly instead of discretising.

    >>> is_discrete([0, 1, 2, 1]), is_discrete(list(range(100)))
    (True, False)
    """
    return not _continuous_columns(values)


def _continuous_columns(values: Any) -> list[str]:
    """Names of the numeric (not boolean) columns with more than MAX_DISCRETE_VALUES values."""
    columns = getattr(values, "columns", None)
    if columns is not None:  # a DataFrame: judge each column by its own dtype
        named = [(repr(str(c)), np.asarray(values[c])) for c in columns]
    else:
        arr = np.asarray(values)
        if arr.ndim == 0 or arr.size == 0:
            return []
        flat = arr.reshape(arr.shape[0], -1)
        named = [(str(j), flat[:, j]) for j in range(flat.shape[1])]
        if getattr(values, "name", None) is not None and len(named) == 1:
            named = [(repr(str(values.name)), named[0][1])]
    return [name for name, col in named
            if col.dtype.kind in "fiuc" and np.unique(col).size > MAX_DISCRETE_VALUES]
