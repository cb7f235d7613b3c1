"""The alignment metrics by name, as the command line and the sweeps look them up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._validation import check_choice
from .cka import cka, cknna, svcca
from .knn import chance_mutual_knn, cycle_knn, edit_distance_knn, lcs_knn, mutual_knn


def _debiased_cka(a: Any, b: Any, **options: Any) -> float:
    return cka(a, b, debiased=True, **options)


def _rbf_cka(a: Any, b: Any, **options: Any) -> float:
    return cka(a, b, kernel="rbf", **options)


#: name -> (function, takes k, what a score means by chance).
METRICS: dict[str, tuple[Callable[..., float], bool, str]] = {
    "mutual_knn": (mutual_knn, True, "k/(n-1)"),
    "cycle_knn": (cycle_knn, True, "permutation"),
    "lcs_knn": (lcs_knn, True, "permutation"),
    "edit_distance_knn": (edit_distance_knn, True, "permutation"),
    "cknna": (cknna, True, "about 0"),
    "cka": (cka, False, "grows with d/n (biased)"),
    "debiased_cka": (_debiased_cka, False, "about 0"),
    "rbf_cka": (_rbf_cka, False, "permutation"),
    "svcca": (svcca, False, "permutation"),
}


def list_metrics() -> list[str]:
    """Names of the alignment metrics, in a fixed order.

    Examples
    --------
    >>> list_metrics()[:2]
    ['mutual_knn', 'cycle_knn']
    """
    return list(METRICS)


def metric_function(name: str) -> Callable[..., float]:
    """The function of a metric name (see :func:`list_metrics`)."""
    return METRICS[check_choice(name, "metric", tuple(METRICS))][0]


def takes_k(name: str) -> bool:
    """Whether the metric ``name`` has a neighbour count ``k``."""
    return METRICS[check_choice(name, "metric", tuple(METRICS))][1]


def analytic_chance(name: str, n: int, k: int | None) -> float | None:
    """Closed-form chance level of a metric where one exists (mutual-kNN, debiased CKA)."""
    if name == "mutual_knn" and k is not None:
        return chance_mutual_knn(n, k)
    if name in ("debiased_cka", "cknna"):
        return 0.0
    return None


__all__ = ["METRICS", "analytic_chance", "list_metrics", "metric_function", "takes_k"]
