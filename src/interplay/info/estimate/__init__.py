"""PID and information estimates from samples: plug-in, bootstrap, permutation tests, clusters,
and parallel sweeps over many pairs."""

from .bootstrap import bootstrap_pid
from .cluster import ClusterSensitivity, cluster_pid, cluster_sensitivity
from .plugin import quantify
from .sweep import SweepResult, pairwise_pid, pid_sweep

__all__ = [
    "ClusterSensitivity",
    "SweepResult",
    "bootstrap_pid",
    "cluster_pid",
    "cluster_sensitivity",
    "pairwise_pid",
    "pid_sweep",
    "quantify",
]
