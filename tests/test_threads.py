"""The thread policy: small work runs with one thread, a user's choice wins, settings come back."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (every BLAS loaded before the tests set their own limits)
from threadpoolctl import threadpool_info, threadpool_limits

from interplay import _threads
from interplay._parallel import run_parallel
from interplay.exceptions import InvalidInputError
from interplay.info.pid import broja, pid


def _blas_threads() -> set[int]:
    """Thread counts of numpy's and scipy's BLAS (other packages may bring a BLAS built for one
    thread, e.g. scs's, which no limit changes)."""
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"
            and ("numpy" in lib["filepath"] or "scipy" in lib["filepath"])}


def _and_pmf() -> np.ndarray:
    p = np.zeros((2, 2, 2))
    for a in (0, 1):
        for b in (0, 1):
            p[a, b, a & b] = 0.25
    return p


@pytest.fixture
def seen_in_broja(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """The BLAS thread counts in force while the BROJA solver works, one set per solve."""
    seen: list[set[int]] = []
    original = broja._solve_reduced

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(broja, "_solve_reduced", spy)
    return seen


def test_solver_runs_single_threaded_and_restores_the_users_blas_setting(seen_in_broja):
    with threadpool_limits(3, user_api="blas"):  # the user's own global choice
        assert _blas_threads() == {3}
        r = pid(_and_pmf())
        assert _blas_threads() == {3}  # given back on exit
    assert seen_in_broja == [{1}]
    assert r.redundancy == pytest.approx(0.311278, abs=1e-6)


def test_a_requested_count_wins_and_is_undone(seen_in_broja):
    with threadpool_limits(3, user_api="blas"):
        with _threads.threads(2):
            pid(_and_pmf())
        pid(_and_pmf())
        assert _blas_threads() == {3}
    assert seen_in_broja == [{2}, {1}]


def test_restored_after_an_error(monkeypatch):
    def fail(*args, **kwargs):
        assert _blas_threads() == {1}
        raise RuntimeError("boom")

    monkeypatch.setattr(broja, "_solve_reduced", fail)
    with threadpool_limits(3, user_api="blas"):
        with pytest.raises(RuntimeError, match="boom"):
            pid(_and_pmf())
        assert _blas_threads() == {3}


def test_nested_limits_keep_the_outer_count():
    with threadpool_limits(3, user_api="blas"):
        with _threads.limit(1):
            with _threads.policy():
                assert _blas_threads() == {1}
            assert _blas_threads() == {1}
        assert _blas_threads() == {3}


@pytest.mark.filterwarnings("ignore:the union information")  # one epoch: a rough estimate
def test_torch_threads_are_limited_and_restored():
    torch = pytest.importorskip("torch")
    from interplay.neural import batch_pid

    before = torch.get_num_threads()
    seen = []
    original = torch.nn.Module.__call__

    try:
        torch.set_num_threads(3)
        torch.nn.Module.__call__ = lambda self, *a, **k: (  # type: ignore[method-assign]
            seen.append(torch.get_num_threads()) or original(self, *a, **k))
        rng = np.random.default_rng(0)
        a, b = rng.integers(0, 2, 600), rng.integers(0, 2, 600)
        batch_pid(a, b, a ^ b, classifier_epochs=1, align_epochs=1, random_state=0,
                  progress=False)
        torch.nn.Module.__call__ = original  # type: ignore[method-assign]
        assert torch.get_num_threads() == 3
        assert seen and set(seen) == {1}
    finally:
        torch.nn.Module.__call__ = original  # type: ignore[method-assign]
        torch.set_num_threads(before)


def test_training_a_small_model_uses_one_torch_thread():
    torch = pytest.importorskip("torch")
    from interplay.training import Task, Trainer

    seen = []

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)

        def forward(self, inputs):
            seen.append(torch.get_num_threads())
            return self.lin(torch.cat([inputs["a"], inputs["b"]], -1))

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        a, b = torch.randn(32, 1), torch.randn(32, 1)
        Trainer(max_epochs=1, progress=False).fit(Task(Net()), ({"a": a, "b": b},
                                                                 (a[:, 0] > 0).long()))
        assert torch.get_num_threads() == 3
        assert seen and set(seen) == {1}
    finally:
        torch.set_num_threads(before)


def test_large_work_gets_half_the_cores(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 8)
    assert _threads.policy_count() == 1
    assert _threads.policy_count(large=True) == 4
    with _threads.threads(6):
        assert _threads.policy_count() == 6
        assert _threads.policy_count(large=True) == 6
    assert _threads.large_columns(np.zeros((10, 1000)), np.zeros((10, 499)), np.zeros(10))
    assert not _threads.large_columns(np.zeros((10, 1000)), np.zeros(10))


def test_workers_share_the_cores(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 8)
    assert [_threads.worker_threads(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    with _threads.threads(3):
        assert _threads.worker_settings(2) == (3, 3)
    with _threads.in_worker((2, None)):
        assert _threads.policy_count(large=True) == 2  # capped by the share
        assert _threads.policy_count() == 1


def test_parallel_workers_run_with_their_share():
    """Two loky workers on this machine: each has cores // 2 BLAS threads (at least one)."""
    share = max(1, _threads.available_cores() // 2)
    outcomes = run_parallel(threadpool_info, [((), {})] * 2, ["a", "b"], n_jobs=2,
                                  progress=False)
    for info, _ in outcomes:
        assert {lib["num_threads"] for lib in info if lib["user_api"] == "blas"} == {share}


@pytest.mark.parametrize("bad", [0, -2, 1.5, "two"])
def test_bad_counts_are_refused(bad):
    with pytest.raises(InvalidInputError, match="threads"):
        with _threads.threads(bad):
            pass


def test_minus_one_means_every_core():
    with _threads.threads(-1):
        assert _threads.policy_count() == _threads.available_cores()


def test_a_failed_parallel_call_raises_without_joblibs_warning():
    import operator
    import warnings

    from interplay.exceptions import InterplayError

    calls = [((1, 0 if i == 0 else 1), {}) for i in range(20)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InterplayError, match="task '0' failed with ZeroDivisionError"):
            run_parallel(operator.truediv, calls, [str(i) for i in range(20)], n_jobs=2,
                         progress=False)
    assert [str(w.message) for w in caught if w.category is UserWarning] == []


def test_a_library_imported_inside_a_limit_is_limited_by_the_next_policy(monkeypatch):
    """The CLI enters the policy before torch is imported; torch's threads must still be 1."""
    torch = pytest.importorskip("torch")
    import sys
    import types

    before = torch.get_num_threads()
    try:
        with _threads.limit(1):
            torch.set_num_threads(3)  # as a library loaded now would start
            monkeypatch.setitem(sys.modules, "_interplay_test_fresh_import",
                                types.ModuleType("_interplay_test_fresh_import"))
            with _threads.policy():
                assert torch.get_num_threads() == 1
                assert _blas_threads() == {1}
    finally:
        torch.set_num_threads(before)


def test_scipys_blas_is_limited_even_when_first_loaded_inside_the_solver():
    """A fresh process: the BROJA solver imports scipy.linalg lazily, inside the limit."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, numpy as np\n"
        "from threadpoolctl import threadpool_info\n"
        "from interplay.info.pid import broja, pid\n"
        "assert 'scipy.linalg' not in sys.modules, 'scipy.linalg loaded too early for this test'\n"
        "seen = []\n"
        "original = broja._solve_reduced\n"
        "def spy(*a, **k):\n"
        "    out = original(*a, **k)\n"
        "    seen.append(sorted({(i['filepath'], i['num_threads']) for i in threadpool_info()\n"
        "                        if i['user_api'] == 'blas'}))\n"
        "    return out\n"
        "broja._solve_reduced = spy\n"
        "pid(np.random.default_rng(0).dirichlet(np.ones(27)).reshape(3, 3, 3))\n"
        "print(json.dumps(seen))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    if "loaded too early" in out.stderr:
        pytest.skip("scipy.linalg is imported with interplay.info.pid here")
    assert out.returncode == 0, out.stderr[-2000:]
    (libraries,) = json.loads(out.stdout.strip().splitlines()[-1])
    assert any("scipy" in path for path, _ in libraries)
    assert {n for _, n in libraries} == {1}
