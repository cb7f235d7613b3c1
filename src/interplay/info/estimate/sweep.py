"""Many PIDs at once: named tasks run serially, on local processes (joblib) or on a Dask cluster.

A *task* is one ``(x1, x2, y)`` triple: a pair of modalities or feature groups and a target,
a layer of a model, one dataset of a suite. :func:`pid_sweep` runs one estimator over all
tasks and returns the results in the order the tasks were given; :func:`pairwise_pid` builds
the tasks for every pair of modalities of a dataset.

Parallelism never changes the numbers: every task gets its own seed, drawn from
``random_state`` by :class:`numpy.random.SeedSequence` before anything runs, so a sweep gives
the same results serially, with ``n_jobs`` local processes (joblib's ``loky`` backend) and on a
``dask.distributed`` cluster.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validation import check_int
from ...exceptions import InterplayError, InvalidInputError, MissingDependencyError
from ..pid import ATOMS, PIDResult
from .resampling import _progress

__all__ = [
    "SAMPLE_ESTIMATORS",
    "SweepResult",
    "estimator_function",
    "pairwise_pid",
    "pid_sweep",
    "run_parallel",
]

#: Estimators of a PID from samples, by name: ``module:function``. Each takes
#: ``(x1, x2, y, **options)`` and returns a :class:`PIDResult`.
SAMPLE_ESTIMATORS = {
    "discrete": "interplay.info.estimate.plugin:quantify",
    "cluster": "interplay.info.estimate.cluster:cluster_pid",
    "gaussian": "interplay.info.pid.gaussian:gaussian_pid_from_samples",
    "copula": "interplay.info.estimate.copula:copula_pid",
    "flow": "interplay.neural.flow:flow_pid",
    "batch": "interplay.neural.batch:batch_pid",
}

Estimator = Callable[..., PIDResult]
Task = tuple[Any, Any, Any]


def estimator_function(estimator: str | Estimator) -> Estimator:
    """The estimator function for a name of :data:`SAMPLE_ESTIMATORS`, or ``estimator`` itself.

    Raises
    ------
    InvalidInputError
        For an unknown name or an object that is not callable.
    MissingDependencyError
        When the estimator's module cannot be imported (the neural estimators need the
        ``interplay[models]`` extra, i.e. torch).
    """
    if callable(estimator):
        return estimator
    if estimator not in SAMPLE_ESTIMATORS:
        raise InvalidInputError(
            f"`estimator` must be one of {', '.join(map(repr, SAMPLE_ESTIMATORS))} or a callable "
            f"estimate(x1, x2, y, **options) -> PIDResult, got {estimator!r}."
        )
    module, name = SAMPLE_ESTIMATORS[estimator].split(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {estimator!r} estimator ({module}) could not be imported ({exc}); the neural "
            "estimators need torch: `pip install interplay[models]`."
        ) from exc


@dataclass(frozen=True)
class SweepResult:
    """The PIDs of a sweep, in the order of its tasks.

    Attributes
    ----------
    names : tuple of str
        Task names.
    results : tuple of PIDResult
        One result per task.
    """

    names: tuple[str, ...]
    results: tuple[PIDResult, ...]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[PIDResult]:
        return iter(self.results)

    def __getitem__(self, name: str) -> PIDResult:
        if name not in self.names:
            raise KeyError(name)
        return self.results[self.names.index(name)]

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns ``task``, the atoms, the mutual informations, ``estimator``, ``n_samples``,
        and ``<atom>_low`` / ``<atom>_high`` when the results carry intervals."""
        table: dict[str, list[Any]] = {"task": list(self.names)}
        for key in (*ATOMS, "mi_joint", "mi_x1", "mi_x2", "estimator", "n_samples"):
            table[key] = [getattr(r, key) for r in self.results]
        if all(r.ci is not None for r in self.results):
            for atom in ATOMS:
                table[f"{atom}_low"] = [r.ci[atom][0] for r in self.results]  # type: ignore[index]
                table[f"{atom}_high"] = [r.ci[atom][1] for r in self.results]  # type: ignore[index]
        return table

    def to_frame(self) -> Any:
        """A pandas DataFrame of :meth:`to_dict`, one row per task, indexed by task name."""
        import pandas as pd

        return pd.DataFrame(self.to_dict()).set_index("task")


def pid_sweep(
    tasks: Mapping[str, Task] | Sequence[Task],
    *,
    estimator: str | Estimator = "gaussian",
    n_jobs: int = 1,
    client: Any = None,
    random_state: int | None = None,
    progress: bool = True,
    **options: Any,
) -> SweepResult:
    """Run one PID estimator on many ``(x1, x2, y)`` tasks, in parallel if asked.

    Parameters
    ----------
    tasks : mapping of str to (x1, x2, y), or sequence of (x1, x2, y)
        The tasks, named (a sequence is named ``"0"``, ``"1"``, ...). Results keep this order.
    estimator : str or callable
        A name of :data:`SAMPLE_ESTIMATORS` (``"discrete"``, ``"cluster"``, ``"gaussian"``,
        ``"copula"``, ``"flow"``, ``"batch"``) or any ``estimate(x1, x2, y, **options)``
        returning a :class:`PIDResult`.
    n_jobs : int
        Local worker processes (joblib, ``loky`` backend); 1 runs in this process, -1 uses every
        core. Ignored when ``client`` is given.
    client : dask.distributed.Client or None
        Run the tasks on this Dask cluster (needs the ``interplay[distributed]`` extra). The
        arrays are scattered to the workers once per task.
    random_state : int or None
        Seed of the sweep. Each task gets its own seed from ``SeedSequence(random_state)``,
        passed as ``random_state`` to estimators that take one (cluster, discrete with
        bootstrap, flow, batch), so the results do not depend on ``n_jobs`` or the cluster.
    progress : bool
        Show a progress bar over the tasks (the estimators' own bars are turned off).
    **options
        Passed to the estimator for every task (e.g. ``n_clusters=10``, ``method="mmi"``).

    Returns
    -------
    SweepResult
        ``result["name"]``, iteration over the results, ``to_dict()``, ``to_frame()``.

    Raises
    ------
    InvalidInputError
        No tasks, a task that is not a triple, bad ``n_jobs`` or ``client``, an unknown
        estimator. An error inside a task is re-raised with the task's name in the message
        (same class for interplay's errors, :class:`InterplayError` for others).
    MissingDependencyError
        ``client`` given without dask.distributed installed.

    Warns
    -----
    Whatever the estimator warns, once per task, prefixed with the task's name (also when the
    task ran in another process).

    Examples
    --------
    >>> from interplay.data.gaussian import noisy_copies, sample_gaussian
    >>> tasks = {f"rho={r}": sample_gaussian(noisy_copies(r), 5000, random_state=0)
    ...          for r in (0.0, 0.9)}
    >>> sweep = pid_sweep(tasks, estimator="gaussian", progress=False)
    >>> [round(r.synergy, 1) for r in sweep]   # oracle O1: S = 0.29 and 0.02 bits
    [0.3, 0.0]
    """
    names, triples = _check_tasks(tasks)
    function = estimator_function(estimator)
    seeds = _task_seeds(random_state, len(triples))
    accepted = _parameters(function)
    calls = []
    for triple, seed in zip(triples, seeds, strict=True):
        extra = dict(options)
        if "random_state" in accepted and random_state is not None:
            extra.setdefault("random_state", seed)
        if "progress" in accepted:
            extra.setdefault("progress", False)
        calls.append((triple, extra))
    outcomes = run_parallel(
        function, calls, names, n_jobs=n_jobs, client=client, progress=progress, label="PID sweep"
    )
    for name, (_, caught) in zip(names, outcomes, strict=True):
        for category, message in caught:
            warnings.warn(f"task {name!r}: {message}", category, stacklevel=2)
    return SweepResult(names=tuple(names), results=tuple(value for value, _ in outcomes))


def pairwise_pid(
    data: Any,
    target: Any = None,
    *,
    modalities: Sequence[str] | None = None,
    estimator: str | Estimator = "gaussian",
    n_jobs: int = 1,
    client: Any = None,
    random_state: int | None = None,
    progress: bool = True,
    **options: Any,
) -> SweepResult:
    """The PID of every pair of modalities (or feature groups) about one target.

    Parameters
    ----------
    data : MultimodalDataset or mapping of str to array-like
        The modalities; each is flattened to ``(n_samples, n_features)``.
    target : str, array-like or None
        For a dataset: the name of one of its targets (None: its default target). For a
        mapping: the target array itself.
    modalities : sequence of str, optional
        The modalities to pair (default: all, in the data's order).
    estimator, n_jobs, client, random_state, progress, **options
        As in :func:`pid_sweep`.

    Returns
    -------
    SweepResult
        Tasks named ``"a, b"`` for the pairs ``(a, b)`` in order (``a`` is X1).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal(4000)
    >>> groups = {g: y[:, None] + rng.standard_normal((4000, 2)) for g in ("a", "b", "c")}
    >>> pairwise_pid(groups, y, progress=False).names
    ('a, b', 'a, c', 'b, c')
    """
    arrays, y = _groups_and_target(data, target)
    chosen = list(arrays) if modalities is None else list(modalities)
    for name in chosen:
        if name not in arrays:
            raise InvalidInputError(
                f"`modalities` names {name!r}, which is not one of {', '.join(arrays)}."
            )
    if len(chosen) < 2:
        raise InvalidInputError(
            f"pairwise_pid needs at least two modalities, got {len(chosen)} ({chosen})."
        )
    tasks = {f"{a}, {b}": (arrays[a], arrays[b], y)
             for a, b in itertools.combinations(chosen, 2)}
    return pid_sweep(tasks, estimator=estimator, n_jobs=n_jobs, client=client,
                     random_state=random_state, progress=progress, **options)


def run_parallel(
    function: Callable[..., Any],
    calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
    names: Sequence[str],
    *,
    n_jobs: int = 1,
    client: Any = None,
    progress: bool = True,
    label: str = "tasks",
) -> list[tuple[Any, list[tuple[type[Warning], str]]]]:
    """``function(*args, **kwargs)`` for each ``(args, kwargs)`` of ``calls``, in order.

    Serial for ``n_jobs=1`` without ``client``, else on joblib's ``loky`` processes or on the
    Dask ``client``. Returns one ``(value, warnings)`` pair per call, ``warnings`` being the
    ``(category, message)`` of each warning the call raised. A failing call is re-raised with
    its name from ``names``.
    """
    jobs = _check_n_jobs(n_jobs)
    total = len(calls)
    with _progress(not progress) as bar:
        task = bar.add_task(label, total=total)
        if client is not None:
            stream = _on_dask(client, function, calls)
        elif jobs == 1:
            stream = (_guarded(function, args, kwargs) for args, kwargs in calls)
        else:
            joblib = importlib.import_module("joblib")
            stream = joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator")(
                joblib.delayed(_guarded)(function, args, kwargs) for args, kwargs in calls
            )
        outcomes = []
        for name, (ok, value, caught) in zip(names, stream, strict=True):
            if not ok:
                _reraise(name, value)
            outcomes.append((value, caught))
            bar.advance(task)
    return outcomes


def _guarded(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
             ) -> tuple[bool, Any, list[tuple[type[Warning], str]]]:
    """Run one call and return ``(ok, value or exception, warnings)`` instead of raising."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = function(*args, **kwargs)
        except Exception as exc:  # handed back to the caller, which names the task
            return False, exc, []
    return True, value, [(w.category, str(w.message)) for w in caught]


def _reraise(name: str, exc: BaseException) -> None:
    message = f"task {name!r} failed: {exc}"
    if isinstance(exc, InterplayError):
        try:
            error = type(exc)(message)
        except TypeError:
            error = InterplayError(message)
    else:
        error = InterplayError(f"task {name!r} failed with {type(exc).__name__}: {exc}")
    raise error from exc


def _on_dask(client: Any, function: Callable[..., Any],
             calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]]) -> Iterator[Any]:
    try:
        distributed = importlib.import_module("dask.distributed")
    except ImportError as exc:
        raise MissingDependencyError(
            "running on a Dask cluster needs dask.distributed: "
            "`pip install interplay[distributed]`."
        ) from exc
    if not isinstance(client, distributed.Client):
        raise InvalidInputError(
            f"`client` must be a dask.distributed.Client, got {type(client).__name__}."
        )
    futures = [
        client.submit(_guarded, function, client.scatter(list(args)), kwargs, pure=False)
        for args, kwargs in calls
    ]
    return (future.result() for future in futures)


def _check_tasks(tasks: Any) -> tuple[list[str], list[Task]]:
    if isinstance(tasks, Mapping):
        names, triples = [str(k) for k in tasks], list(tasks.values())
    elif isinstance(tasks, Sequence) and not isinstance(tasks, (str, bytes)):
        names, triples = [str(i) for i in range(len(tasks))], list(tasks)
    else:
        raise InvalidInputError(
            "`tasks` must be a mapping of names to (x1, x2, y) triples or a sequence of "
            f"triples, got {type(tasks).__name__}."
        )
    if not triples:
        raise InvalidInputError("`tasks` is empty; give at least one (x1, x2, y) triple.")
    for name, triple in zip(names, triples, strict=True):
        if not isinstance(triple, (tuple, list)) or len(triple) != 3:
            raise InvalidInputError(
                f"task {name!r} must be an (x1, x2, y) triple, got {type(triple).__name__}"
                + (f" of length {len(triple)}" if isinstance(triple, (tuple, list)) else "")
                + "."
            )
    return names, [tuple(t) for t in triples]


def _check_n_jobs(n_jobs: Any) -> int:
    jobs = check_int(n_jobs, "n_jobs")
    if jobs == 0 or jobs < -1:
        raise InvalidInputError(
            f"`n_jobs` must be a positive integer or -1 (all cores), got {jobs}."
        )
    return jobs


def _task_seeds(random_state: Any, count: int) -> list[int | None]:
    if random_state is None:
        return [None] * count
    seed = check_int(random_state, "random_state", minimum=0)
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(count)]


def _parameters(function: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return set()


def _groups_and_target(data: Any, target: Any) -> tuple[dict[str, np.ndarray], Any]:
    from ...data.dataset import MultimodalDataset

    if isinstance(data, MultimodalDataset):
        if target is None:
            y = data.target
        elif isinstance(target, str) and target in data.target_names:
            y = data.targets[target]
        else:
            raise InvalidInputError(
                f"`target` must be one of the dataset's targets ({', '.join(data.target_names)})"
                f" or None, got {target!r}."
            )
        arrays = dict(data.modalities)
    elif isinstance(data, Mapping):
        if target is None or isinstance(target, str):
            raise InvalidInputError(
                "with a mapping of feature groups, `target` must be the target array, got "
                f"{target!r}."
            )
        arrays, y = dict(data), target
    else:
        raise InvalidInputError(
            "`data` must be a MultimodalDataset or a mapping of names to arrays, got "
            f"{type(data).__name__}."
        )
    flat = {}
    for name, arr in arrays.items():
        a = np.asarray(arr)
        flat[str(name)] = a.reshape(a.shape[0], -1) if a.ndim > 1 else a
    return flat, y
