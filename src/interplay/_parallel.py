"""Run many independent calls serially, on local processes (joblib ``loky``) or on Dask.

Used by the sweeps and the bootstrap of :mod:`interplay.estimators`: each call's warnings are
collected where it ran and handed back, and a failing call is re-raised with its name.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ._progress import progress_bar
from ._threads import available_cores, in_worker, worker_settings
from ._validation import check_int
from .exceptions import InterplayError, InvalidInputError, MissingDependencyError

__all__ = ["check_n_jobs", "run_parallel"]


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
    jobs = check_n_jobs(n_jobs)
    total = len(calls)
    with progress_bar(not progress) as bar:
        task = bar.add_task(label, total=total)
        if client is not None:
            stream = _on_dask(client, function, calls)
        elif jobs == 1:
            stream = (_guarded(function, args, kwargs) for args, kwargs in calls)
        else:
            joblib = importlib.import_module("joblib")
            settings = worker_settings(jobs if jobs > 0 else available_cores())
            stream = joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator")(
                joblib.delayed(_in_worker)(settings, function, args, kwargs)
                for args, kwargs in calls
            )
        outcomes = []
        for name, (ok, value, caught) in zip(names, stream, strict=True):
            if not ok:
                _close_quietly(stream)
                _reraise(name, value)
            outcomes.append((value, caught))
            bar.advance(task)
    return outcomes


def _in_worker(settings: tuple[int, int | None], function: Callable[..., Any],
               args: tuple[Any, ...], kwargs: dict[str, Any]
               ) -> tuple[bool, Any, list[tuple[type[Warning], str]]]:
    """:func:`_guarded` in a worker process with its share of the cores as BLAS/OpenMP/torch
    threads (:func:`interplay._threads.worker_settings`): workers x threads <= cores."""
    with in_worker(settings):
        return _guarded(function, args, kwargs)


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


def _close_quietly(stream: Any) -> None:
    """Stop a joblib stream after a failed call, without joblib's warning that the remaining
    tasks were cancelled (the error that stops the run says what happened)."""
    close = getattr(stream, "close", None)
    if close is None:
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*tasks .*(cancelled|not used)",
                                category=UserWarning)
        close()


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


def check_dask_client(client: Any) -> None:
    """Refuse anything but a ``dask.distributed.Client`` (and say which extra Dask needs)."""
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


def _on_dask(client: Any, function: Callable[..., Any],
             calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]]) -> Iterator[Any]:
    check_dask_client(client)
    futures = [
        client.submit(_guarded, function, client.scatter(list(args)), kwargs, pure=False)
        for args, kwargs in calls
    ]
    return (future.result() for future in futures)


def check_n_jobs(n_jobs: Any) -> int:
    """``n_jobs`` as an int: a positive number of processes, or -1 for every core."""
    jobs = check_int(n_jobs, "n_jobs")
    if jobs == 0 or jobs < -1:
        raise InvalidInputError(
            f"`n_jobs` must be a positive integer or -1 (all cores), got {jobs}."
        )
    return jobs
