"""PID estimates from samples with numpy/scipy: the plug-in estimator (with bootstrap, bias
correction and permutation tests), the cluster PID and the Gaussian copula.

The front door that picks and runs an estimator is :func:`interplay.quantify`
(:mod:`interplay.estimators`); the functions here are the estimators it calls.
"""

from .cluster import ClusterSensitivity, cluster_pid, cluster_sensitivity
from .copula import copula_pid
from .plugin import plugin_pid

__all__ = [
    "ClusterSensitivity",
    "cluster_pid",
    "cluster_sensitivity",
    "copula_pid",
    "plugin_pid",
]
