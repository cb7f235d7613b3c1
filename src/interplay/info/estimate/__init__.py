"""PID and information estimates from samples: plug-in, bootstrap, permutation tests, clusters."""

from .cluster import ClusterSensitivity, cluster_pid, cluster_sensitivity
from .plugin import quantify

__all__ = ["ClusterSensitivity", "cluster_pid", "cluster_sensitivity", "quantify"]
