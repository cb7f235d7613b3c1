"""print() of results that hold several PIDs is a short table, not a raw dataclass dump."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_robustness_result_prints_a_table():
    from interplay.analysis import robustness_sweep

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)

    def xor(inputs, mask):
        return (np.rint(inputs["a"]).astype(int) ^ np.rint(inputs["b"]).astype(int))

    r = robustness_sweep(xor, {"a": a, "b": b}, a ^ b, noise_levels=(0, 1), random_state=0)
    lines = str(r).splitlines()
    assert lines[0].startswith("Robustness (accuracy, 1000 samples): clean 1.000")
    assert lines[1].split() == ["modality", "dropped", "noise", "0", "noise", "1"]
    assert [ln.split()[0] for ln in lines[2:]] == ["a", "b"]
    assert lines[2].split()[2] == f"{r.noisy['a'][0]:.3f}"
    assert repr(r).startswith("RobustnessResult(accuracy: clean 1")


def test_train_result_prints_a_summary():
    torch = pytest.importorskip("torch")
    from interplay.training import Task, Trainer

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)

        def forward(self, inputs):
            return self.lin(torch.cat([inputs["a"], inputs["b"]], -1))

    a, b = torch.randn(32, 1), torch.randn(32, 1)
    data = ({"a": a, "b": b}, (a[:, 0] > 0).long())
    result = Trainer(max_epochs=2, progress=False).fit(Task(Net()), data, data)
    text = str(result)
    assert text.startswith("TrainResult: 2 epochs, best val_loss=")
    assert "val_accuracy=" in text.splitlines()[1]
    assert "history" not in repr(result) and len(repr(result)) < 120
