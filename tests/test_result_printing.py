"""print() of results that hold several PIDs is a short table, not a raw dataclass dump."""

from __future__ import annotations

import numpy as np

from interplay.estimators import pid_sweep
from interplay.info.estimate import cluster_sensitivity


def _tasks():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(3000)
    return {f"task {i}": (y + rng.standard_normal(3000), y + rng.standard_normal(3000), y)
            for i in range(6)}


def test_sweep_result_prints_a_table():
    sweep = pid_sweep(_tasks(), estimator="gaussian", progress=False)
    text = str(sweep)
    lines = text.splitlines()
    assert lines[0].startswith("PID sweep of 6 tasks (broja, ") and lines[0].endswith("bits")
    assert lines[1].split() == ["task", "redundancy", "unique1", "unique2", "synergy", "mi_joint"]
    assert len(lines) == 2 + 6
    assert f"{sweep['task 0'].redundancy:.4f}" in lines[2]
    assert len(repr(sweep)) < 120 and "'task 0'" in repr(sweep) and "..." in repr(sweep)


def test_cluster_sensitivity_prints_a_table_with_the_bias():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 900)
    x1 = y[:, None] + 0.5 * rng.standard_normal((900, 4))
    x2 = rng.standard_normal((900, 4))
    cs = cluster_sensitivity(x1, x2, y, (3, 6), random_state=0)
    lines = str(cs).splitlines()
    assert lines[0] == "Cluster PID by number of clusters (broja) in bits"
    assert lines[1].split()[0] == "clusters" and lines[1].split()[-1] == "bias"
    assert lines[2].split()[0] == "3" and lines[3].split()[0] == "6"
    assert float(lines[2].split()[-1]) == round(cs.bias[0], 4)
    assert repr(cs).startswith("ClusterSensitivity(n_clusters=(3, 6)")
