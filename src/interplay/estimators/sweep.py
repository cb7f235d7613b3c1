"""Many PIDs at once: named tasks run serially, on local processes (joblib) or on a Dask cluster.

A *task* is one ``(x1, x2, y)`` triple: a pair of modalities or feature groups and a target,
a layer of a model, one dataset of a suite. :func:`pid_sweep` runs one estimator of the
registry (:mod:`interplay.estimators.registry`) over all tasks and returns the results in the
order the tasks were given; :func:`pairwise_pid` builds the tasks for every pair of modalities
of a dataset.

Parallelism never changes the numbers: every task gets its own seed, drawn from
``random_state`` by :class:`numpy.random.SeedSequence` before anything runs, so a sweep gives
the same results serially, with ``n_jobs`` local processes (joblib's ``loky`` backend) and on a
``dask.distributed`` cluster.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .._json import JSONResult, jsonable
from .._parallel import run_parallel
from .._tables import atom_table
from .._validation import DEFAULT_SEED, check_int
from ..exceptions import InvalidInputError
from ..info.pid.result import ATOMS, PIDResult
from .registry import estimate

__all__ = ["Estimator", "SweepResult", "pairwise_pid", "pid_sweep", "resolve"]

#: A sample estimator in the registry's form:
#: ``estimate(x1, x2, y, *, base, random_state, progress, **options) -> PIDResult``.
Estimator = Callable[..., PIDResult]
Task = tuple[Any, Any, Any]


def resolve(estimator: str | Estimator) -> Estimator:
    """A registry name as a function of the registry's form; a callable is returned as is."""
    if callable(estimator):
        return estimator
    if not isinstance(estimator, str):
        raise InvalidInputError(
            "`estimator` must be a registry name (see interplay.estimators.list_estimators) or "
            f"a callable estimate(x1, x2, y, *, base, random_state, progress, **options), got "
            f"{type(estimator).__name__}."
        )
    from .registry import get_estimator

    get_estimator(estimator)  # unknown names fail here, before any work
    return partial(estimate, estimator)


@dataclass(frozen=True)
class SweepResult(JSONResult):
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
        return jsonable(table)

    def to_frame(self) -> Any:
        """A pandas DataFrame of :meth:`to_dict`, one row per task, indexed by task name."""
        import pandas as pd

        return pd.DataFrame(self.to_dict()).set_index("task")

    def to_string(self, digits: int = 4) -> str:
        """A plain-text table: one row per task with the atoms and I(X1,X2;Y)."""
        first = self.results[0] if self.results else None
        head = (f"PID sweep of {len(self)} task{'s' if len(self) != 1 else ''}"
                + (f" ({first.method}, {first.estimator}) in {first.units}" if first else ""))
        return atom_table(head, "task", list(self.names), self.results, digits)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        shown = ", ".join(map(repr, self.names[:4])) + (", ..." if len(self) > 4 else "")
        return f"SweepResult({len(self)} tasks: {shown}; print() shows the table)"


def pid_sweep(
    tasks: Mapping[str, Task] | Sequence[Task],
    *,
    estimator: str | Estimator = "gaussian",
    n_jobs: int = 1,
    client: Any = None,
    random_state: int | None = DEFAULT_SEED,
    progress: bool = True,
    **options: Any,
) -> SweepResult:
    """Run one PID estimator on many ``(x1, x2, y)`` tasks, in parallel if asked.

    Parameters
    ----------
    tasks : mapping of str to (x1, x2, y), or sequence of (x1, x2, y)
        The tasks, named (a sequence is named ``"0"``, ``"1"``, ...). Results keep this order.
    estimator : str or callable
        A name of the registry (``"plugin"``, ``"cluster"``, ``"gaussian"``, ``"copula"``,
        ``"flow"``, ``"batch"``; :func:`~interplay.estimators.list_estimators`) or a function of
        the registry's form ``estimate(x1, x2, y, *, base, random_state, progress, **options)``
        returning a :class:`PIDResult`.
    n_jobs : int
        Local worker processes (joblib, ``loky`` backend); 1 runs in this process, -1 uses every
        core. Each worker gets ``cores // n_jobs`` BLAS/torch threads (at least one), so
        workers x threads never exceed the cores. Ignored when ``client`` is given.
    client : dask.distributed.Client or None
        Run the tasks on this Dask cluster (needs the ``interplay[distributed]`` extra). The
        arrays are scattered to the workers once per task.
    random_state : int or None
        Seed of the sweep. Each task gets its own seed from ``SeedSequence(random_state)``,
        passed as the estimator's ``random_state``, so the results do not depend on ``n_jobs``
        or the cluster. ``None``: every task draws fresh randomness.
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
    function = resolve(estimator)
    seeds = _task_seeds(random_state, len(triples))
    calls = [(triple, {"random_state": seed, "progress": False, **options})
             for triple, seed in zip(triples, seeds, strict=True)]
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
    random_state: int | None = DEFAULT_SEED,
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


def _task_seeds(random_state: Any, count: int) -> list[int | None]:
    if random_state is None:
        return [None] * count
    seed = check_int(random_state, "random_state", minimum=0)
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(count)]


def _groups_and_target(data: Any, target: Any) -> tuple[dict[str, np.ndarray], Any]:
    from ..data.dataset import MultimodalDataset

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
