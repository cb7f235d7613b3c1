"""The library's thread policy: how many BLAS, OpenMP and torch threads its numerical work uses.

Small dense work (the BROJA and Gaussian solvers' Newton systems, bootstrap and permutation
replicates, the small networks of the neural estimators and of most training runs) is made of
many small BLAS/LAPACK calls and small tensor operations. Run with several threads, those calls
spend more time waking and synchronising threads than computing, and when another process keeps
a core busy the threads spin against it: on a 2-core machine under load we measured 10 to 40
times slower runs than with one thread (``docs/benchmarks.md``, ``benchmarks/bench_defaults.py``).
So interplay runs such work with **one thread** unless told otherwise, and large work (a
Gaussian PID with thousands of dimensions, a large network) with half the cores.

Parallel sweeps and bootstraps (``n_jobs``) give each worker process at most
``cores // n_jobs`` threads (at least one), so workers x threads never exceed the cores.

Every limit is a context: the thread counts a user set (``threadpoolctl``,
``torch.set_num_threads``, environment variables) are restored when interplay's call returns.
The limits are process-wide while a call runs; two Python threads calling interplay at once
share them.

Use :func:`threads` to choose another count, e.g. for large problems on a many-core machine::

    with interplay.threads(8):
        interplay.gaussian_pid(cov, sizes=(1000, 1000, 1))

The command line's ``--threads N`` does the same for one command.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np

from ._validation import check_int
from .exceptions import InvalidInputError

__all__ = [
    "LARGE_DIMENSION",
    "LARGE_PARAMETERS",
    "available_cores",
    "check_threads",
    "in_worker",
    "large_columns",
    "large_model",
    "limit",
    "policy",
    "policy_count",
    "sized_work",
    "small_work",
    "threads",
    "worker_settings",
    "worker_threads",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The count a user asked for with :func:`threads` (None: the policy decides).
_REQUEST: ContextVar[int | None] = ContextVar("interplay_threads_request", default=None)
#: An upper bound on threads, set in a parallel worker (None: no bound).
_CAP: ContextVar[int | None] = ContextVar("interplay_threads_cap", default=None)
#: The count the enclosing limit applied and how many modules were loaded then (None: no limit
#: is active). A library loaded since (torch, scikit-learn's OpenMP) is not limited yet.
_ACTIVE: ContextVar[tuple[int, int] | None] = ContextVar("interplay_threads_active",
                                                         default=None)

#: Dense work with this many columns (a covariance of this order) or more counts as large.
LARGE_DIMENSION = 1500

#: A network with this many parameters or more counts as large (the fusion models of the
#: example configs have 10^4 to 10^5).
LARGE_PARAMETERS = 5_000_000

_controller: Any = None
_modules_seen = -1


def available_cores() -> int:
    """The number of CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Run interplay's numerical work in this block with ``n`` threads.

    Parameters
    ----------
    n : int or None
        Threads for BLAS/LAPACK, OpenMP and torch inside interplay's calls: a positive count,
        ``-1`` for every available core, or None for the default policy (one thread for small
        dense work, half the cores for large work).

    Raises
    ------
    InvalidInputError
        When ``n`` is not a positive integer, -1 or None.

    Examples
    --------
    >>> import numpy as np
    >>> import interplay
    >>> with interplay.threads(2):        # the solver runs with 2 threads here
    ...     r = interplay.pid(np.full((2, 2, 2), 1 / 8))
    >>> round(r.mi_joint, 6)
    0.0
    """
    token = _REQUEST.set(check_threads(n))
    try:
        yield
    finally:
        _REQUEST.reset(token)


def check_threads(n: Any, name: str = "threads") -> int | None:
    """``n`` as a thread count: None, a positive integer, or -1 (every core)."""
    if n is None:
        return None
    count = check_int(n, name)
    if count == -1:
        return available_cores()
    if count < 1:
        raise InvalidInputError(
            f"`{name}` must be a positive integer, -1 (every core) or None, got {count}."
        )
    return count


def worker_threads(n_workers: int) -> int:
    """Threads each of ``n_workers`` parallel workers may use: ``cores // n_workers``, >= 1.

    A count requested with :func:`threads` is honoured when it is smaller.
    """
    share = max(1, available_cores() // max(1, n_workers))
    request = _REQUEST.get()
    return share if request is None else min(request, share)


def worker_settings(n_workers: int) -> tuple[int, int | None]:
    """What a parallel worker needs to apply the policy: its share of the cores and the
    count requested with :func:`threads` here (context variables do not cross processes)."""
    return worker_threads(n_workers), _REQUEST.get()


@contextmanager
def in_worker(settings: tuple[int, int | None]) -> Iterator[None]:
    """Apply :func:`worker_settings` inside a worker: at most its share of threads."""
    share, request = settings
    token = _REQUEST.set(request)
    try:
        with limit(share, cap=share):
            yield
    finally:
        _REQUEST.reset(token)


@contextmanager
def limit(count: int | None, *, cap: int | None = None) -> Iterator[None]:
    """Limit BLAS/OpenMP (threadpoolctl) and torch's intra-op threads to ``count`` in this block.

    ``count`` None leaves the threads as they are. ``cap``, when given, also bounds the counts
    that policies inside the block choose (used in parallel workers). Everything is restored on
    exit. A nested limit with the count already in force costs nothing, unless modules were
    imported since (they may have loaded a thread pool: torch, scikit-learn's OpenMP).
    """
    cap_token = _CAP.set(cap) if cap is not None else None
    try:
        if count is None or _ACTIVE.get() == (count, len(sys.modules)):
            yield
            return
        with _blas_limit(count), _torch_limit(count):
            token = _ACTIVE.set((count, len(sys.modules)))
            try:
                yield
            finally:
                _ACTIVE.reset(token)
    finally:
        if cap_token is not None:
            _CAP.reset(cap_token)


def policy_count(large: bool = False) -> int:
    """The thread count the policy gives work of this kind.

    Small work: 1. Large work: half the cores (at least 1), which keeps most of the speed-up
    of parallel BLAS on an idle many-core machine while leaving room for other processes (on a
    2-core machine that is 1: two threads ran 10 to 20 times slower there under load).
    """
    request = _REQUEST.get()
    if request is not None:
        count = request
    else:
        count = max(1, available_cores() // 2) if large else 1
    cap = _CAP.get()
    return count if cap is None else min(count, cap)


@contextmanager
def policy(large: bool = False) -> Iterator[None]:
    """The thread policy for one piece of work: small (one thread) unless ``large``.

    A count chosen with :func:`threads` wins; inside a parallel worker, its share of the cores
    bounds the count.
    """
    with limit(policy_count(large)):
        yield


def small_work(function: F) -> F:
    """Decorate a function that runs small dense work: it runs under :func:`policy`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with policy():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def sized_work(is_large: Callable[..., bool]) -> Callable[[F], F]:
    """Decorate a function whose work is large when ``is_large(*args, **kwargs)`` is true."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with policy(large=bool(is_large(*args, **kwargs))):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def large_columns(*arrays: Any) -> bool:
    """Whether arrays of these shapes make large dense work: ``LARGE_DIMENSION`` columns or more.

    A 1-D array counts as one column, an array of shape ``(n, a, b)`` as ``a * b``; something
    without a shape counts as none (its validation reports it later).
    """
    total = 0
    for a in arrays:
        try:
            shape = np.shape(a)
        except ValueError:
            continue
        total += 1 if len(shape) == 1 else int(np.prod(shape[1:], dtype=np.int64))
    return total >= LARGE_DIMENSION


def large_model(module: Any) -> bool:
    """Whether a torch module is large: ``LARGE_PARAMETERS`` parameters or more."""
    return sum(int(p.numel()) for p in module.parameters()) >= LARGE_PARAMETERS


def _thread_controller() -> Any:
    """A cached :class:`threadpoolctl.ThreadpoolController`, refreshed after new imports.

    Building one scans the loaded libraries (about 2 ms); a library loaded later (scipy's
    OpenBLAS, torch's OpenMP) comes with an import, so a changed ``sys.modules`` triggers a scan.
    """
    global _controller, _modules_seen
    if _controller is None or len(sys.modules) != _modules_seen:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
        _modules_seen = len(sys.modules)
    return _controller


@contextmanager
def _blas_limit(count: int) -> Iterator[None]:
    # scipy.linalg brings its own OpenBLAS; the solvers import it lazily, inside the limit,
    # where a library loaded late would escape it. Load it first (the work needs it anyway).
    import scipy.linalg  # noqa: F401

    # threadpoolctl's own limit reads every library's full description twice per call; the
    # counts alone suffice, and a library already at ``count`` (the usual case) is left alone.
    changed = []
    try:
        for lib in _thread_controller().lib_controllers:
            before = lib.get_num_threads()
            if before != count:
                lib.set_num_threads(count)
                changed.append((lib, before))
        yield
    finally:
        for lib, before in reversed(changed):
            if before is not None:
                lib.set_num_threads(before)


@contextmanager
def _torch_limit(count: int) -> Iterator[None]:
    torch = sys.modules.get("torch")
    if torch is None:  # torch is never imported here: work that uses it has imported it
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
