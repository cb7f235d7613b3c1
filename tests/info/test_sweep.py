"""PID sweeps: serial, joblib and Dask give the same results in the same order; errors named."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from interplay.data.gaussian import markov_chain, noisy_copies, sample_gaussian
from interplay.data.latent import make_latent_blocks
from interplay.estimators import SweepResult, get_estimator, pairwise_pid, pid_sweep
from interplay.estimators.sweep import resolve
from interplay.exceptions import InterplayError, InvalidInputError, SmallSampleWarning

ATOMS = ("redundancy", "unique1", "unique2", "synergy")


@pytest.fixture(scope="module")
def gaussian_tasks():
    return {
        "copies rho=0": sample_gaussian(noisy_copies(0.0), 3000, random_state=0),
        "copies rho=0.9": sample_gaussian(noisy_copies(0.9), 3000, random_state=1),
        "chain": sample_gaussian(markov_chain(1.0), 3000, random_state=2),
    }


@pytest.fixture(scope="module")
def cluster_tasks():
    """Cluster PID is randomised (k-means): the per-task seeds must make it reproducible."""
    tasks = {}
    for i, (sh, syn) in enumerate(((1, 0), (0, 1))):
        ds, _ = make_latent_blocks(600, shared=sh, unique1=0, unique2=0, synergy=syn,
                                   nuisance=0, dims=(4, 4), random_state=i)
        tasks[f"blocks {i}"] = (ds.modalities["x1"], ds.modalities["x2"], ds.target)
    return tasks


def values(sweep: SweepResult) -> np.ndarray:
    return np.array([[getattr(r, a) for a in (*ATOMS, "mi_joint")] for r in sweep])


def run(tasks, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return pid_sweep(tasks, progress=False, **kwargs)


def test_serial_sweep_matches_the_oracles_in_order(gaussian_tasks):
    sweep = run(gaussian_tasks, estimator="gaussian")
    assert sweep.names == tuple(gaussian_tasks)
    assert sweep["copies rho=0"].synergy == pytest.approx(0.29248, abs=0.03)
    assert sweep["copies rho=0.9"].synergy == pytest.approx(0.01874, abs=0.03)
    assert sweep["chain"].redundancy == pytest.approx(0.29248, abs=0.03)
    frame = sweep.to_frame()
    assert list(frame.index) == list(gaussian_tasks)
    assert frame.loc["chain", "unique1"] == sweep["chain"].unique1


def test_joblib_two_processes_equal_serial(cluster_tasks):
    serial = run(cluster_tasks, estimator="cluster", n_clusters=4, random_state=7)
    parallel = run(cluster_tasks, estimator="cluster", n_clusters=4, random_state=7, n_jobs=2)
    assert parallel.names == serial.names
    np.testing.assert_allclose(values(parallel), values(serial), rtol=0, atol=1e-12)
    # and the estimates are right: 1 bit of redundancy, then 1 bit of synergy
    assert serial["blocks 0"].redundancy == pytest.approx(1.0, abs=0.05)
    assert serial["blocks 1"].synergy == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("processes", [
    False,  # workers in this process: the Dask path (scatter, submit, errors) in seconds
    pytest.param(True, marks=pytest.mark.slow),  # worker processes: pickling as well
])
def test_dask_local_cluster_equals_serial(cluster_tasks, processes):
    distributed = pytest.importorskip("dask.distributed")
    serial = run(cluster_tasks, estimator="cluster", n_clusters=4, random_state=7)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = run(cluster_tasks, estimator="cluster", n_clusters=4, random_state=7,
                      client=client)
        bad = {"good": cluster_tasks["blocks 0"], "bad": (np.ones(5), np.ones(5), np.ones(4))}
        with pytest.raises(InvalidInputError, match="task 'bad' failed"):
            run(bad, estimator="cluster", n_clusters=4, client=client)
    assert on_dask.names == serial.names
    np.testing.assert_allclose(values(on_dask), values(serial), rtol=0, atol=1e-12)


def test_seed_changes_a_randomised_estimate_and_fixes_it(cluster_tasks):
    a = run(cluster_tasks, estimator="cluster", n_clusters=12, random_state=1)
    b = run(cluster_tasks, estimator="cluster", n_clusters=12, random_state=1)
    c = run(cluster_tasks, estimator="cluster", n_clusters=12, random_state=2)
    np.testing.assert_array_equal(values(a), values(b))
    assert not np.array_equal(values(a), values(c))


def test_errors_are_reraised_with_the_task_name(gaussian_tasks):
    bad = {"fine": gaussian_tasks["chain"], "short y": (np.ones(10), np.ones(10), np.ones(9))}
    for n_jobs in (1, 2):
        with pytest.raises(InvalidInputError, match="task 'short y' failed: .*same number"):
            run(bad, estimator="gaussian", n_jobs=n_jobs)

    def broken(x1, x2, y, **_):
        raise RuntimeError("boom")

    with pytest.raises(InterplayError, match="task '0' failed with RuntimeError: boom"):
        run([gaussian_tasks["chain"]], estimator=broken)


def test_task_warnings_are_reemitted_with_the_task_name():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 6, 60), rng.integers(0, 6, 60)
    with pytest.warns(SmallSampleWarning, match="task 'tiny'"):
        pid_sweep({"tiny": (a, b, (a + b) % 6)}, estimator="discrete", progress=False)


def test_pairwise_pid_over_a_dataset_and_over_groups():
    ds, truth = make_latent_blocks(3000, shared=1, unique1=1, unique2=1, synergy=0,
                                   nuisance=0, random_state=0)
    from interplay.data import MultimodalDataset

    x3 = ds.modalities["x1"][:, :3] + 0.0
    three = MultimodalDataset({**dict(ds.modalities), "x3": x3}, targets={"y": ds.target})
    sweep = pairwise_pid(three, estimator="cluster", n_clusters=4, n_components=None,
                         random_state=0, progress=False)
    assert sweep.names == ("x1, x2", "x1, x3", "x2, x3")
    assert sweep["x1, x2"].redundancy == pytest.approx(truth["redundancy"], abs=0.05)
    only_x12 = pairwise_pid(dict(ds.modalities), ds.target, estimator="copula", progress=False)
    assert only_x12.names == ("x1, x2",)
    assert set(only_x12.to_dict()) >= {"task", *ATOMS, "mi_joint", "estimator"}


def test_bootstrap_intervals_appear_in_the_table(cluster_tasks):
    sweep = run(cluster_tasks, estimator="cluster", n_clusters=4, n_bootstrap=20,
                random_state=0)
    table = sweep.to_dict()
    for i, r in enumerate(sweep):
        assert (table["synergy_low"][i], table["synergy_high"][i]) == r.ci["synergy"]
        assert table["synergy_low"][i] <= table["synergy_high"][i]


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"tasks": {}}, InvalidInputError, "`tasks` is empty"),
    ({"tasks": "abc"}, InvalidInputError, "`tasks` must be a mapping"),
    ({"tasks": {"a": (1, 2)}}, InvalidInputError, "task 'a' must be an \\(x1, x2, y\\) triple"),
    ({"estimator": "kde"}, InvalidInputError, "`estimator` must be one of"),
    ({"n_jobs": 0}, InvalidInputError, "`n_jobs` must be a positive integer or -1"),
    ({"client": "tcp://x"}, InvalidInputError, "`client` must be a dask.distributed.Client"),
    ({"random_state": -3}, InvalidInputError, "`random_state` must be >= 0"),
])
def test_bad_arguments(gaussian_tasks, kwargs, error, message):
    args = {"tasks": gaussian_tasks, **kwargs}
    with pytest.raises(error, match=message):
        pid_sweep(args.pop("tasks"), progress=False, **args)


def test_pairwise_bad_arguments():
    groups = {"a": np.zeros((5, 2)), "b": np.zeros((5, 2))}
    with pytest.raises(InvalidInputError, match="`target` must be the target array"):
        pairwise_pid(groups, "y")
    with pytest.raises(InvalidInputError, match="not one of a, b"):
        pairwise_pid(groups, np.zeros(5), modalities=["a", "c"])
    with pytest.raises(InvalidInputError, match="at least two modalities"):
        pairwise_pid(groups, np.zeros(5), modalities=["a"])
    with pytest.raises(InvalidInputError, match="`data` must be a MultimodalDataset"):
        pairwise_pid([1, 2], np.zeros(2))


def test_named_estimators_resolve():
    from interplay.estimators.registry import copula_estimator
    from interplay.info.estimate.copula import copula_pid

    assert get_estimator("copula").load() is copula_estimator
    assert resolve(copula_pid) is copula_pid
    assert get_estimator("discrete").name == "plugin"  # the command line's alias


def test_a_client_without_dask_installed_names_the_extra(gaussian_tasks, monkeypatch):
    import sys

    from interplay.exceptions import MissingDependencyError

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import now fails
    with pytest.raises(MissingDependencyError, match=r"interplay\[distributed\]"):
        pid_sweep(gaussian_tasks, client=object(), progress=False)
